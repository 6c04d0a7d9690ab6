"""What travels between the voice loop's stages: one frozen dataclass per kind of frame.

Every queue of the loop is a ``queue.Queue`` of these (:class:`~assistant.voice.stage.Stage`),
and a stage's thread takes frames until :data:`SHUTDOWN`. An interruption needs no frame that
overtakes the queues (Pipecat's system frames): every frame of a reply names its
:class:`~assistant.voice.reply.ReplyHandle`, and a stage drops the frames of a reply that has
lost the speaker. Microphone frames carry plain data, so that the listener could run on a
device of its own; the others stay on the machine that answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.voice.reply import ReplyHandle


@dataclass(frozen=True)
class MicFrame:
    """20 ms of microphone audio, echo cancelled (driver → listener)."""

    index: int
    """Its number on the input timeline (frame 0 starts at 0 s)."""
    audio: np.ndarray
    speaking: bool
    """The assistant's answer was playing (or paused) meanwhile."""
    played_rms: float
    """Level of what the speaker played during it (the echo gate's reference)."""


@dataclass(frozen=True)
class ReplyFrame:
    """A frame of one reply: a stage drops it once that reply has lost the speaker."""

    reply: ReplyHandle


class Request(ReplyFrame):
    """Words to answer (listener → responder); a speculative one may be dropped on the way."""


@dataclass(frozen=True)
class Clause(ReplyFrame):
    """A clause of a reply to synthesise and queue for the speaker (responder → synthesis)."""

    text: str


class ReplyEnd(ReplyFrame):
    """No more clauses will come for this reply (responder → synthesis)."""


@dataclass(frozen=True)
class Prefill:
    """The user's words so far, for the LLM to read ahead (listener → prefiller)."""

    utterance: int
    """The listener's number of the utterance they belong to."""
    heard: str
    """The live transcript (the turn model reads it)."""
    words: str
    """What the answer's prompt would hold: the transcript without the wake phrase."""


@dataclass(frozen=True)
class Shutdown:
    """Ends a stage's thread once the frames before it are handled."""


SHUTDOWN = Shutdown()

Frame = MicFrame | Request | Clause | ReplyEnd | Prefill | Shutdown
