"""Sentence embeddings on the CPU: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime.

Owns the text → vector step of the memory: tokenising with the model's own ``tokenizer.json``,
batching, mean pooling and L2 normalisation (so a dot product is the cosine similarity), and
a cache keyed by the text's sha256 so unchanged chunks are never embedded twice. A model that
is not a sentence encoder (a random file, another ONNX model, no tokenizer) is a one-line
:class:`~assistant.models.ModelError` when it is loaded, never an onnxruntime traceback later.

:class:`ChromaEmbedding` adapts an :class:`Embedder` to chromadb's ``EmbeddingFunction`` so
chromadb is always handed our function and never loads (or downloads) its default one.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from tokenizers import Tokenizer

from assistant import onnx_sessions
from assistant.models import ModelError

MAX_TOKENS = 256
LARGE_TOKENS = 512
"""Token ids in a batch above which it is a large input (an ingest's, not a query's):
onnxruntime's arena gives back what its run took (see :mod:`assistant.onnx_sessions`)."""
"""all-MiniLM-L6-v2 was trained on 128 word pieces and accepts 256; longer text is cut."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """sha256(text) → vector, in a SQLite table next to the store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (hash TEXT PRIMARY KEY, "
                         "vector BLOB NOT NULL)")
        self._db.commit()
        self._lock = threading.Lock()

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):  # SQLite's variable limit
                part = list(hashes[start:start + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(
                        f"SELECT hash, vector FROM embeddings WHERE hash IN ({marks})", part):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (hash, vector) VALUES (?, ?)",
                [(key, vec.astype(np.float32).tobytes()) for key, vec in items.items()])

    def close(self) -> None:
        self._db.close()


class Embedder:
    """Texts → unit-length float32 vectors of :attr:`dim` dimensions."""

    dim = 384

    def __init__(self, model_path: Path, *, threads: int | None = None,
                 cache: EmbeddingCache | None = None) -> None:
        folder = model_path.parent if model_path.is_file() else model_path
        onnx_file = model_path if model_path.is_file() else folder / "model.onnx"
        what = f"embedding model {onnx_file}"
        try:
            self._session = onnx_sessions.session(str(onnx_file), threads=threads or 0)
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            # Its text (protobuf parsing details) would be read out by the voice: not kept.
            raise ModelError(f"{what} is not an ONNX model that onnxruntime can load "
                             f"({type(exc).__name__})") from None
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise ModelError(f"{what} is not a sentence encoder (its inputs are "
                             f"{', '.join(sorted(self._inputs)) or 'none'}; expected "
                             "input_ids and attention_mask)")
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception:  # tokenizers raises a bare Exception
            raise ModelError(f"{what} has no usable tokenizer.json beside it") from None
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()  # to the longest text of each batch, not to 128
        self.model_path = onnx_file
        self.cache = cache
        self.computed = 0
        """Texts actually run through the model (cache misses), for stats and tests."""
        try:
            shape = self._run(["a probe sentence"]).shape
        except Exception as exc:  # a model with the right input names but another graph
            raise ModelError(f"{what} does not run as a sentence encoder "
                             f"({type(exc).__name__})") from None
        if shape != (1, self.dim):
            raise ModelError(f"{what} gives vectors of shape {shape[1:]}, not ({self.dim},)")

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        options = onnx_sessions.run_options(ids.size > LARGE_TOKENS)
        hidden = self._session.run(None, feeds, options)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, batch_size: int = 16,
              progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts`` (cached ones are looked up, the rest batched by length so that
        little padding is computed). ``progress`` gets the count done after each batch."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        cached = self.cache.get_many(hashes) if self.cache else {}
        todo = [i for i, h in enumerate(hashes) if h not in cached]
        for i, h in enumerate(hashes):
            if h in cached:
                out[i] = cached[h]
        if progress and len(todo) < len(texts):
            progress(len(texts) - len(todo))
        todo.sort(key=lambda i: len(texts[i]))
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            vectors = self._run([texts[i] for i in batch])
            out[batch] = vectors
            self.computed += len(batch)
            if self.cache:
                self.cache.put_many({hashes[i]: v for i, v in zip(batch, vectors, strict=True)})
            if progress:
                progress(len(batch))
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self._run([text])[0]


_LIVE: weakref.WeakValueDictionary[str, Embedder] = weakref.WeakValueDictionary()
"""Embedders in use, by model path: chromadb rebuilds a collection's embedding function from
its stored config on every write, which must not load the model again."""


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """chromadb's view of an :class:`Embedder`."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        _LIVE[str(embedder.model_path)] = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "assistant-minilm-l6-v2-int8"

    def get_config(self) -> dict[str, Any]:
        return {"model_path": str(self.embedder.model_path)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        live = _LIVE.get(config["model_path"])
        return ChromaEmbedding(live if live is not None else Embedder(Path(config["model_path"])))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
