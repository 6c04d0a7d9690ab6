"""Local memory: what the user told the assistant and the user's own documents.

* :mod:`~assistant.memory.readers` – files (.txt .md .pdf .html) → text sections
* :mod:`~assistant.memory.chunking` – sections → overlapping, sentence-aligned chunks
* :mod:`~assistant.memory.embedder` – MiniLM int8 ONNX embeddings with a content-hash cache
* :mod:`~assistant.memory.lexical` – BM25 twin index (bm25s)
* :mod:`~assistant.memory.facts` – when a new fact replaces an old one
* :mod:`~assistant.memory.store` – chromadb collections, hybrid search, the single-process lock
* :mod:`~assistant.memory.records` – the records and hits it hands out, its errors
* :mod:`~assistant.memory.ingest` – keeping the documents collection in step with files
* :mod:`~assistant.memory.integrity` – the store checked against its manifest; repairs
* :mod:`~assistant.memory.salvage` – a store chromadb cannot read, rebuilt from its records
* :mod:`~assistant.memory.retrieval` – whether a turn retrieves, and how passages enter a prompt

Everything runs on the device; nothing here opens a network connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Config

if TYPE_CHECKING:
    from assistant.memory.records import Hit, Record, StoreBusy, StoreError
    from assistant.memory.store import MemoryStore

__all__ = ["Hit", "MemoryStore", "Record", "StoreBusy", "StoreError", "open_store"]


def __getattr__(name: str) -> Any:
    # chromadb takes ~2 s to import: the store loads on first use, so that importing a
    # built-in skill (or the facts helpers) stays instant.
    if name == "MemoryStore":
        from assistant.memory.store import MemoryStore

        return MemoryStore
    if name in __all__:
        from assistant.memory import records

        return getattr(records, name)
    raise AttributeError(f"module 'assistant.memory' has no attribute {name!r}")


def open_store(config: Config) -> MemoryStore:
    """The store named by ``config.memory`` (raises ModelError / StoreBusy / StoreError with a
    one-line message saying what to do)."""
    from assistant.memory.store import MemoryStore

    return MemoryStore(config.memory.folder(config.paths.data), embedding_model(config))


def embedding_model(config: Config) -> Path:
    """The embedding model's folder (raises ModelError when it is missing)."""
    from assistant.models import resolve

    return resolve(config.memory.embedding_model, "embedding", config.paths.cache)
