"""The live terminal view of ``assistant voice``: state, what the assistant hears (unsure
words underlined, a noisy room marked), what it understood, what it says and the last turn's
latency, redrawn from the loop's events."""

from __future__ import annotations

import threading

from rich.live import Live
from rich.table import Table

from assistant.speech.words import norm_word
from assistant.voice.events import (
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    Partial,
    Speculation,
    SpeculationDropped,
    SpeechStart,
    Transcript,
    TTSChunk,
    TurnEnd,
    VoiceEvent,
)


def marked(text: str, unsure: tuple[str, ...] | None) -> str:
    """``text`` with the words heard unsure underlined (rich markup)."""
    if not unsure:
        return text
    return " ".join(f"[underline]{w}[/]" if norm_word(w) in unsure else w for w in text.split())


class LiveView:
    """State, live transcript, last answer and last turn's latency, redrawn after events."""

    def __init__(self, noisy_below_db: float = 0.0) -> None:
        self.noisy_below_db = noisy_below_db
        """``asr.noisy_below_db``: an utterance from a noisier room is marked as such (its
        command's values must be heard surely)."""
        self.state = "listening"
        self.partial = ""
        self.heard = ""
        self.said = ""
        self.latency = ""
        self._early: list[str] | None = None
        """Clauses of a speculative answer, shown only once the endpoint confirms it."""
        self._fresh = True
        self.changed = threading.Event()
        """An event arrived since the last redraw."""
        self.stop = threading.Event()

    def on_event(self, e: VoiceEvent) -> None:
        self.changed.set()
        match e:
            case SpeechStart():
                self.state, self.partial = "hearing", ""
            case Partial(text=text):
                self.partial = text
            case Speculation():
                self._early = []
            case SpeculationDropped():
                self._early = None
            case Transcript(text=text, ignored=str(ignored)):
                self.heard, self.partial = f"{text} [dim]({ignored})[/]", ""
            case Transcript(text=text, unsure=unsure, snr_db=snr):
                self.state, self.heard, self.partial = "thinking", marked(text, unsure), ""
                if snr is not None and snr < self.noisy_below_db:
                    self.heard += f" [dim](noisy room, {snr:.0f} dB)[/]"
                self.said, self._fresh = " ".join(self._early or []), self._early is None
                self._early = None
            case TTSChunk(text=text) if self._early is not None:
                self._early.append(text)
            case TTSChunk(text=text):
                self.said = text if self._fresh else f"{self.said} {text}"
                self._fresh = False
            case AudioOutStart():
                self.state = "speaking"
            case AudioOutStop() | BargeIn():
                self.state = "listening" if isinstance(e, AudioOutStop) else "interrupted"
                self._fresh = True
            case TurnEnd(latency_ms=latency):
                v2v = latency.get("voice_to_voice")
                self.latency = f"{v2v:.0f} ms voice-to-voice" if v2v is not None else ""

    def redraw(self, live: Live, interval_s: float = 0.25) -> None:
        """Redraw the view when an event changed it, at most every ``interval_s``, until
        ``stop``. Rich's own refresh redraws 8 times a second whether or not anything
        changed, and each redraw holds the GIL the loop's threads need (~60 ms more
        voice-to-voice on a question, measured on 2 cores)."""
        while not self.stop.wait(interval_s):
            if self.changed.is_set():
                self.changed.clear()
                live.update(self.render(), refresh=True)
        live.update(self.render(), refresh=True)

    def render(self) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_row("[bold]state[/]", self.state)
        table.add_row("[bold]hearing[/]", f"[dim]{self.partial}[/]")
        table.add_row("[bold]you said[/]", self.heard)
        table.add_row("[bold]assistant[/]", self.said)
        table.add_row("[bold]last turn[/]", self.latency)
        return table
