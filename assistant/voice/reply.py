"""One reply's life, from the words it answers to its last sound, and which reply has the
speaker.

A :class:`ReplyHandle` (LiveKit's SpeechHandle) is the one owner of what the stages share
about a reply, under its own lock: its timeline stamps, whether a speculative answer is held,
confirmed or dropped (and the events it made meanwhile), whether it is paused while a barge-in
is pending, and what the user had heard when it was interrupted. :class:`Replies` owns which
reply has the speaker and which replies still have a turn to report.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.speech.words import TYPED, Heard
from assistant.voice.events import Retrieval, ToolCall, TurnEnd

if TYPE_CHECKING:
    from assistant.agent import TurnResult

Stamp = Literal["first_text", "first_chunk", "first_audio"]


@dataclass
class ReplyTimes:
    """Timeline stamps of one turn, for its latency breakdown."""

    speech_end: float
    decided: float
    transcribed: float
    first_text: float | None = None
    first_chunk: float | None = None
    first_audio: float | None = None
    path: str = "llm"
    """Set to 'fast' when the turn returns; a fast-path turn always returns before its
    first audio, an LLM turn is still streaming then."""
    speculative: bool = False
    """Started before the endpoint (``transcribed`` is then earlier than ``decided``)."""

    def latency_ms(self) -> dict[str, float | None]:
        def ms(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round((a - b) * 1000, 1)

        return {
            "endpointing": ms(self.decided, self.speech_end),
            "asr_final": ms(max(self.transcribed, self.decided), self.decided),
            "llm_ttft": ms(self.first_text, self.transcribed),
            "first_chunk": ms(self.first_chunk, self.transcribed),
            "tts_first_audio": ms(self.first_audio, self.first_chunk),
            "voice_to_voice": ms(self.first_audio, self.speech_end),
        }


class ReplyHandle:
    """A reply to ``text`` (an announcement has no ``times``)."""

    def __init__(self, id: int, text: str, times: ReplyTimes | None = None,
                 heard: Heard = TYPED) -> None:
        self.id = id
        """Its turn number in the player's queue."""
        self.text = text
        self.heard = heard
        """The recogniser's words of ``text`` and their probabilities (the turn may ask about
        the unsure ones first); none for an announcement."""
        self.times = times
        self.first_piece = threading.Event()
        """Set once the first sound of the answer is queued for playback."""
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._go.set()
        self._speculation: Literal["held", "confirmed", "dropped"] = \
            "held" if self.speculative else "confirmed"
        self._result: TurnResult | None = None
        self._held: list[ToolCall | Retrieval] = []
        self._responding = False
        self._heard: str | None = None
        self._interrupted = False
        self.begun = False
        """The responder has started on it (set by :meth:`Replies.begin`)."""

    @property
    def speculative(self) -> bool:
        """Started during the closing silence, before the endpoint confirmed it."""
        return self.times is not None and self.times.speculative

    def stamp(self, what: Stamp, t: float) -> bool:
        """Record the first time of ``what``; True if this was it."""
        with self._lock:
            if self.times is None or getattr(self.times, what) is not None:
                return False
            setattr(self.times, what, t)
            return True

    def turn_end(self, now: float) -> TurnEnd:
        assert self.times is not None
        with self._lock:
            return TurnEnd(now, self.times.path, self.times.speculative, self.times.latency_ms())

    # ------------------------------------------------------------------ speculation

    def admit(self, event: ToolCall | Retrieval) -> bool:
        """May this event of the answer be reported now? A speculative answer's wait until it
        is confirmed: one that is dropped never happened, as far as the event log goes."""
        with self._lock:
            if self._speculation == "held":
                self._held.append(event)
            return self._speculation == "confirmed"

    def confirm(self, decided: float) -> tuple[list[ToolCall | Retrieval], TurnResult | None]:
        """The utterance ended as speculated: the events held so far, and the turn's result
        if it has returned (else the responder remembers the turn when it does)."""
        with self._lock:
            assert self.times is not None
            self.times.decided = decided
            self._speculation = "confirmed"
            held, self._held = self._held, []
            return held, self._result

    def drop(self) -> None:
        with self._lock:
            self._speculation, self._held = "dropped", []
        self.resume()

    @property
    def dropped(self) -> bool:
        return self._speculation == "dropped"

    def answered(self, result: TurnResult) -> bool:
        """The turn returned ``result``; True if it is confirmed (a speculative one already:
        then it is for the responder to remember it)."""
        with self._lock:
            self._result = result
            if self.times is not None:
                self.times.path = result.metrics.path
            return self._speculation == "confirmed"

    # ------------------------------------------------------------------ interruption

    def responding(self) -> None:
        """Its answer is being generated: an interruption is applied once it is complete."""
        with self._lock:
            self._responding = True

    def interrupted(self, heard: str) -> bool:
        """The user cut it short, having heard ``heard``. True if the history can say so
        now; else the answer is still being written, and :meth:`responded` returns it."""
        with self._lock:
            self._interrupted = True
            if self._responding:
                self._heard = heard
            return not self._responding

    @property
    def cancelled(self) -> bool:
        """Interrupted or dropped: whatever of it is still running stops at its next step."""
        return self._interrupted or self.dropped

    def responded(self) -> str | None:
        """The answer is complete: what was heard of it, if it was interrupted meanwhile."""
        with self._lock:
            self._responding = False
            return self._heard

    def pause(self) -> None:
        """Hold generation and synthesis at their next step (a barge-in is pending)."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def proceed(self) -> None:
        """Wait while paused."""
        self._go.wait()


class Replies:
    """Which reply has the speaker (one at a time), and the replies whose turn is still to be
    reported (from the responder's start to their first sound, or their end with nothing to
    say, or their drop)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._current: ReplyHandle | None = None
        self._live: dict[int, ReplyHandle] = {}

    def new(self, text: str, times: ReplyTimes | None = None,
            heard: Heard = TYPED) -> ReplyHandle:
        return ReplyHandle(next(self._ids), text, times, heard)

    @property
    def current(self) -> ReplyHandle | None:
        return self._current

    def holds(self, reply: ReplyHandle) -> bool:
        return self._current is reply

    def take(self, reply: ReplyHandle) -> None:
        """``reply`` has the speaker now; one that had it goes on unpaused, unheard."""
        with self._lock:
            before, self._current = self._current, reply
        if before is not None and before is not reply:
            before.resume()

    def release(self, reply: ReplyHandle) -> bool:
        """``reply`` gives the speaker back, if it had it."""
        with self._lock:
            if self._current is not reply:
                return False
            self._current = None
        reply.resume()
        return True

    def release_id(self, id: int) -> None:
        with self._lock:
            reply = self._current if self._current and self._current.id == id else None
        if reply is not None:
            self.release(reply)

    def interrupt(self) -> ReplyHandle | None:
        """Take the speaker from the reply that has it; that reply."""
        with self._lock:
            reply, self._current = self._current, None
        if reply is not None:
            reply.resume()
        return reply

    def begin(self, reply: ReplyHandle) -> None:
        with self._lock:
            self._live[reply.id] = reply
            reply.begun = True

    def live(self, id: int) -> ReplyHandle | None:
        return self._live.get(id)

    def over(self, reply: ReplyHandle) -> bool:
        """Its turn has begun and ended already."""
        with self._lock:
            return reply.begun and reply.id not in self._live

    def end(self, reply: ReplyHandle) -> bool:
        """Its turn is over; True the first time."""
        with self._lock:
            return self._live.pop(reply.id, None) is not None
