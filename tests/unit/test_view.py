"""assistant.voice.view: what the live view shows for a sequence of events."""

from __future__ import annotations

import time

from assistant.voice.events import (
    AudioOutStart,
    BargeIn,
    Speculation,
    SpeculationDropped,
    SpeechStart,
    Transcript,
    TTSChunk,
    TurnEnd,
    VoiceEvent,
)
from assistant.voice.view import LiveView


def _view(*events: VoiceEvent) -> LiveView:
    view = LiveView()
    for event in events:
        view.on_event(event)
    return view


def test_live_view_shows_a_speculative_answer_only_once_confirmed() -> None:
    early = [SpeechStart(0.0, False), Speculation(0.1, "What time is it?"),
             TTSChunk(0.1, "It's 9:05.")]
    view = _view(*early)
    assert view.said == "" and view.state == "hearing"
    view = _view(*early, Transcript(0.3, "What time is it?"), AudioOutStart(0.3, "It's"))
    assert (view.heard, view.said, view.state) == ("What time is it?", "It's 9:05.", "speaking")


def test_live_view_forgets_a_dropped_speculation() -> None:
    view = _view(Speculation(0.0, "Tell me about"), TTSChunk(0.0, "Sure."),
                 SpeculationDropped(0.1, "Tell me about"),
                 Transcript(0.5, "Tell me about the sun."),
                 TTSChunk(0.5, "The sun"), TTSChunk(0.6, "is a star."))
    assert view.said == "The sun is a star."


def test_live_view_marks_ignored_words() -> None:
    view = _view(Transcript(0.0, "What time is it?", ignored="no wake phrase"))
    assert "no wake phrase" in view.heard and view.state == "listening"


def test_live_view_marks_a_noisy_room() -> None:
    view = LiveView(noisy_below_db=10.0)
    view.on_event(Transcript(0.0, "Set a timer for 15 minutes.", snr_db=8.4))
    assert view.heard == "Set a timer for 15 minutes. [dim](noisy room, 8 dB)[/]"
    view.on_event(Transcript(1.0, "Set a timer for 15 minutes.", snr_db=24.0))
    assert view.heard == "Set a timer for 15 minutes."


def test_live_view_after_an_interruption_and_a_turn() -> None:
    view = _view(AudioOutStart(0.0, "Once"), TTSChunk(0.0, "Once upon a time"), BargeIn(1.0))
    assert view.state == "interrupted"
    view.on_event(TurnEnd(2.0, "fast", False, {"voice_to_voice": 312.4}))
    assert view.latency == "312 ms voice-to-voice"


class _Screen:
    """Stands in for rich's Live in a test of when the view redraws."""

    def __init__(self) -> None:
        self.drawn = 0

    def update(self, _renderable: object, refresh: bool = False) -> None:
        self.drawn += refresh


def test_live_view_redraws_only_after_events() -> None:
    import threading

    view, screen = LiveView(), _Screen()
    redraw = threading.Thread(target=view.redraw, args=(screen, 0.01), daemon=True)
    redraw.start()
    time.sleep(0.1)
    assert screen.drawn == 0  # nothing happened: nothing redrawn
    view.on_event(SpeechStart(0.0, False))
    deadline = time.monotonic() + 2
    while screen.drawn == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert screen.drawn == 1
    view.stop.set()
    redraw.join()
    assert screen.drawn == 2  # and once more on the way out
