"""Local memory: what the user told the assistant and the user's own documents.

* :mod:`~assistant.memory.readers` – files (.txt .md .pdf .html) → text sections
* :mod:`~assistant.memory.chunking` – sections → overlapping, sentence-aligned chunks
* :mod:`~assistant.memory.embedder` – MiniLM int8 ONNX embeddings with a content-hash cache
* :mod:`~assistant.memory.lexical` – BM25 twin index (bm25s)
* :mod:`~assistant.memory.facts` – when a new fact replaces an old one
* :mod:`~assistant.memory.store` – chromadb collections, hybrid search, the single-process lock
* :mod:`~assistant.memory.ingest` – keeping the documents collection in step with files
* :mod:`~assistant.memory.retrieval` – whether a turn retrieves, and how passages enter a prompt

Everything runs on the device; nothing here opens a network connection.
"""

from __future__ import annotations

from assistant.config import Config
from assistant.memory.store import Hit, MemoryStore, Record, StoreBusy, StoreError
from assistant.models import resolve

__all__ = ["Hit", "MemoryStore", "Record", "StoreBusy", "StoreError", "open_store"]


def open_store(config: Config) -> MemoryStore:
    """The store named by ``config.memory`` (raises ModelError / StoreBusy / StoreError with a
    one-line message saying what to do)."""
    model = resolve(config.memory.embedding_model, "embedding", config.paths.cache)
    return MemoryStore(config.memory.folder(config.paths.data), model)
