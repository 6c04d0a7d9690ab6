"""``remember``, ``recall`` and ``forget``: the user's facts, kept in the local memory store.

Owns those three skills and ``forget``'s plan (the question naming each fact it will delete,
whose ids the confirmed call then deletes, exactly).

The store (:mod:`assistant.memory`) embeds each fact, updates a fact that a new one
contradicts ("my car is now blue"), and searches facts and ingested documents together.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.memory.facts import checked_fact, second_person
from assistant.skills import Plan, SkillContext, skill

RECALL_MIN_SIMILARITY = 0.3
"""Below this cosine similarity a record is not about what the user asked."""
FORGET_MIN_SIMILARITY = 0.4
"""``forget`` is stricter than ``recall``: it deletes (and asks first)."""
FORGET_NEAR_BEST = 0.15
"""...and only what is nearly as close to the query as the best match."""
_NOT_TOPICS = {"it", "that", "this", "them", "those", "these", "me", "my", "i", "the", "a",
               "an", "all", "everything", "anything", "something", "what", "of", "about"}
"""Words that name no topic: "forget about it" must not match every fact with "it"."""


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


@skill(topic="remembering what you tell me",
       patterns=[r"^(?:please )?(?:remember|don't forget|do not forget|note|make a note|"
                 r"keep in mind)(?: that)? (?P<fact>.+)$"])
def remember(ctx: SkillContext, fact: str) -> str:
    """Save a fact the user explicitly asks to be remembered.

    Args:
        fact: The fact, in the user's words.
    """
    fact = checked_fact(fact.strip().rstrip("."))  # empty or over 1,000 characters: refused
    _, replaced = _store(ctx).add_fact(fact, source=ctx.channel)
    if replaced is not None and replaced.text.lower() != fact.lower():
        was = second_person(replaced.text)
        return f"Okay, updated: {second_person(fact)}, no longer that {was}."
    return f"Okay, I'll remember that {second_person(fact)}."


@skill(topic="remembering what you tell me",
       read_only=True,
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


def _tokens(text: str) -> list[str]:
    """Lower-case words with a plural 's' dropped ('tyres' ~ 'tyre'); "sister's" stays one
    word, so that "my car" is not found in "my sister's car"."""
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("'s") else w
            for w in re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))]


def _mentions(text: str, phrase: list[str]) -> bool:
    """Whether ``text`` says ``phrase``, the last word perhaps possessive: "my car's MOT" is
    about "my car", "my sister's car" is not."""
    words = _tokens(text)
    n = len(phrase)
    return any(words[i:i + n - 1] == phrase[:-1] and words[i + n - 1].removesuffix("'s")
               == phrase[-1] for i in range(len(words) - n + 1))


def _matches(store: Any, query: str) -> list[Any]:
    """The facts ``forget`` means by ``query``.

    Facts that say the query's words, in order ("my car" in "my car needs new tyres"), are
    exactly what the user means. The embedder alone cannot tell: with MiniLM, "my car" is
    closer to "my sister's car is red" (0.48) than to "my car needs new tyres" (0.26). Only
    when no fact says the words (a paraphrase: "where I left the car") does similarity
    decide: close enough, and nearly as close as the best match.
    """
    phrase = _tokens(query)
    if set(phrase) - _NOT_TOPICS:
        said = [r for r in store.facts() if _mentions(r.text, phrase)]
        if said:
            return said
    found = store.search(query, k=5, collections=("memory",))
    best = max((h.similarity for h in found), default=0.0)
    return [h.record for h in found
            if h.similarity >= max(FORGET_MIN_SIMILARITY, best - FORGET_NEAR_BEST)]


def _to_forget(store: Any, query: str, ids: list[str] | None) -> list[Any]:
    """The records a ``forget`` call deletes: exactly ``ids`` when given (what its plan
    named), else what the query finds. Facts only: a document leaves memory when its file is
    removed from the ingested folders, never through this skill."""
    if ids is not None:
        return store.get([i for i in ids if i.startswith("m-")])
    return _matches(store, query)


def _forget_plan(ctx: SkillContext, query: str, ids: list[str] | None = None) -> Plan | str:
    """The question put before ``forget`` runs, naming each fact it will delete."""
    records = _to_forget(_store(ctx), query, ids)
    if not records:
        return f"I have nothing saved about {second_person(query)}."
    said = "; ".join(second_person(r.text) for r in records)
    question = (f"Should I forget that {said}?" if len(records) == 1
                else f"Forget these {len(records)} things: {said}?")
    return Plan(question, {"query": query, "ids": [r.id for r in records]})


@skill(topic="remembering what you tell me",
       risk="confirm", plan=_forget_plan,
       patterns=[r"^(?:please )?forget (?:what i (?:told you|said) about |about |that )"
                 r"(?P<query>.+)$"])
def forget(ctx: SkillContext, query: str, ids: list[str] | None = None) -> str:
    """Delete remembered facts on a topic (asks the user first).

    Args:
        query: The topic, in the user's words.
        ids: Leave empty: the confirmation step fills in the facts it named.
    """
    store = _store(ctx)
    records = _to_forget(store, query, ids)
    if not records:
        return f"I had nothing saved about {second_person(query)}."
    n = store.delete([r.id for r in records])
    return f"Forgotten: {n} thing{'s' if n != 1 else ''} about {second_person(query)}."
