"""BM25 keyword search over one collection's texts (bm25s, English stop words, Snowball stems).

chromadb has no keyword ranking, so each collection keeps this twin index. It is rebuilt from
the collection when stale (after writes) and kept on disk keyed by the store's generation
counter, so a large document index is not re-tokenised at every start.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import bm25s
import Stemmer

logging.getLogger("bm25s").setLevel(logging.ERROR)


class LexicalIndex:
    def __init__(self, ids: list[str], texts: list[str]) -> None:
        self.ids = ids
        self._tokenizer = bm25s.tokenization.Tokenizer(
            stopwords="en", stemmer=Stemmer.Stemmer("english"))
        self._bm25 = bm25s.BM25()
        if texts:
            tokens = self._tokenizer.tokenize(texts, update_vocab=True, return_as="tuple",
                                              show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(id, BM25 score) of the best ``k`` texts sharing at least one term with ``query``."""
        if not self.ids:
            return []
        # The query is split, filtered and stemmed exactly as the tokenizer did the corpus,
        # but by hand: bm25s's own query path rebuilds its id → word map (the whole
        # vocabulary) at every call, which costs milliseconds at 10k chunks.
        tokenizer = self._tokenizer
        words = tokenizer.splitter(query.lower())
        terms = [tokenizer.stemmer(w) for w in words if w not in tokenizer.stopwords]
        if not any(t in self._bm25.vocab_dict for t in terms):
            return []
        docs, scores = self._bm25.retrieve([terms], k=min(k, len(self.ids)),
                                           show_progress=False)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True)
                if s > 0]

    def save(self, folder: Path, generation: int) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._bm25.save(str(tmp))
            self._tokenizer.save_vocab(str(tmp))
        (tmp / "ids.json").write_text(json.dumps({"generation": generation, "ids": self.ids}))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.replace(folder)

    @classmethod
    def load(cls, folder: Path, generation: int) -> LexicalIndex | None:
        """The saved index if it was saved at ``generation``, else None (rebuild it)."""
        try:
            meta = json.loads((folder / "ids.json").read_text())
            if meta["generation"] != generation:
                return None
            index = cls([], [])
            index.ids = meta["ids"]
            if index.ids:
                index._bm25 = bm25s.BM25.load(str(folder))
                index._tokenizer.load_vocab(str(folder))
            return index
        except Exception:  # a damaged cache is only a cache: rebuild it
            return None
