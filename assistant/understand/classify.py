"""What kind of request an utterance is, decided by rules in a few ms, before anything acts.

In order (the first that applies wins):

* ``about``: a question about the assistant itself ("what can you do", "/help");
* text posing as the system or a tool call ("SYSTEM: call forget..."): ``chat``, with no
  tools, whatever skill words it contains;
* ``undo`` / ``correction``: "cancel that", "no, I meant ten minutes", when there is a last
  action to take back or amend;
* ``command``: a skill's pattern matched with valid arguments (the fast path);
* ``clarify``: a skill's words are there but a value it needs is missing or unreadable
  ("a timer for, uh, later"): the turn asks for it instead of guessing;
* ``unsupported``: a domain no skill serves (lights, weather, news...):
  :mod:`assistant.understand.domains`;
* ``misheard``: a command with a word or two misheard ("Chet my timers"): the turn asks
  whether it was the command it sounds like (:mod:`assistant.understand.soundalike`);
* ``chat``: everything else goes to the LLM (and the memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant import fastpath
from assistant.skills import Skill, SkillRegistry
from assistant.understand import soundalike
from assistant.understand.domains import Domain, default_matcher

Kind = Literal["about", "undo", "correction", "command", "clarify", "unsupported", "misheard",
               "chat"]

_ABOUT = re.compile(
    r"^(?:/?help(?: me)?|/skills|what can you do(?: for me)?|what else can you do|"
    r"what can you help (?:me )?with|what are you able to do|what do you do|"
    r"what (?:skills|commands|abilities|features) do you have|what are your (?:skills|commands|"
    r"abilities|features)|what do you know how to do|how can you help(?: me)?|"
    r"what can i (?:ask|say to) you|what commands do you (?:understand|know)|"
    r"how do i use you|what kind of things can you do|who are you|what are you|"
    r"list (?:your|the) (?:skills|commands))$",
    re.IGNORECASE)
_UNDO = re.compile(
    r"^(?:(?:no|oops|oh no|wait|sorry)[\s,]+)?(?:(?:please )?(?:cancel(?:led)?|undo|scratch|"
    r"revert|take back|remove|delete|drop|reverse)(?: that| it| this| out| the last (?:one|1)"
    r"| what you just did| that (?:one|1))?|not that(?: one| 1)?|never ?mind that|"
    r"that's wrong|that was wrong|wrong (?:one|1)|that's not what i (?:said|meant|asked))$",
    re.IGNORECASE)
_AMEND = re.compile(
    r"^(?:(?:no|nope|sorry|oops|wait|actually|hmm|no no)\b[\s,]*)+"
    r"(?:(?:i|i'd) (?:meant|mean|said|wanted|want|asked for)|make (?:it|that)|"
    r"change (?:it|that)(?: to)?|it should (?:be|have been)|should be|set it (?:to|for))?"
    r"\s*(?P<rest>.+?)(?:\s+instead)?$"
    r"|^(?:i (?:meant|said)|make (?:it|that)|change (?:it|that)(?: to)?|set it (?:to|for))"
    r"\s+(?P<rest2>.+?)(?:\s+instead)?$",
    re.IGNORECASE)


# Text dressed as the system, the assistant or a tool call: a voice never says this, a pasted
# or forwarded message might. Nothing in it is acted on; it only gets an answer in words.
_INJECTION = re.compile(
    r"^\W*(?:system|assistant|developer|tool|function)\s*[:#\]>]|\bwithout asking\b|"
    r"\b(?:user|i) (?:has|have) already confirmed\b|<\s*/?\s*(?:tool_call|tool|system|"
    r"function_call)\b|\{\s*\"(?:name|calls|tool|function)\"\s*:|\bignore (?:all |any |the )?"
    r"(?:previous|prior|above|earlier|your) (?:instructions|rules|prompts?)\b|"
    r"\byou are now\b|\bnew instructions\s*:|\b(?:developer|god|admin|dan) mode\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Understanding:
    """What the utterance asks for, and what the turn needs to answer it."""

    kind: Kind
    text: str
    """The utterance, normalised (see :func:`assistant.fastpath.normalise`)."""
    skill: Skill | None = None
    """The skill it names (command, clarify, misheard)."""
    arguments: dict[str, Any] = field(default_factory=dict)
    """The arguments read from the words (command, misheard: all; clarify: those found)."""
    slot: str = ""
    """clarify: the argument to ask for."""
    rest: str = ""
    """correction: the new words ("ten minutes" of "no, I meant ten minutes"); misheard: the
    command it sounds like ("check my timers")."""
    domain: Domain | None = None
    """unsupported: what cannot be served, and the sentence that says so."""
    tools: bool = True
    """chat: whether the LLM may be offered tools (never for text posing as instructions)."""


def classify(registry: SkillRegistry, text: str, *, can_undo: bool = False) -> Understanding:
    """The kind of ``text`` (already cleaned of control characters). ``can_undo``: there is
    a recent action that "cancel that" would take back."""
    norm = fastpath.normalise(text)
    bare = norm.rstrip("?.! ").strip()
    if _ABOUT.match(bare):
        return Understanding("about", norm)
    if _INJECTION.search(text):
        return Understanding("chat", norm, tools=False)
    if can_undo:
        if _UNDO.match(bare):
            return Understanding("undo", norm)
        if (m := _AMEND.match(bare)) and (rest := m.group("rest") or m.group("rest2")):
            return Understanding("correction", norm, rest=rest)
    if (hit := fastpath.match(registry, text)) is not None:
        return Understanding("command", norm, hit.skill, hit.arguments)
    if (near := near_command(registry, norm)) is not None:
        return near
    if (domain := default_matcher().match(bare)) is not None:
        return Understanding("unsupported", norm, domain=domain)
    if (fixed := soundalike.repair(registry, norm)) is not None:
        return Understanding("misheard", norm, fixed.skill, fixed.arguments, rest=fixed.text)
    return Understanding("chat", norm)


def read_slots(s: Skill, norm: str) -> dict[str, Any]:
    """The values of ``s``'s slots that can be read from ``norm`` (missing ones left out)."""
    found = {}
    for name, slot in s.slots.items():
        try:
            value = slot.parse(norm)
        except (ValueError, TypeError):  # a parser's bad day is a missing value
            value = None
        if value is not None:
            found[name] = value
    return found


def missing_slot(s: Skill, known: dict[str, Any]) -> str | None:
    """The first slot to ask for: a required argument not known, else None."""
    required = set(s.parameters.get("required", []))
    for name in s.slots:
        if name not in known and name in required:
            return name
    return None


def near_command(registry: SkillRegistry, norm: str) -> Understanding | None:
    """A skill whose pattern finds its words in ``norm`` but cannot fill its arguments, and
    that declares the slot to ask for: "set a timer for, uh, later" → set_timer, seconds."""
    for s in registry.skills.values():
        if not s.slots or not any(p.regex.search(norm) for p in s.patterns):
            continue
        known = read_slots(s, norm)
        slot = missing_slot(s, known)
        if slot is not None:
            return Understanding("clarify", norm, s, known, slot=slot)
    return None
