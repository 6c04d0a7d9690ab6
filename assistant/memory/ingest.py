"""``assistant memory ingest``: files and folders → chunks in the documents collection.

Owns the walk, change detection and failure isolation: unchanged files (same size and mtime,
or same sha256) are skipped, changed files are re-chunked, files that disappeared from an
ingested folder are removed, and a file that cannot be read is reported and skipped without
touching anything already stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.memory.chunking import chunk_sections
from assistant.memory.readers import SUFFIXES, UnreadableFile, read_sections
from assistant.memory.store import MemoryStore


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(path, one-line reason) of each file that could not be ingested."""
    chunks: int = 0
    """Chunks written (added and updated files)."""

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.removed)} removed",
                 f"{len(self.failed)} failed", f"{self.chunks} chunks written"]
        return ", ".join(parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[tuple[str, str]]]:
    """(files to ingest, folders walked, problems) for the paths named on the command line.
    Named files are taken whatever their type (an unsupported one is then reported); inside
    folders only supported types are picked up, hidden files and folders are left out."""
    files: list[Path] = []
    folders: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        path = raw.expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            files += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            files.append(path)
        else:
            problems.append((str(raw), "no such file or folder"))
    return list(dict.fromkeys(files)), folders, problems


def ingest(store: MemoryStore, paths: Iterable[Path], *, chunk_words: int = 120,
           overlap_words: int = 25,
           on_file: Callable[[Path, int, int], None] | None = None) -> IngestReport:
    """Bring the store up to date with ``paths``. ``on_file(path, done, total)`` is called
    before each file (for a progress bar)."""
    files, folders, problems = collect(paths)
    report = IngestReport(failed=problems)
    for done, path in enumerate(files):
        if on_file:
            on_file(path, done, len(files))
        key = str(path)
        try:
            stat = path.stat()
            known = store.file_state(key)
            if known and known[1] == stat.st_size and known[2] == stat.st_mtime:
                report.unchanged.append(key)
                continue
            sha = _sha256(path)
            if known and known[0] == sha:
                report.unchanged.append(key)
                continue
            chunks = chunk_sections(read_sections(path), chunk_words, overlap_words)
        except UnreadableFile as exc:
            report.failed.append((key, str(exc).removeprefix(f"{path}: ")))
            continue
        except OSError as exc:
            report.failed.append((key, f"cannot read ({exc.strerror or exc})"))
            continue
        store.replace_file(key, chunks, sha, stat.st_size, stat.st_mtime)
        (report.updated if known else report.added).append(key)
        report.chunks += len(chunks)
    if on_file:
        on_file(Path(), len(files), len(files))
    wanted = {str(f) for f in files}
    for known_path in store.files():
        inside = any(Path(known_path).is_relative_to(folder) for folder in folders)
        if inside and known_path not in wanted and not Path(known_path).exists():
            store.remove_file(known_path)
            report.removed.append(known_path)
    return report
