"""The clock that time-based skills live by: timers, alarms, reminders, "what time is it".

Live, that is the wall clock (:class:`WallClock`: ``time.time()`` and ``threading.Timer``).
A voice run from a file is not live: its time is the input's timeline, and with ``--fast``
that timeline races ahead of the wall clock through idle stretches. A five-second timer set
at 0:10 of the file went off five wall-clock seconds later, long after the run had raced to
its end, so it was never heard. :class:`Timeline` is a file run's clock: the wall time the
run began plus the seconds of input played, and its timers go off when the loop's frames
reach them, at the same point of the timeline as in a live run. A timer due after the input
(and the answers) end is not waited for, as in a live run stopped at that point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class Handle(Protocol):
    """A timer that can be called off."""

    def cancel(self) -> None: ...


class SkillClock(Protocol):
    """Now, and calling back at a time, on one clock (seconds since the epoch)."""

    def now(self) -> float: ...

    def call_at(self, due: float, callback: Callable[[], None]) -> Handle: ...


class WallClock:
    """The real time: a callback runs on its own daemon ``threading.Timer``."""

    def now(self) -> float:
        return time.time()

    def call_at(self, due: float, callback: Callable[[], None]) -> Handle:
        handle = threading.Timer(max(0.0, due - time.time()), callback)
        handle.daemon = True  # a pending timer must never keep the process alive
        handle.start()
        return handle


@dataclass
class _Pending:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Timeline:
    """A file run's clock: ``start`` (the wall time it began) plus ``seconds()`` (the input
    played so far). Callbacks run from :meth:`advance`, which the run calls every frame."""

    def __init__(self, seconds: Callable[[], float], start: float | None = None) -> None:
        self._seconds = seconds
        self._start = time.time() if start is None else start
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._start + self._seconds()

    def call_at(self, due: float, callback: Callable[[], None]) -> Handle:
        pending = _Pending(due, callback)
        with self._lock:
            self._pending.append(pending)
        return pending

    def advance(self) -> None:
        """Run the callbacks that fell due, each on a daemon thread: an announcement takes
        a turn's time, and the frame that reached it must not wait for that."""
        now = self.now()
        with self._lock:
            due = [p for p in self._pending if p.due <= now and not p.cancelled]
            self._pending = [p for p in self._pending if p.due > now and not p.cancelled]
        for pending in due:
            threading.Thread(target=pending.callback, name="timeline-timer", daemon=True).start()

    def ticking(self, tick: Callable[[A], R]) -> Callable[[A], R]:
        """``tick`` (a driver's per-frame call) that first advances this clock."""

        def advanced(frame: A) -> R:
            self.advance()
            return tick(frame)

        return advanced
