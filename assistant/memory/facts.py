"""When does a new fact replace an old one? Rules over the shape of short personal facts,
and how a fact is said back to the user.

"my car is red" then "my car is now blue": same subject ("my car"), same relation ("is") →
the new fact updates the old one. "my car is on level 3" has the same subject and relation
too, but a location is not a colour; so a claim is keyed by subject, relation *and* the kind
of value (a place, a time, a number or anything else). Also what a fact may be: some words,
at most :data:`MAX_FACT_CHARS` characters.
"""

from __future__ import annotations

import re

from assistant import AssistantError

MAX_FACT_CHARS = 1000
"""A longer fact is refused: a fact is a sentence or two, not a document (ingest those)."""


class FactRefused(AssistantError):
    """A fact that is empty or longer than :data:`MAX_FACT_CHARS`."""


def checked_fact(text: str) -> str:
    """``text`` with its white space collapsed; raises FactRefused (one sentence) when it is
    empty or longer than :data:`MAX_FACT_CHARS`."""
    text = " ".join(text.split())
    if not text:
        raise FactRefused("There is nothing to remember in an empty fact.")
    if len(text) > MAX_FACT_CHARS:
        raise FactRefused(f"A fact can be at most {MAX_FACT_CHARS:,} characters and this one "
                          f"has {len(text):,}; keep long text in a file and ingest it.")
    return text

_FILLER = re.compile(r"\b(?:now|actually|currently|still|really|no longer|anymore|these days)\b",
                     re.IGNORECASE)
_RELATION = re.compile(
    r"^(?P<subject>.+?)\s+(?P<relation>is|are|am|was|were|'s|lives?|works?|has|have|"
    r"likes?|loves?|prefers?|drives?|uses?|costs?|weighs?|goes|go|takes?|starts?|ends?|"
    r"parks?|parked)\s+(?P<value>.+)$",
    re.IGNORECASE)
_PLACE = re.compile(r"^(?:in|at|on|near|by|under|behind|next to|inside|outside|parked)\b",
                    re.IGNORECASE)
_TIME = re.compile(r"\b(?:\d{1,2}(?::\d\d)?\s*(?:am|pm)|o'clock|monday|tuesday|wednesday|"
                   r"thursday|friday|saturday|sunday|january|february|march|april|may|june|"
                   r"july|august|september|october|november|december|tomorrow|today)\b",
                   re.IGNORECASE)
_NUMBER = re.compile(r"^\W*\d")
_ARTICLES = re.compile(r"\b(?:the|a|an)\b", re.IGNORECASE)


def _stem(word: str) -> str:
    word = word.lower()
    if word in ("'s", "is", "are", "am", "was", "were"):
        return "be"
    if word in ("has", "have"):
        return "have"
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def claim_key(text: str) -> tuple[str, str, str] | None:
    """(subject, relation, value kind) of a simple fact, or None when it has no such shape."""
    text = " ".join(_FILLER.sub(" ", text.strip().rstrip(".!")).split())
    text = re.sub(r"(\w)'s\s+(?=(?:in|at|on|a|an|the|now)\b)", r"\1 is ", text)
    found = _RELATION.match(text)
    if not found:
        return None
    subject = " ".join(_ARTICLES.sub(" ", found["subject"].lower()).split())
    value = found["value"]
    relation = _stem(found["relation"])
    if relation == "park" or relation == "parked":
        relation, kind = "be", "place"
    elif _TIME.search(value):  # before places: "at 3 pm" is a time
        kind = "time"
    elif _PLACE.match(value):
        kind = "place"
    elif _NUMBER.match(value):
        kind = "number"
    else:
        kind = "other"
    return (subject, relation, kind) if subject else None


def second_person(text: str) -> str:
    """The user's first person as the assistant's second person ("my car" → "your car")."""
    swaps = {"i": "you", "my": "your", "me": "you", "i'm": "you're", "mine": "yours",
             "am": "are", "myself": "yourself", "we": "you", "our": "your", "us": "you"}
    return re.sub(r"\b(i'm|i|my|me|mine|am|myself|we|our|us)\b",
                  lambda m: swaps[m.group(0).lower()], text, flags=re.IGNORECASE)


def same_claim(old: str, new: str) -> bool:
    """True when ``new`` states a new value for what ``old`` said."""
    a, b = claim_key(old), claim_key(new)
    return a is not None and a == b
