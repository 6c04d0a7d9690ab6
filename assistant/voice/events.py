"""What the voice loop heard, decided and said, stamped on the input timeline.

One frozen dataclass per kind of event, all of them in the union :data:`VoiceEvent`; consumers
(the live view, the ``--events`` file, the tests, ``assistant bench voice``) match on the
classes. On disk each event is one JSON line, ``{"t": seconds, "type": ..., <its fields>}``
(:meth:`Event.as_dict`), sorted by time; the documented list of types (README, ``assistant
voice --help``) is generated from the classes by :func:`catalogue`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin, get_type_hints


@dataclass(frozen=True)
class Event:
    """The base of every event."""

    t: float
    """Seconds on the input timeline (0 = first microphone sample)."""
    type: ClassVar[str]
    """Its name in the JSON line."""
    optional: ClassVar[tuple[str, ...]] = ()
    """Fields left out of the JSON line when they are None."""

    def __init_subclass__(cls, type: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type = type

    def data(self) -> dict[str, Any]:
        """The fields after ``t``, as the JSON line carries them."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "t"}
        return {k: v for k, v in data.items() if v is not None or k not in self.optional}

    def as_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "type": self.type, **self.data()}


@dataclass(frozen=True)
class _Words(Event):
    """An event about some words (heard or said)."""

    text: str


@dataclass(frozen=True)
class SpeechStart(Event, type="speech_start"):
    """The user started speaking (the onset, pre-roll excluded)."""

    during_playback: bool
    """Over the assistant's voice: playback pauses at once (see ``barge_in``)."""


class Partial(_Words, type="partial"):
    """The live transcript of the utterance so far."""


class SpeechEnd(Event, type="speech_end"):
    """The utterance's last voiced frame, stamped once its end is decided."""


class Speculation(_Words, type="speculation"):
    """An answer started during the closing silence; its audio waits for the endpoint."""


class SpeculationDropped(_Words, type="speculation_dropped"):
    """The user went on: the early answer is cancelled, never heard, never in the history."""


@dataclass(frozen=True)
class Transcript(Event, type="transcript"):
    """The utterance's final words; `command` is what they were taken as when that differs
    ("stop" for a misheard "Top."), `ignored` why nothing is done with them (no wake phrase,
    wake phrase only, not a request), `unsure` the words heard with a probability under
    `asr.unsure_below` (the turn may ask about them), `snr_db` how far the speech stood above
    the room's noise (under `asr.noisy_below_db`, a command's values must be heard surely)."""

    optional: ClassVar[tuple[str, ...]] = ("command", "ignored", "unsure", "snr_db")
    text: str
    command: str | None = None
    """What the words were taken as, when that differs ("stop" for a misheard "Top.")."""
    ignored: str | None = None
    """Why nothing is done with them: no wake phrase, wake phrase only, not a request."""
    unsure: tuple[str, ...] | None = None
    """The words heard with a probability under ``asr.unsure_below``, when there are any."""
    snr_db: float | None = None
    """The estimated speech-to-noise ratio of the utterance, in dB."""


@dataclass(frozen=True)
class Wake(Event, type="wake"):
    """The wake phrase alone: the next utterance needs none until `until` (seconds)."""

    until: float


@dataclass(frozen=True)
class ToolCall(Event, type="tool_call"):
    """A skill ran for the answer (a speculative answer's only once it is confirmed)."""

    name: str
    arguments: dict[str, Any]
    result: Any
    ok: bool


@dataclass(frozen=True)
class Retrieval(Event, type="retrieval"):
    """The memory was searched for the answer (a speculative answer's once confirmed)."""

    ids: list[str]
    sources: list[str]
    ms: float


class LLMFirstToken(Event, type="llm_first_token"):
    """The LLM's first words of the answer."""


class TTSChunk(_Words, type="tts_chunk"):
    """A clause of the answer goes to the synthesiser."""


