"""Rebuilding a store that chromadb can no longer read, from what its files still hold.

A SIGKILL at the wrong moment (or a disk fault) can leave chromadb unable to open or search
its own folder: "Failed to apply logs to the hnsw segment writer", "database disk image is
malformed". The records themselves live in chromadb's SQLite file (each record's id, text
and metadata in ``embeddings`` / ``embedding_metadata``), which often still reads when the
vector index does not, and can be read row by row past damaged pages when it does not read
whole. :func:`rebuild` moves the damaged ``chroma`` folder aside (never deleting it), reads
every record it can, and writes them into a fresh one (embeddings made again, most of them
from the embedding cache). Behind ``assistant memory check --repair``.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.memory.records import COLLECTIONS, collection_of
from assistant.memory.store import MemoryStore

DOCUMENT_KEY = "chroma:document"
"""The metadata key under which chromadb keeps a record's text."""
_BY_ROW = """SELECT e.embedding_id, m.key, m.string_value, m.int_value, m.float_value,
                    m.bool_value
             FROM embeddings e JOIN embedding_metadata m ON m.id = e.id"""
"""Only the two tables that hold the records: a record's collection is in its own id
(``m-`` facts, ``d-`` chunks), so chromadb's damaged bookkeeping is not needed."""


@dataclass
class Salvaged:
    """What could be read back, per collection: ids, texts and metadata, in step."""

    records: dict[str, list[tuple[str, str, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list))
    unreadable: int = 0
    """Rows of the damaged file that could not be read, or records left without text: what
    is lost."""
    aside: Path | None = None
    """Where the damaged folder was moved."""

    def count(self, name: str) -> int:
        return len(self.records.get(name, []))


def _value(row: tuple[Any, ...]) -> Any:
    string, integer, real, boolean = row[2:6]
    if string is not None:
        return string
    if boolean is not None:
        return bool(boolean)
    return integer if integer is not None else real


def read_records(chroma_sqlite: Path) -> Salvaged:
    """Every record chromadb's SQLite file still yields; rows past damaged pages are read one
    record at a time, and those that fail are counted."""
    out = Salvaged()
    fields: dict[str, dict[str, Any]] = defaultdict(dict)
    db = sqlite3.connect(f"file:{chroma_sqlite}?mode=ro", uri=True)
    try:
        try:
            rows = db.execute(_BY_ROW).fetchall()
        except sqlite3.DatabaseError:
            rows = []
            try:
                last = db.execute("SELECT max(id) FROM embeddings").fetchone()[0] or 0
            except sqlite3.DatabaseError:
                last = 0
                out.unreadable += 1
            for rowid in range(1, last + 1):
                try:
                    rows += db.execute(_BY_ROW + " WHERE e.id = ?", (rowid,)).fetchall()
                except sqlite3.DatabaseError:
                    out.unreadable += 1
        for row in rows:
            fields[row[0]][row[1]] = _value(row)
    finally:
        db.close()
    for rid, meta in sorted(fields.items()):
        text = meta.pop(DOCUMENT_KEY, None)
        if isinstance(text, str) and text.strip():
            out.records[collection_of(rid)].append((rid, text, meta))
        else:
            out.unreadable += 1
    return out


def rebuild(folder: Path, model: Path) -> Salvaged:
    """Move ``folder``'s chromadb files aside, read their records, write them into a fresh
    store (``model`` is the embedding model's folder); returns what was read."""
    chroma = folder / "chroma"
    salvaged = read_records(chroma / "chroma.sqlite3") if (chroma / "chroma.sqlite3").exists() \
        else Salvaged()
    aside = folder / f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    chroma.rename(aside)
    salvaged.aside = aside
    with MemoryStore(folder, model) as store:
        for name in COLLECTIONS:
            rows = salvaged.records.get(name, [])
            if rows:
                store.restore(name, [r[0] for r in rows], [r[1] for r in rows],
                              [r[2] for r in rows])
    return salvaged
