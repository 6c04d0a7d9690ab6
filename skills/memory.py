"""``remember`` and ``recall``: facts the user asks the assistant to keep, persisted on disk.

The store is a small SQLite table in the data folder, searched by word overlap. It is the
spine's placeholder: the RAG memory issue replaces it with embeddings and hybrid search.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from assistant.skills import SkillContext, skill

_STOP = {"the", "a", "an", "my", "i", "me", "is", "are", "was", "what", "where", "did", "do",
         "you", "about", "that", "to", "of", "in", "on", "at", "it", "and", "for", "your"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP}


class FactStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS facts (id INTEGER PRIMARY KEY, text TEXT NOT NULL, "
            "created REAL NOT NULL)"
        )
        self._db.commit()

    def add(self, text: str) -> int:
        with self._db:
            cur = self._db.execute("INSERT INTO facts (text, created) VALUES (?, ?)",
                                   (text, time.time()))
        return int(cur.lastrowid)

    def search(self, query: str, k: int = 3) -> list[str]:
        wanted = _words(query)
        scored = []
        for (text,) in self._db.execute("SELECT text FROM facts ORDER BY created DESC"):
            overlap = len(wanted & _words(text))
            if overlap:
                scored.append((overlap, text))
        scored.sort(key=lambda pair: -pair[0])  # stable: newest first among equals
        return [text for _, text in scored[:k]]


def _store(ctx: SkillContext) -> FactStore:
    return ctx.service("facts", lambda: FactStore(ctx.data_dir / "facts.sqlite"))


def _you(text: str) -> str:
    """Turn the user's first person into the assistant's second person for the reply."""
    swaps = {"i": "you", "my": "your", "me": "you", "i'm": "you're", "mine": "yours",
             "am": "are", "myself": "yourself"}
    return re.sub(r"\b(i'm|i|my|me|mine|am|myself)\b",
                  lambda m: swaps[m.group(0).lower()], text, flags=re.IGNORECASE)


@skill(patterns=[r"^(?:please )?(?:remember|don't forget|do not forget|note|make a note|"
                 r"keep in mind)(?: that)? (?P<fact>.+)$"])
def remember(ctx: SkillContext, fact: str) -> str:
    """Save a fact the user wants remembered, e.g. where they parked.

    Args:
        fact: The fact in the user's words, e.g. "my car is on level 3".
    """
    fact = fact.strip().rstrip(".")
    if not fact:
        raise ValueError("there was nothing to remember")
    _store(ctx).add(fact)
    return f"Okay, I'll remember that {_you(fact)}."


@skill(patterns=[r"^(?:what did i (?:tell you|say|mention) about|what do you remember about|"
                 r"do you remember|recall|remind me (?:about|of)) (?P<query>.+)$"])
def recall(ctx: SkillContext, query: str) -> str:
    """Look up facts the user asked to be remembered.

    Args:
        query: What to look for, e.g. "my car".
    """
    found = _store(ctx).search(query)
    if not found:
        return f"I don't have anything saved about {_you(query)}."
    return "You told me " + "; and ".join(_you(f) for f in found) + "."
