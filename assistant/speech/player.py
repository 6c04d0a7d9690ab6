"""The speaker's side of the voice loop: a queue of synthesised audio, played one 20 ms frame
at a time, that can pause, resume, hold a turn's audio back, and stop, and that knows which
words the listener actually heard (the history keeps only those after an interruption)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.speech.audio import FRAME, FRAME_S, Clock


@dataclass
class Chunk:
    """A piece of one turn's speech."""

    turn: int
    text: str
    """The words this piece speaks (what counts as heard once it has played)."""
    audio: np.ndarray
    """16 kHz float32 samples."""


class PlayerHooks(Protocol):
    """What the player reports, stamped on the input timeline (the voice loop makes events and
    reply times of it). Called on the driver's thread or the caller's, outside the lock."""

    def started(self, turn: int, t: float, text: str) -> None:
        """The first sound of speech after silence: ``turn``'s piece that speaks ``text``."""

    def paused(self, t: float) -> None: ...

    def resumed(self, t: float) -> None: ...

    def finished(self, turn: int, t: float) -> None:
        """``turn`` has played to its end (see :meth:`Player.end_turn`)."""

    def interrupted(self, t: float) -> None:
        """Speech was stopped while it played (:meth:`Player.stop`)."""


class Player:
    """The speaker's queue, consumed one frame per tick; knows what was actually heard."""

    def __init__(self, clock: Clock, hooks: PlayerHooks) -> None:
        self.clock = clock
        self.hooks = hooks
        self._chunks: deque[Chunk] = deque()
        self._current: Chunk | None = None
        self._pos = 0
        self._lock = threading.Lock()
        self.paused = False
        self.speaking = False
        """True from the first sample of an answer until it ends or is stopped."""
        self._heard: list[str] = []
        self._finished_turns: set[int] = set()
        self._stopped: set[int] = set()
        self._held: set[int] = set()
        """Turns whose audio waits (a speculative answer, until the endpoint confirms it)."""

    def enqueue(self, chunk: Chunk) -> None:
        with self._lock:
            if chunk.turn not in self._stopped:
                self._chunks.append(chunk)

    @property
    def pending(self) -> bool:
        """Audio is playing or waiting to play."""
        return self.speaking or bool(self._chunks) or self._current is not None

    def end_turn(self, turn: int) -> None:
        """No more audio will come for ``turn``; it ends when its queue drains."""
        with self._lock:
            if turn not in self._stopped:  # a stopped turn's late end means nothing
                self._finished_turns.add(turn)

    def frame(self) -> np.ndarray:
        out = np.zeros(FRAME, np.float32)
        started: tuple[int, float, str] | None = None
        with self._lock:
            if self.paused:
                return out
            filled = 0
            while filled < FRAME:
                if self._current is None or self._pos >= len(self._current.audio):
                    if self._current is not None:
                        self._heard.append(self._current.text)
                    ready = self._chunks and self._chunks[0].turn not in self._held
                    self._current = self._chunks.popleft() if ready else None
                    self._pos = 0
                    if self._current is None:
                        break
                    if not self.speaking:
                        self.speaking = True
                        started = (self._current.turn,
                                   self.clock.now() + filled / FRAME * FRAME_S,
                                   self._current.text)
                take = min(FRAME - filled, len(self._current.audio) - self._pos)
                out[filled:filled + take] = self._current.audio[self._pos:self._pos + take]
                filled += take
                self._pos += take
            done_turn = self._drained_turn()
        if started is not None:
            self.hooks.started(*started)
        if done_turn is not None:
            self.hooks.finished(done_turn, self.clock.now())
        return out

    def _drained_turn(self) -> int | None:
        if self._current is not None or self._chunks or not self.speaking:
            return None
        for turn in sorted(self._finished_turns):
            self._finished_turns.discard(turn)
            self.speaking = False
            self._heard = []
            return turn
        return None

    def hold(self, turn: int) -> None:
        """Queue ``turn``'s audio without playing it until :meth:`release`."""
        with self._lock:
            self._held.add(turn)

    def release(self, turn: int) -> None:
        with self._lock:
            self._held.discard(turn)

    def discard(self, turn: int) -> None:
        """Forget ``turn``'s queued (not yet started) audio, and any that comes later."""
        with self._lock:
            self._stopped.add(turn)
            self._held.discard(turn)
            self._chunks = deque(c for c in self._chunks if c.turn != turn)
            self._finished_turns.discard(turn)

    def pause(self) -> None:
        with self._lock:
            if self.paused or not self.speaking:
                return
            self.paused = True
        self.hooks.paused(self.clock.now())

    def resume(self) -> None:
        with self._lock:
            if not self.paused:
                return
            self.paused = False
        self.hooks.resumed(self.clock.now())

    def stop(self, turn: int | None = None) -> str:
        """Drop everything queued (and any later audio of ``turn``); returns the text the
        listener actually heard."""
        with self._lock:
            self._stopped.update(c.turn for c in (self._current, *self._chunks) if c)
            if turn is not None:
                self._stopped.add(turn)
            heard = list(self._heard)
            if self._current is not None and len(self._current.audio):
                words = self._current.text.split()
                played = round(len(words) * self._pos / len(self._current.audio))
                heard.append(" ".join(words[:played]))
            was_speaking = self.speaking
            self._held.clear()
            self._chunks.clear()
            self._current, self._pos = None, 0
            self._heard, self.speaking, self.paused = [], False, False
            self._finished_turns.clear()
        if was_speaking:
            self.hooks.interrupted(self.clock.now())
        return " ".join(h for h in heard if h)
