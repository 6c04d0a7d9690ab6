"""The fast path: answer common commands by pattern, with no LLM, in well under 10 ms.

An utterance is normalised the way speech arrives (spoken numbers become digits, fillers and
politeness are dropped, punctuation goes) and tried against every skill's declared patterns in
registry order; the first whose arguments validate wins. What matches nothing goes to the LLM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from text_to_num import alpha2digit

from assistant.skills import Skill, SkillRegistry

_FILLER = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so|um+|uh+|er+|erm|well|please|assistant|"
    r"(?:can|could|would|will) you(?: please)?|i need you to|i want you to|i'd like you to|"
    r"i need|i want|go ahead and)\b[\s,]*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:[\s,]+(?:please|for me|thanks|thank you|now|right now))+$",
                       re.IGNORECASE)
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_PUNCT = re.compile(r"[^\w\s.:'+\-*/^%]|(?<!\d)[.:]|[.:](?!\d)")


def normalise(text: str) -> str:
    """Speech-recogniser text → a canonical command string (case is kept for names)."""
    text = text.replace("’", "'").strip()
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text, flags=re.IGNORECASE)
    for sign, unit in _CURRENCY.items():  # "$20" is "20 dollars", not a bare 20
        text = re.sub(rf"{re.escape(sign)}\s?(\d[\d,]*(?:\.\d+)?)", rf"\1 {unit}", text)
    text = _PUNCT.sub(" ", text)
    # Whisper hyphenates clock phrases: "half-past six", "quarter-to seven".
    text = re.sub(r"\b(half|quarter)-(past|to)\b", r"\1 \2", text, flags=re.IGNORECASE)
    text = re.sub(r"\boh (?=(?:one|two|three|four|five|six|seven|eight|nine)\b)", "zero ", text,
                  flags=re.IGNORECASE)
    # "thirty second timer" must stay a duration, not become the ordinal "32nd".
    text = re.sub(r"\bsecond\b", "xsecondx", text, flags=re.IGNORECASE)
    text = alpha2digit(text, "en", threshold=0).replace("xsecondx", "second")
    text = re.sub(r"\b(?:a|an) (\w+) and a half\b", r"1.5 \1", text)  # "an hour and a half"
    text = re.sub(r"\b(\d+) and a half\b", r"\1.5", text)
    text = re.sub(r"\b(\d+) and a quarter\b", r"\1.25", text)
    text = re.sub(r"\ba (?=\d)", "", text)  # alpha2digit leaves "a hundred" as "a 100"
    text = " ".join(text.split())
    text = _FILLER.sub("", text)
    text = _TRAILING.sub("", text)
    return text.strip()


@dataclass(frozen=True)
class FastMatch:
    skill: Skill
    arguments: dict[str, Any]
    normalised: str


def match(registry: SkillRegistry, text: str) -> FastMatch | None:
    """The first skill whose pattern matches ``text`` with valid arguments, or None."""
    norm = normalise(text)
    if not norm:
        return None
    for s in registry.skills.values():
        for pattern in s.patterns:
            m = pattern.regex.search(norm)
            if m is None:
                continue
            args = pattern.arguments(m)
            if args is None:
                continue
            try:
                s.args_model.model_validate(args)
            except ValueError:
                continue
            return FastMatch(s, args, norm)
    return None


def acts(registry: SkillRegistry, text: str) -> bool:
    """``text`` is a command for a skill that changes something (not ``read_only``)."""
    found = match(registry, text)
    return found is not None and not found.skill.read_only
