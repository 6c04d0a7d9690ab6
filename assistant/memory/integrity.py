"""Is the documents collection what the manifest says, and putting it right after a kill.

Owns the two checks behind ``assistant memory check`` and the start of every ingest:

* :func:`integrity` lists what is wrong: chunks of a file the manifest does not list, chunks
  of a version that is neither the file's ingested one nor one being ingested, an ingested
  file with chunks missing, a chunk stored twice, an empty fact. A version marked pending
  (an ingest that was killed) is no problem: the manifest knows it is coming.
* :func:`repair` removes what a killed ingest left (pending versions, chunks of old versions
  or of unknown files), so that every complete file has exactly its chunks and the files to
  redo are simply not in the manifest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from assistant.memory.store import MemoryStore


@dataclass(frozen=True)
class Repaired:
    path: str
    chunks: int
    """Chunks removed: an unfinished or old version of the file, or of a file not listed."""


def integrity(store: MemoryStore) -> list[str]:
    """One line per problem found (empty: every chunk belongs to a file version the manifest
    lists, every ingested file has all its chunks, nothing is stored twice)."""
    manifest = store.manifest()
    pending = set(store.pending())
    positions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _, path, sha, position in store.chunk_rows():
        positions[(path, sha)].append(position)
    problems: list[str] = []
    for (path, sha), found in sorted(positions.items()):
        twice = [p for p, n in Counter(found).items() if n > 1]
        if twice:
            problems.append(f"{path}: chunk {twice[0]} stored {Counter(found)[twice[0]]} "
                            f"times ({len(twice)} such)")
        if (path, sha) in pending:
            continue
        if path not in manifest:
            problems.append(f"{path}: {len(found)} chunks of a file the manifest does not "
                            "list")
        elif manifest[path][0] != sha:
            problems.append(f"{path}: {len(found)} chunks of a version that is not the "
                            "ingested one")
    for path, (sha, chunks) in sorted(manifest.items()):
        have = set(positions.get((path, sha), []))
        missing = [p for p in range(chunks) if p not in have]
        extra = sorted(p for p in have if not 0 <= p < chunks)
        if missing:
            problems.append(f"{path}: {len(missing)} of its {chunks} chunks missing "
                            f"(from chunk {missing[0]})")
        if extra:
            problems.append(f"{path}: chunk {extra[0]} beyond its {chunks} chunks")
    empty = sum(1 for fact in store.facts() if not fact.text.strip())
    if empty:
        problems.append(f"{empty} facts without text")
    return problems


def repair(store: MemoryStore) -> list[Repaired]:
    """Remove what a killed ingest left behind; returns what was removed, per file."""
    pending = store.pending()
    manifest = store.manifest()
    removed: Counter[str] = Counter()
    stray: list[str] = []
    for rid, path, sha, _ in store.chunk_rows():
        if (path, sha) in pending:
            removed[path] += 1
        elif manifest.get(path, ("", 0))[0] != sha:
            stray.append(rid)
            removed[path] += 1
    for path, sha in pending:
        store.drop_unfinished(path, sha)
        removed.setdefault(path, 0)  # a pending mark with no chunks yet is repaired too
    if stray:
        store.delete_chunks(stray)
    return [Repaired(path, n) for path, n in sorted(removed.items())]
