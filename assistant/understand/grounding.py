"""Arguments taken from the user's words, not from the model's imagination.

A call the LLM proposes for a skill that acts may only carry values the utterance contains:
for an argument the skill reads itself (a :class:`~assistant.skills.Slot`), exactly the value
its parser reads from the words (so "one hour" is ``seconds: 3600``, never 1); otherwise
every string a span of the user's words and every number one they said.
:func:`grounded_parameters` builds that rule into the decision's JSON schema, so the grammar
cannot write anything else; :func:`ungrounded` checks a call
after the fact (the grammar is the model server's to honour).
"""

from __future__ import annotations

import re
from typing import Any

from assistant.skills import Skill, json_types
from assistant.understand.classify import read_slots

MAX_SPAN_WORDS = 6
"""Longest string argument, in words, offered to the grammar."""
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'%:.+\-]+", text.lower())


def spans(norm: str) -> list[str]:
    """Every run of up to :data:`MAX_SPAN_WORDS` consecutive words of ``norm``."""
    words = _words(norm)
    found: dict[str, None] = {}
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + MAX_SPAN_WORDS) + 1):
            found[" ".join(words[i:j])] = None
    return list(found)


def numbers(norm: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(norm)]


def grounded_parameters(s: Skill, norm: str) -> dict[str, Any] | None:
    """``s``'s parameter schema with each string and number limited to the values ``norm``
    grounds; None when a required argument has no grounded value (the skill cannot be
    called for these words)."""
    params = s.parameters
    slot_values = read_slots(s, norm)
    required = set(params.get("required", []))
    props: dict[str, Any] = {}
    for name, prop in params.get("properties", {}).items():
        kinds = set(json_types(prop))
        values: list[Any] = []
        if name in s.slots:  # the skill's own reader is the authority on this argument
            values = [slot_values[name]] if name in slot_values else []
        elif "string" in kinds:
            values = spans(norm)
        elif kinds & {"integer", "number"}:
            values = list(dict.fromkeys(int(n) if n.is_integer() and "integer" in kinds else n
                                        for n in numbers(norm)))
        if not kinds & {"string", "integer", "number"}:
            props[name] = prop  # booleans and the like carry no words to ground
            continue
        if not values and name in required:
            return None
        if "null" in kinds or name not in required:
            values.append(None)
        props[name] = {"enum": values, **({"description": prop["description"]}
                                          if "description" in prop else {})}
    return {**params, "properties": props}


def ungrounded(s: Skill, arguments: dict[str, Any], norm: str) -> str | None:
    """The first argument of a proposed call that the utterance does not ground, or None."""
    slot_values = read_slots(s, norm)
    said_spans = set(spans(norm))
    said_numbers = numbers(norm)
    for name, value in arguments.items():
        if value is None or value == "" or isinstance(value, bool):
            continue
        if name in s.slots:
            if slot_values.get(name) == value:
                continue
            return name
        if isinstance(value, int | float) and float(value) in said_numbers:
            continue
        if isinstance(value, str) and " ".join(_words(value)) in said_spans:
            continue
        return name
    return None
