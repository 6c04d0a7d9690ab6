"""What the memory store holds and hands out, and how it fails: its records, search hits,
collection names and errors.

Apart from :mod:`assistant.memory.store` (which loads chromadb, ~2 s) so that code that only
reads records, hits or the errors need not load it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant import AssistantError

Collection = Literal["memory", "documents"]
COLLECTIONS: tuple[Collection, ...] = ("memory", "documents")
Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["relative", "rrf"]


def reason(exc: BaseException) -> str:
    """A write's failure as a short phrase ("disk full" rather than a Rust backtrace)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    if any(mark in text.lower() for mark in ("no space", "disk is full", "disk full",
                                             "file too large", "database or disk")):
        return "the disk is full"
    if "disk i/o error" in text.lower():
        return "a write failed (disk I/O error: is the disk full?)"
    return text[:160] or type(exc).__name__


class StoreBusy(AssistantError):
    """Another process has the memory store open."""


class StoreError(AssistantError):
    """The memory store cannot be opened or written."""


class StoreDamaged(StoreError):
    """chromadb cannot read its own files (a kill at the wrong moment, a disk fault):
    ``assistant memory check --repair`` rebuilds them (:mod:`assistant.memory.salvage`)."""


def damaged(folder: Path, exc: BaseException) -> StoreDamaged:
    return StoreDamaged(f"memory: the store in {folder} is damaged ({reason(exc)}); "
                        "`assistant memory check --repair` rebuilds it from what can still "
                        "be read")


@dataclass(frozen=True)
class Record:
    id: str
    """``m-…`` for a fact, ``d-…`` for a document chunk."""
    text: str
    collection: Collection
    source: str
    """For a fact, how it was told (chat, voice, cli); for a chunk, the file's path."""
    created: float
    updated: float
    heading: str = ""
    """The chunk's section heading (documents only)."""
    position: int = 0
    """The chunk's index within its file (documents only)."""

    @property
    def attribution(self) -> str:
        """Where this came from, as a phrase for a spoken answer."""
        return self.origin + (f" ({self.heading})" if self.heading else "")

    @property
    def origin(self) -> str:
        """The file (or the day it was told) without the section."""
        if self.collection == "memory":
            day = time.strftime("%d %B", time.localtime(self.created)).lstrip("0")
            return f"what you told me on {day}"
        name = Path(self.source).stem.replace("_", " ").replace("-", " ")
        return f"your note on {name}"


@dataclass(frozen=True)
class Hit:
    record: Record
    score: float
    """Fused score (reciprocal rank fusion in hybrid mode); higher is better."""
    similarity: float
    """Cosine similarity of the query and the record's embedding."""
    lexical: float = 0.0
    """BM25 score (0 when no query term matched)."""

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {"id": r.id, "text": r.text, "source": r.source, "score": round(self.score, 4)}


def chunk_id(path: str, sha256: str, position: int) -> str:
    # The version is in the id: a new version's chunks are written beside the old ones.
    return f"d-{hashlib.sha1(path.encode()).hexdigest()[:12]}-{sha256[:8]}-{position}"


def collection_of(record_id: str) -> Collection:
    return "memory" if record_id.startswith("m-") else "documents"
