"""The memory store: the user's facts and document chunks, in an embedded chromadb.

Owns persistence and search. Two chromadb collections live under one folder:

* ``memory``: facts the user asked to keep ("my car is on level 3"), with the time they were
  told and updated and how (chat, voice, cli);
* ``documents``: chunks of ingested files, with the file path, the chunk's position and
  heading, and the sha256 of the file and of the chunk.

Each collection has a BM25 twin (:mod:`assistant.memory.lexical`); :meth:`MemoryStore.search`
fuses the dense and the lexical scores (relative score fusion, or reciprocal rank fusion).
``index.sqlite`` keeps
the embedding cache, the manifest of ingested files and a write counter per collection.

Writes survive a kill at any point: a file's new chunks carry its new sha256 in their ids, the
manifest records them as ``pending`` before the first is written and takes the new version
only once the last is; the old version is then pending until its chunks are gone (and a
deleted file's until its are). So every chunk belongs to a version the manifest names
(:mod:`assistant.memory.integrity` checks this and repairs what a kill left). A write that
fails (a full disk) is a one-line :class:`StoreError`; what was stored before stays.

One process holds the store at a time: a second one gets :class:`StoreBusy` with the holder's
pid instead of two chromadb instances overwriting each other's index files.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.config import Settings
from chromadb.errors import ChromaError
from filelock import FileLock, Timeout

from assistant.memory import holder
from assistant.memory.chunking import Chunk
from assistant.memory.embedder import ChromaEmbedding, Embedder, EmbeddingCache, text_hash
from assistant.memory.facts import checked_fact, same_claim
from assistant.memory.lexical import LexicalIndex
from assistant.memory.readers import UnreadableFile
from assistant.memory.records import (
    COLLECTIONS,
    Collection,
    Fusion,
    Hit,
    Mode,
    Record,
    StoreBusy,
    StoreError,
    chunk_id,
    collection_of,
    damaged,
    reason,
)

HYBRID_ALPHA = 0.5
"""Weight of the dense similarity in relative score fusion (BM25 gets the rest)."""
RRF_K = 60
"""Reciprocal rank fusion constant (Cormack et al. 2009): a rank r adds 1 / (RRF_K + r)."""
SAME_FACT_SIMILARITY = 0.92
"""A new fact this close to an old one restates it: the old one is updated, not duplicated."""


class MemoryStore:
    """Facts and documents under ``folder``; see the module docstring."""

    def __init__(self, folder: Path, model: Path | Embedder) -> None:
        """Open (creating if needed) the store in ``folder``; ``model`` is the embedding
        model's folder, or an :class:`Embedder` to share (benchmarks)."""
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"memory: cannot create {folder}: {exc.strerror}") from None
        self._lock = FileLock(folder / "lock", timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise StoreBusy(f"memory: the store {folder} is in use by another assistant "
                            f"process ({holder.describe(folder)}); close it, or set "
                            "memory.path to another folder") from None
        (folder / holder.PID_FILE).write_text(str(os.getpid()))
        self.embedder = model if isinstance(model, Embedder) else \
            Embedder(model, cache=EmbeddingCache(folder / "index.sqlite"))
        self._db = sqlite3.connect(folder / "index.sqlite", check_same_thread=False)
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, "
                             "sha256 TEXT, size INTEGER, mtime REAL, chunks INTEGER, "
                             "ingested REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS generation (collection TEXT "
                             "PRIMARY KEY, value INTEGER)")
            self._db.execute("CREATE TABLE IF NOT EXISTS pending (path TEXT, sha256 TEXT, "
                             "started REAL, PRIMARY KEY (path, sha256))")
        try:
            self._client = chromadb.PersistentClient(
                path=str(folder / "chroma"),
                settings=Settings(anonymized_telemetry=False, allow_reset=False))
            function = ChromaEmbedding(self.embedder)
            self._collections = {
                name: self._client.get_or_create_collection(
                    name, embedding_function=function,  # type: ignore[arg-type]
                    configuration={"hnsw": {"space": "cosine"}})
                for name in COLLECTIONS
            }
        except (ChromaError, sqlite3.Error, OSError) as exc:
            # chromadb keeps the half-started system for this path in a process-wide cache;
            # left there, it would fail every later open (a repair's fresh store included).
            SharedSystemClient._identifier_to_system.pop(str(folder / "chroma"), None)
            SharedSystemClient._identifier_to_refcount.pop(str(folder / "chroma"), None)
            self._db.close()
            (folder / holder.PID_FILE).unlink(missing_ok=True)
            self._lock.release()
            raise damaged(folder, exc) from None
        self._lexical: dict[Collection, LexicalIndex] = {}
        self._counts: dict[Collection, int] = {}

    # ---------------------------------------------------------------- lifecycle

    def close(self) -> None:
        for name in list(self._lexical):
            self._save_lexical(name)
        self._client.close()
        self._db.close()
        if self.embedder.cache and self.embedder.cache.path.parent == self.folder:
            self.embedder.cache.close()
        (self.folder / holder.PID_FILE).unlink(missing_ok=True)
        self._lock.release()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _generation(self, name: Collection) -> int:
        row = self._db.execute("SELECT value FROM generation WHERE collection = ?",
                               (name,)).fetchone()
        return int(row[0]) if row else 0

    def _changed(self, name: Collection) -> None:
        with self._db:
            self._db.execute("INSERT INTO generation VALUES (?, 1) ON CONFLICT(collection) "
                             "DO UPDATE SET value = value + 1", (name,))
        self._lexical.pop(name, None)
        self._counts.pop(name, None)

    @contextlib.contextmanager
    def _writing(self, name: Collection) -> Iterator[None]:
        """Around every write: the collection's generation moves on before (a BM25 index
        saved earlier is stale even if this process is killed midway) and after; a failed
        write (a full disk, a damaged file) becomes one line."""
        try:
            self._changed(name)
            yield
        except (OSError, sqlite3.Error, ChromaError) as exc:
            raise StoreError(f"memory: cannot write to {self.folder}: {reason(exc)}"
                             ) from None
        finally:
            self._lexical.pop(name, None)
            self._counts.pop(name, None)
        self._changed(name)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Around every read of chromadb: its failure to read its own files is one line
        saying what to do, not a Rust backtrace."""
        try:
            yield
        except ChromaError as exc:
            raise damaged(self.folder, exc) from None

    def _save_lexical(self, name: Collection) -> None:
        index = self._lexical.get(name)
        if index is not None and len(index.ids) > 1000:  # small ones rebuild in milliseconds
            index.save(self.folder / f"bm25-{name}", self._generation(name))

    def lexical(self, name: Collection) -> LexicalIndex:
        """The collection's BM25 index, loaded or rebuilt when the collection changed."""
        if name not in self._lexical:
            generation = self._generation(name)
            index = LexicalIndex.load(self.folder / f"bm25-{name}", generation)
            if index is None:
                with self._reading():
                    got = self._collections[name].get(include=["documents"])
                index = LexicalIndex(list(got["ids"]), list(got["documents"] or []))
            self._lexical[name] = index
            self._save_lexical(name)
        return self._lexical[name]

    # ---------------------------------------------------------------- facts

    def add_fact(self, text: str, source: str = "chat") -> tuple[Record, Record | None]:
        """Keep a fact. One that restates or contradicts an earlier fact ("my car is now
        blue" after "my car is red") replaces it; returns (the stored fact, the replaced one)."""
        text = checked_fact(text)
        vector = self.embedder.embed([text])[0]
        now = time.time()
        replaced = None
        for hit in self._dense("memory", vector, 5):
            old = hit.record
            if hit.similarity >= SAME_FACT_SIMILARITY or same_claim(old.text, text):
                replaced = old
                break
        record_id = replaced.id if replaced else f"m-{uuid.uuid4().hex[:12]}"
        created = replaced.created if replaced else now
        with self._writing("memory"):
            self._collections["memory"].upsert(
                ids=[record_id], embeddings=[vector], documents=[text],
                metadatas=[{"source": source, "created": created, "updated": now}])
        return Record(record_id, text, "memory", source, created, now), replaced

    def facts(self) -> list[Record]:
        with self._reading():
            got = self._collections["memory"].get(include=["documents", "metadatas"])
        records = self._records("memory", got)
        return sorted(records, key=lambda r: r.created)

    # ---------------------------------------------------------------- documents

    def file_state(self, path: str) -> tuple[str, int, float] | None:
        """(sha256, size, mtime) recorded when ``path`` was last ingested completely."""
        row = self._db.execute("SELECT sha256, size, mtime FROM files WHERE path = ?",
                               (path,)).fetchone()
        return (row[0], int(row[1]), float(row[2])) if row else None

    def files(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT path FROM files ORDER BY path")]

    def replace_file(self, path: str, chunks: Iterable[Chunk], sha256: str, size: int,
                     mtime: float, batch: int = 64, vectors: np.ndarray | None = None) -> int:
        """Store ``path``'s chunks (a stream: read, embedded and written ``batch`` at a time)
        in place of any earlier version of the file; returns how many were written.
        ``vectors`` (one per chunk) skips embedding; the scale benchmark uses it.

        The manifest says the version is ``pending`` before its first chunk is written and
        takes it after its last, marking the old version pending until its chunks are
        deleted; a kill at any point leaves only pending chunks, which the next ingest
        removes (:func:`assistant.memory.integrity.repair`). If ``chunks`` raises (the file
        turned out unreadable partway) or a write fails, this version's chunks are taken
        back and the earlier version stays.
        """
        collection = self._collections["documents"]
        written = 0
        with self._writing("documents"):
            with self._db:
                self._db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?)",
                                 (path, sha256, time.time()))
            try:
                now = time.time()
                stream = iter(chunks)
                while part := list(itertools.islice(stream, batch)):
                    texts = [c.text for c in part]
                    collection.upsert(
                        ids=[chunk_id(path, sha256, c.position) for c in part],
                        embeddings=list(self.embedder.embed(texts) if vectors is None
                                        else vectors[written:written + len(part)]),
                        documents=texts,
                        metadatas=[{"path": path, "position": c.position,
                                    "heading": c.heading, "sha256": sha256,
                                    "chunk_sha256": text_hash(c.text), "created": now,
                                    "updated": now} for c in part])
                    written += len(part)
                if not written:
                    raise UnreadableFile(f"{path}: no text found")
            except BaseException:
                with contextlib.suppress(Exception):  # what stays is repaired next time
                    self._drop_version(path, sha256)
                raise
            old = self.file_state(path)
            with self._db:  # the new version is in; the old one is now the one in flux
                self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                                 (path, sha256, size, mtime, written, time.time()))
                self._db.execute("DELETE FROM pending WHERE path = ? AND sha256 = ?",
                                 (path, sha256))
                if old and old[0] != sha256:
                    self._db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?)",
                                     (path, old[0], time.time()))
            collection.delete(where={"$and": [{"path": path}, {"sha256": {"$ne": sha256}}]})
            with self._db:
                self._db.execute("DELETE FROM pending WHERE path = ? AND sha256 != ?",
                                 (path, sha256))
        return written

    def _drop_version(self, path: str, sha256: str) -> None:
        self._collections["documents"].delete(
            where={"$and": [{"path": path}, {"sha256": sha256}]})
        with self._db:
            self._db.execute("DELETE FROM pending WHERE path = ? AND sha256 = ?",
                             (path, sha256))

    def remove_file(self, path: str) -> None:
        with self._writing("documents"):
            with self._db:  # marked as going before its chunks go, like a replaced version
                self._db.execute("INSERT OR REPLACE INTO pending SELECT path, sha256, ? "
                                 "FROM files WHERE path = ?", (time.time(), path))
                self._db.execute("DELETE FROM files WHERE path = ?", (path,))
            self._collections["documents"].delete(where={"path": path})
            with self._db:
                self._db.execute("DELETE FROM pending WHERE path = ?", (path,))

    # ---------------------------------------------------------------- integrity

    def manifest(self) -> dict[str, tuple[str, int]]:
        """path → (sha256, chunks) of every completely ingested file."""
        return {row[0]: (row[1], int(row[2])) for row in
                self._db.execute("SELECT path, sha256, chunks FROM files")}

    def pending(self) -> list[tuple[str, str]]:
        """(path, sha256) of file versions in flux: being written, or being removed (a
        replaced or deleted file's). Only a kill leaves any behind."""
        return list(self._db.execute("SELECT path, sha256 FROM pending ORDER BY path"))

    def chunk_rows(self, page: int = 5000) -> Iterator[tuple[str, str, str, int]]:
        """(id, path, file sha256, position) of every stored chunk, a page at a time."""
        collection = self._collections["documents"]
        for offset in itertools.count(0, page):
            with self._reading():
                got = collection.get(include=["metadatas"], limit=page, offset=offset)
            for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                meta = meta or {}
                yield (rid, str(meta.get("path", "")), str(meta.get("sha256", "")),
                       int(meta.get("position", -1)))
            if len(got["ids"]) < page:
                return

    def drop_unfinished(self, path: str, sha256: str) -> None:
        """Remove a pending version (its chunks, then its mark): one whose ingest did not
        finish, or one whose removal did not."""
        with self._writing("documents"):
            self._drop_version(path, sha256)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        with self._writing("documents"):
            for start in range(0, len(ids), 5000):
                self._collections["documents"].delete(ids=list(ids[start:start + 5000]))

    # ---------------------------------------------------------------- reading

    def _records(self, name: Collection, got: Any) -> list[Record]:
        records = []
        for rid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                                   strict=True):
            meta = meta or {}
            records.append(Record(
                rid, text or "", name, str(meta.get("path") or meta.get("source", "")),
                float(meta.get("created", 0.0)), float(meta.get("updated", 0.0)),
                str(meta.get("heading", "")), int(meta.get("position", 0))))
        return records

    def get(self, ids: Sequence[str]) -> list[Record]:
        """The records with these ids (unknown ids are left out), in the order asked."""
        found: dict[str, Record] = {}
        for name in COLLECTIONS:
            wanted = [i for i in ids if collection_of(i) == name]
            if wanted:
                with self._reading():
                    got = self._collections[name].get(ids=wanted,
                                                      include=["documents", "metadatas"])
                found.update({r.id: r for r in self._records(name, got)})
        return [found[i] for i in ids if i in found]

    def count(self, name: Collection) -> int:
        # Only this process writes (the lock), so a count stays true until our next write.
        if name not in self._counts:
            with self._reading():
                self._counts[name] = self._collections[name].count()
        return self._counts[name]

    def _dense(self, name: Collection, vector: np.ndarray, n: int) -> list[Hit]:
        total = self.count(name)
        if not total:
            return []
        with self._reading():
            got = self._collections[name].query(
                query_embeddings=[vector], n_results=min(n, total),
                include=["documents", "metadatas", "distances"])
        flat = {"ids": got["ids"][0], "documents": (got["documents"] or [[]])[0],
                "metadatas": (got["metadatas"] or [[]])[0]}
        return [Hit(record, 1.0 - distance, 1.0 - distance)
                for record, distance in zip(self._records(name, flat),
                                            (got["distances"] or [[]])[0], strict=True)]

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid",
               collections: Sequence[Collection] = COLLECTIONS,
               fusion: Fusion = "relative") -> list[Hit]:
        """The ``k`` best records for ``query`` among ``max(4 k, 20)`` dense and as many BM25
        candidates per collection.

        Fusion ``relative`` (the default; it won on ``assistant bench memory``) scores each
        candidate ``HYBRID_ALPHA`` × its cosine similarity min-max scaled over the dense
        candidates + (1 − ``HYBRID_ALPHA``) × its BM25 score over the best BM25 score of its
        collection.
        Fusion ``rrf`` is reciprocal rank fusion of the dense ranking and each collection's
        BM25 ranking. BM25 is normalised per collection because its scores depend on each
        index's statistics: a big documents index would otherwise drown a handful of facts.
        """
        pool = max(4 * k, 20)
        vector = self.embedder.embed_one(query)
        dense: list[Hit] = []
        rankings: list[list[str]] = []
        lexical: dict[str, float] = {}
        scaled: dict[str, float] = {}
        for name in collections:
            if mode != "bm25":
                dense += self._dense(name, vector, pool)
            if mode != "dense":
                found = self.lexical(name).search(query, pool)
                rankings.append([rid for rid, _ in found])
                lexical.update(found)
                scaled.update({rid: score / found[0][1] for rid, score in found})
        dense.sort(key=lambda h: -h.similarity)
        if mode == "dense":
            return dense[:k]
        by_id = {h.record.id: h for h in dense}
        by_id.update(self._lexical_only([rid for rid in lexical if rid not in by_id], vector))
        fused: dict[str, float] = {}
        if mode == "bm25" or fusion == "rrf":
            if mode == "hybrid":
                rankings.append([h.record.id for h in dense])
            for ranking in rankings:
                for rank, rid in enumerate(ranking, start=1):
                    fused[rid] = fused.get(rid, 0.0) + 1.0 / (RRF_K + rank)
        else:
            # Scaled over the dense candidates only: a BM25-only candidate far below them
            # would otherwise stretch the scale and flatten the differences that matter.
            sims = [h.similarity for h in dense[:pool]] or [0.0]
            low, span = min(sims), max(max(sims) - min(sims), 1e-9)
            fused = {rid: HYBRID_ALPHA * max(0.0, (hit.similarity - low) / span)
                     + (1 - HYBRID_ALPHA) * scaled.get(rid, 0.0) for rid, hit in by_id.items()}
        # Ties (first in one list, second in the other) go to the closer meaning.
        best = sorted((rid for rid in fused if rid in by_id),
                      key=lambda rid: (-fused[rid], -by_id[rid].similarity))[:k]
        return [Hit(by_id[rid].record, fused[rid], by_id[rid].similarity,
                    lexical.get(rid, 0.0)) for rid in best]

    def _lexical_only(self, ids: list[str], vector: np.ndarray) -> dict[str, Hit]:
        """Hits for BM25 candidates the dense search did not return, with their similarity."""
        hits: dict[str, Hit] = {}
        for name in COLLECTIONS:
            wanted = [i for i in ids if collection_of(i) == name]
            if not wanted:
                continue
            got = self._collections[name].get(
                ids=wanted, include=["documents", "metadatas", "embeddings"])
            for record, emb in zip(self._records(name, got), got["embeddings"], strict=True):
                similarity = float(np.dot(np.asarray(emb, dtype=np.float32), vector))
                hits[record.id] = Hit(record, 0.0, similarity)
        return hits

    # ---------------------------------------------------------------- changes

    def delete(self, ids: Sequence[str]) -> int:
        """Forget these records; returns how many existed."""
        existing = self.get(ids)
        for name in COLLECTIONS:
            gone = [r.id for r in existing if r.collection == name]
            if gone:
                with self._writing(name):
                    self._collections[name].delete(ids=gone)
        return len(existing)

    def export(self) -> Iterator[dict[str, Any]]:
        """Every record as a JSON-ready dict (facts first, then chunks by file)."""
        for name in COLLECTIONS:
            with self._reading():
                got = self._collections[name].get(include=["documents", "metadatas"])
            for record in sorted(self._records(name, got),
                                 key=lambda r: (r.source, r.position, r.created)):
                yield {"id": record.id, "collection": name, "text": record.text,
                       "source": record.source, "heading": record.heading,
                       "position": record.position, "created": record.created,
                       "updated": record.updated}

    def restore(self, name: Collection, ids: Sequence[str], texts: Sequence[str],
                metadatas: Sequence[dict[str, Any]]) -> None:
        """Put records back as they were (ids and metadata kept, embeddings made again):
        a rebuild from what a damaged store still holds."""
        with self._writing(name):
            for start in range(0, len(ids), 500):
                end = start + 500
                self._collections[name].upsert(ids=list(ids[start:end]),
                                               documents=list(texts[start:end]),
                                               metadatas=list(metadatas[start:end]))

    def stats(self) -> dict[str, Any]:
        size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        return {"path": str(self.folder), "facts": self.count("memory"),
                "chunks": self.count("documents"), "files": len(self.files()),
                "disk_bytes": size}
