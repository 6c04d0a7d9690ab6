"""The voice loop's events: what it heard, decided and said, stamped on the input timeline.

Each event is one JSON line ``{"t": seconds, "type": ..., ...}``. The same stream drives the
live terminal view, the ``--events`` file, the tests and ``assistant bench voice``.

Types: ``speech_start``, ``speech_end``, ``partial`` (text), ``transcript`` (text),
``tool_call`` (name, arguments, result), ``llm_first_token``, ``tts_chunk`` (text),
``audio_out_start``, ``audio_out_stop`` (reason: done | interrupted), ``audio_out_pause`` and
``audio_out_resume`` (speech over the assistant pauses it at once), ``barge_in``,
``barge_in_dismissed`` (a noise or "mm-hm" paused playback, which then resumed), ``wake``,
``turn_end`` (latency breakdown in ms: endpointing, asr_final, llm_ttft, first_chunk,
tts_first_audio, voice_to_voice).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Event:
    t: float
    """Seconds on the input timeline (0 = first microphone sample)."""
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "type": self.type, **self.data}


class EventLog:
    """Collects events, forwards them to listeners, writes them sorted by time on close."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.events: list[Event] = []
        self.listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def emit(self, t: float, type_: str, **data: Any) -> Event:
        event = Event(t, type_, data)
        with self._lock:
            self.events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def of_type(self, type_: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.type == type_]

    def close(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            ordered = sorted(self.events, key=lambda e: e.t)
        with self.path.open("w", encoding="utf-8") as fh:
            for e in ordered:
                fh.write(json.dumps(e.as_dict(), default=str) + "\n")