@dataclass(frozen=True)
class AudioOutStart(Event, type="audio_out_start"):
    """The first sound of an answer plays."""

    text: str
    """The words of its first piece."""


class AudioOutPause(Event, type="audio_out_pause"):
    """Speech over the assistant paused playback."""


class AudioOutResume(Event, type="audio_out_resume"):
    """Playback goes on where it paused (the sound was no interruption)."""


@dataclass(frozen=True)
class AudioOutStop(Event, type="audio_out_stop"):
    """Playback ended: the answer was all played, or it was cut short."""

    reason: Literal["done", "interrupted"]


class BargeIn(Event, type="barge_in"):
    """Speech over the assistant interrupts it: generation, synthesis and playback stop."""


@dataclass(frozen=True)
class BargeInDismissed(Event, type="barge_in_dismissed"):
    """Speech over the assistant was no interruption (a noise, "mm-hm"); playback resumes
    once the user is quiet."""

    reason: str
    text: str


@dataclass(frozen=True)
class TurnEnd(Event, type="turn_end"):
    """An answer's first sound played (or it had nothing to say): its latency breakdown in
    ms, `endpointing`, `asr_final`, `llm_ttft`, `first_chunk`, `tts_first_audio` and
    `voice_to_voice` (for a `speculative` turn the model stamps count from its early
    transcript, so they overlap the endpointing); `path` is fast (a skill pattern), llm or
    memory (a note's sentence)."""

    path: str
    """How it was answered: fast (a skill pattern), llm, memory (a note's sentence)."""
    speculative: bool
    """Started before the endpoint: the model stamps count from its early transcript."""
    latency_ms: dict[str, float | None]
    """endpointing, asr_final, llm_ttft, first_chunk, tts_first_audio, voice_to_voice."""


@dataclass(frozen=True)
class Error(Event, type="error"):
    """A stage failed on one frame; the loop goes on listening."""

    where: str
    message: str


@dataclass(frozen=True)
class Hub(Event, type="hub"):
    """A satellite's link to its hub came up or went down (it reconnects by itself)."""

    connected: bool
    detail: str


VoiceEvent = (SpeechStart | Partial | SpeechEnd | Speculation | SpeculationDropped | Transcript
              | Wake | ToolCall | Retrieval | LLMFirstToken | TTSChunk | AudioOutStart
              | AudioOutPause | AudioOutResume | AudioOutStop | BargeIn | BargeInDismissed
              | TurnEnd | Error | Hub)
"""Every event the voice loop emits."""

EVENT_TYPES: tuple[type[Event], ...] = get_args(VoiceEvent)


def catalogue() -> str:
    """The documented list of event types, one Markdown bullet each, from the classes."""
    lines = []
    for kind in EVENT_TYPES:
        hints = get_type_hints(kind)
        names = [f.name + (": " + " | ".join(get_args(hints[f.name]))
                           if get_origin(hints[f.name]) is Literal else "")
                 for f in fields(kind) if f.name != "t"]
        shown = f" ({', '.join(names)})" if names else ""
        doc = " ".join((kind.__doc__ or "").split())
        lines.append(f"* `{kind.type}`{shown}: {doc}")
    return "\n".join(lines)


E = TypeVar("E", bound=Event)


class EventLog:
    """Collects events, forwards them to listeners, writes them sorted by time on close."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.events: list[VoiceEvent] = []
        self.listeners: list[Callable[[VoiceEvent], None]] = []
        self._lock = threading.Lock()

    def emit(self, event: VoiceEvent) -> None:
        with self._lock:
            self.events.append(event)
        for listener in self.listeners:
            listener(event)

    def of_type(self, kind: type[E]) -> list[E]:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def close(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            ordered = sorted(self.events, key=lambda e: e.t)
        with self.path.open("w", encoding="utf-8") as fh:
            for e in ordered:
                fh.write(json.dumps(e.as_dict(), default=str) + "\n")
