"""``remember``, ``recall`` and ``forget``: the user's facts, kept in the local memory store.

The store (:mod:`assistant.memory`) embeds each fact, updates a fact that a new one
contradicts ("my car is now blue"), and searches facts and ingested documents together.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.memory.facts import second_person
from assistant.skills import SkillContext, skill

RECALL_MIN_SIMILARITY = 0.3
"""Below this cosine similarity a record is not about what the user asked."""
FORGET_MIN_SIMILARITY = 0.4
"""``forget`` is stricter than ``recall``: it deletes (and asks first)."""
FORGET_NEAR_BEST = 0.15
"""...and only what is nearly as close to the query as the best match."""


def _store(ctx: SkillContext) -> Any:
    if ctx.memory is None:
        raise RuntimeError("memory is not available here")
    return ctx.memory()


def _best_sentence(text: str, query: str) -> str:
    """The sentence of a document chunk that shares most words with the query, to speak."""
    body = text.split(": ", 1)[-1]
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", body) if s]
    wanted = set(re.findall(r"\w+", query.lower()))
    return max(sentences, key=lambda s: len(wanted & set(re.findall(r"\w+", s.lower()))),
               default=body)


@skill(patterns=[r"^(?:please )?(?:remember|don't forget|do not forget|note|make a note|"
                 r"keep in mind)(?: that)? (?P<fact>.+)$"])
def remember(ctx: SkillContext, fact: str) -> str:
    """Save a fact the user explicitly asks to be remembered.

    Args:
        fact: The fact, in the user's words.
    """
    fact = fact.strip().rstrip(".")
    if not fact:
        raise ValueError("there was nothing to remember")
    _, replaced = _store(ctx).add_fact(fact, source=ctx.channel)
    if replaced is not None and replaced.text.lower() != fact.lower():
        was = second_person(replaced.text)
        return f"Okay, updated: {second_person(fact)}, no longer that {was}."
    return f"Okay, I'll remember that {second_person(fact)}."


@skill(read_only=True,
       patterns=[r"^(?:what did i (?:tell you|say|mention) about|what do you remember about|"
                 r"do you remember|recall|remind me (?:about|of)) (?P<query>.+)$",
                 r"^where (?:is|are|did i (?:park|put|leave)) (?P<query>my .+)$"])
def recall(ctx: SkillContext, query: str) -> str:
    """Recall facts the user asked to be remembered, and their notes.

    Args:
        query: The topic, in the user's words.
    """
    hits = [h for h in _store(ctx).search(query, k=3)
            if h.similarity >= RECALL_MIN_SIMILARITY]
    if not hits:
        return f"I don't have anything saved about {second_person(query)}."
    facts = [second_person(h.record.text) for h in hits if h.record.collection == "memory"]
    notes = [h for h in hits if h.record.collection == "documents"]
    parts = []
    if facts:
        parts.append("You told me " + "; and ".join(facts) + ".")
    if notes and not facts:
        best = notes[0]
        parts.append(f"From {best.record.attribution}: {_best_sentence(best.record.text, query)}")
    return " ".join(parts)


@skill(risk="confirm",
       patterns=[r"^(?:please )?forget (?:what i (?:told you|said) about |about |that )"
                 r"(?P<query>.+)$"])
def forget(ctx: SkillContext, query: str) -> str:
    """Delete remembered facts on a topic (asks the user first).

    Args:
        query: The topic, in the user's words.
    """
    store = _store(ctx)
    found = store.search(query, k=5, collections=("memory",))
    best = max((h.similarity for h in found), default=0.0)
    hits = [h for h in found
            if h.similarity >= max(FORGET_MIN_SIMILARITY, best - FORGET_NEAR_BEST)]
    if not hits:
        return f"I had nothing saved about {second_person(query)}."
    store.delete([h.record.id for h in hits])
    n = len(hits)
    return f"Forgotten: {n} thing{'s' if n > 1 else ''} about {second_person(query)}."
