"""What a conversation carries from one turn to the next: a question waiting for its answer,
and the last action (which "cancel that" or "no, I meant ten minutes" refers to).

One :class:`Dialogue` belongs to one :class:`assistant.agent.Assistant`; only its turn
writes it. Everything here is plain data: the rules that read it live in
:mod:`assistant.understand.classify` and the agent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Question:
    """A clarifying question for a value a command lacked ("A timer for how long?")."""

    skill: str
    arguments: dict[str, Any]
    """The values already known, read from the user's words."""
    slot: str
    """The argument asked for."""
    at: float = field(default_factory=time.monotonic)
    tries: int = 1


@dataclass(frozen=True)
class Proposal:
    """A call put to the user as a question ("Set a timer for one hour?"), run on a yes."""

    skill: str
    arguments: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    heard_as: str = ""
    """Set for "Did you mean: check my timers?": the command the misheard words sound like.
    A yes then runs it as if it had been said, so a skill that asks first still asks."""


@dataclass(frozen=True)
class Action:
    """The last call that changed something, for a correction or an undo."""

    skill: str
    arguments: dict[str, Any]
    undo: Callable[[], str] | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Dialogue:
    """The waiting question or proposal (one at a time) and the last action."""

    timeout_s: float = 60.0
    """A question unanswered for this long is dropped; an action older than ten times this
    can no longer be corrected by "cancel that"."""
    pending: Question | Proposal | None = None
    last: Action | None = None
    asked_again: bool = False
    """The last turn asked the user to say it again (unsure words): the next is answered."""

    def waiting(self) -> Question | Proposal | None:
        """The pending question or proposal, if it has not timed out."""
        if self.pending is not None and time.monotonic() - self.pending.at > self.timeout_s:
            self.pending = None
        return self.pending

    def last_action(self) -> Action | None:
        if self.last is not None and time.monotonic() - self.last.at > 10 * self.timeout_s:
            self.last = None
        return self.last


# The ways people answer yes, no, or drop a question; matched on the normalised reply.
_YES = re.compile(r"^(?:yes|yeah|yep|yup|yes please|sure|ok|okay|do it|go ahead|please do|"
                  r"confirm|confirmed|correct|right|that's right|affirmative|of course|"
                  r"absolutely|definitely)\b(?:[\s,]+(?:please|do it|go ahead|thanks))*$",
                  re.IGNORECASE)
_NO = re.compile(r"^(?:no|nope|nah|no thanks|no thank you|don't|do not|don't do it|cancel|"
                 r"stop|never ?mind|forget it|leave it|skip it|not now|nothing)\b.{0,20}$",
                 re.IGNORECASE)


_LEAD = re.compile(r"^(?:(?:oh|um+|uh+|hmm+|well|actually|ah|er+)\b[\s,]*)+", re.IGNORECASE)


def is_yes(text: str) -> bool:
    return bool(_YES.match(_LEAD.sub("", text.strip())))


def is_no(text: str) -> bool:
    return bool(_NO.match(_LEAD.sub("", text.strip()))) and not is_yes(text)
