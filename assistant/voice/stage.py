"""A stage of the voice loop: one thread taking typed frames from its own queue, one at a time,
until the shutdown frame; and the count of frames in flight across stages, which tells the
file driver whether anything is computing (``--fast`` races through idle stretches only)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from assistant.voice.frames import SHUTDOWN, Frame, Shutdown

F = TypeVar("F", bound=Frame)


class Work:
    """Frames queued or being handled, over all the stages that share it."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self._count += 1

    def done(self) -> None:
        with self._lock:
            self._count -= 1

    @property
    def count(self) -> int:
        return self._count


class Stage(Generic[F]):
    """``handle`` runs on the stage's thread for each frame put; a failure is passed to
    ``failed`` (the loop reports it as an event) and the stage takes the next frame."""

    def __init__(self, name: str, handle: Callable[[F], None], work: Work,
                 failed: Callable[[str, Exception], None]) -> None:
        self.name = name
        self._handle = handle
        self._work = work
        self._failed = failed
        self._queue: queue.Queue[F | Shutdown] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def put(self, frame: F) -> None:
        self._work.add()
        self._queue.put(frame)

    def backlog(self) -> int:
        """Frames waiting (not counting the one being handled)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Let the frames already queued through, then end the thread."""
        self._queue.put(SHUTDOWN)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not isinstance(frame := self._queue.get(), Shutdown):
            try:
                self._handle(frame)
            except Exception as exc:
                self._failed(self.name, exc)
            finally:
                self._work.done()
