"""Parts of the voice loop that run without models: VAD, backchannels, the Player and the
event log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.speech.audio import FRAME, FRAME_S, RATE, Clock
from assistant.speech.player import Chunk, Player
from assistant.speech.vad import VadConfig, VoiceDetector, to_pcm16
from assistant.voice.app import LiveView
from assistant.voice.events import Event, EventLog
from assistant.voice.loop import is_backchannel

# ---------------------------------------------------------------------- VAD


def _voiced_frame(index: int = 0) -> np.ndarray:
    """A 200 Hz sawtooth (a buzz rich in harmonics, like a vowel) at 0.3: webrtcvad calls
    it speech in every mode."""
    t = (np.arange(FRAME) + index * FRAME) / RATE
    return (0.3 * (2 * ((200 * t) % 1) - 1)).astype(np.float32)


SILENCE = np.zeros(FRAME, np.float32)


def _noise(rms: float, frames: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, rms, FRAME).astype(np.float32) for _ in range(frames)]


def _pattern(detector: VoiceDetector, pattern: str) -> list[tuple[bool, bool]]:
    """Push 'V' (voiced) and '.' (silent) frames; return (voiced, onset) per frame."""
    return [detector.push(_voiced_frame(i) if c == "V" else SILENCE)
            for i, c in enumerate(pattern)]


def test_to_pcm16_scales_and_clips() -> None:
    pcm = np.frombuffer(to_pcm16(np.array([0.0, 0.5, 1.0, -1.0, 3.0, -3.0])), np.int16)
    assert pcm.tolist() == [0, 16383, 32767, -32767, 32767, -32767]
    assert len(to_pcm16(SILENCE)) == 2 * FRAME


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_test_signal_is_voiced(mode: int) -> None:
    detector = VoiceDetector(VadConfig(aggressiveness=mode))
    assert all(detector.is_voiced(_voiced_frame(i)) for i in range(20))


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_silence_is_never_voiced(mode: int) -> None:
    detector = VoiceDetector(VadConfig(aggressiveness=mode))
    results = [detector.push(SILENCE) for _ in range(50)]
    assert results == [(False, False)] * 50


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_quiet_noise_is_never_voiced(mode: int) -> None:
    # Noise just under min_rms: webrtcvad alone calls some of these frames speech (checked
    # below), the level gate must not.
    frames = _noise(0.003, 60, seed=mode)
    detector = VoiceDetector(VadConfig(aggressiveness=mode, min_rms=0.004))
    assert not any(voiced for voiced, _ in (detector.push(f) for f in frames))
    ungated = VoiceDetector(VadConfig(aggressiveness=mode, min_rms=0.0))
    assert any(ungated.is_voiced(f) for f in frames), "test noise no longer fools webrtcvad"


def test_vad_allowed_false_vetoes() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    for i in range(10):
        assert detector.push(_voiced_frame(i), allowed=False) == (False, False)
    # Vetoed frames left nothing behind: onset still needs three voiced frames.
    assert detector.push(_voiced_frame(10)) == (True, False)
    assert detector.push(_voiced_frame(11)) == (True, False)
    assert detector.push(_voiced_frame(12)) == (True, True)


def test_vad_onset_needs_onset_frames_in_a_row() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    assert _pattern(detector, "VVV") == [(True, False), (True, False), (True, True)]


def test_vad_onset_over_playback_needs_only_barge_onset_frames() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, barge_onset_frames=2))
    voiced = [detector.push(_voiced_frame(i), over_playback=True) for i in range(2)]
    assert voiced == [(True, False), (True, True)]
    assert detector.onset_frames(over_playback=True) == 2
    assert detector.onset_frames(over_playback=False) == 3


def test_vad_onset_counts_voiced_frames_within_the_window() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    # V . . V V: three voiced frames within five -> onset on the fifth.
    assert [onset for _, onset in _pattern(detector, "V..VV")] == [False] * 4 + [True]

    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    # V . . . V V: the first V has left the window -> no onset yet; one more V gives it.
    assert [onset for _, onset in _pattern(detector, "V...VVV")] == [False] * 6 + [True]


def test_vad_isolated_clicks_never_make_an_onset() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    results = _pattern(detector, "V..V..V..V..V..V")
    assert not any(onset for _, onset in results)
    assert sum(voiced for voiced, _ in results) == 6


def test_vad_reset_forgets_recent_frames() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    _pattern(detector, "VV")
    detector.reset()
    assert _pattern(detector, "V") == [(True, False)]


@pytest.mark.parametrize(("pre_roll_s", "frames"), [(0.1, 5), (0.3, 15), (0.5, 25)])
def test_vad_pre_roll_keeps_at_most_pre_roll_s(pre_roll_s: float, frames: int) -> None:
    detector = VoiceDetector(VadConfig(pre_roll_s=pre_roll_s))
    pushed = [np.full(FRAME, i / 1000, np.float32) for i in range(40)]
    for f in pushed:
        detector.push(f, allowed=False)  # vetoed frames are still kept
    kept = list(detector.pre_roll)
    assert len(kept) == frames
    assert len(kept) * FRAME_S <= pre_roll_s + 1e-9
    for got, want in zip(kept, pushed[-frames:], strict=True):  # the newest, in order
        np.testing.assert_array_equal(got, want)


def test_vad_pre_roll_before_it_fills() -> None:
    detector = VoiceDetector(VadConfig(pre_roll_s=0.3))
    for _ in range(4):
        detector.push(SILENCE)
    assert len(detector.pre_roll) == 4


# ---------------------------------------------------------------------- backchannels


@pytest.mark.parametrize("text", ["mm-hm", "Mm-hmm.", "yeah", "Yeah.", "okay.", "OK", "uh-huh",
                                  "oh okay", "yeah, right", "", "  ", "...", "Hmm?",
                                  "Um, uh, uh,", "uh um er hmm"])
def test_is_backchannel_true(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["stop", "Stop.", "what time is it", "wait", "no",
                                  "okay stop", "yeah but what about tomorrow",
                                  "okay okay okay"])
def test_is_backchannel_false(text: str) -> None:
    assert not is_backchannel(text)


@pytest.mark.parametrize("text", ["I see.", "Hm.", "Mm hm."])
def test_is_backchannel_i_see_and_hm(text: str) -> None:
    assert is_backchannel(text)


# ---------------------------------------------------------------------- Player


class Harness:
    """A Player on a fresh event log and clock, with its callbacks recorded."""

    def __init__(self) -> None:
        self.events = EventLog()
        self.clock = Clock()
        self.player = Player(self.events, self.clock)
        self.started: list[tuple[int, float]] = []
        self.done: list[int] = []
        self.player.on_start = lambda turn, t: self.started.append((turn, t))
        self.player.on_done = self.done.append

    def pull(self, frames: int) -> np.ndarray:
        out = []
        for _ in range(frames):
            frame = self.player.frame()
            assert frame.shape == (FRAME,)
            assert frame.dtype == np.float32
            out.append(frame)
            self.clock.advance()
        return np.concatenate(out)

    def types(self) -> list[str]:
        return [e.type for e in self.events.events]

    def stops(self) -> list[str]:
        return [e.data["reason"] for e in self.events.of_type("audio_out_stop")]


def _audio(samples: int, start: float) -> np.ndarray:
    """Distinct, never-zero samples so position in the stream can be checked."""
    return (start + np.arange(samples) * 1e-5).astype(np.float32)


FIRST = Chunk(1, "one two three four", _audio(2 * FRAME, 0.1))
SECOND = Chunk(1, "five six", _audio(4 * FRAME, -0.1))


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_player_idle_is_silent_and_not_pending(h: Harness) -> None:
    assert not h.player.pending
    assert not h.pull(5).any()
    assert h.events.events == []
    assert not h.player.speaking


def test_player_plays_chunks_back_to_back(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    assert h.player.pending
    out = h.pull(8)
    np.testing.assert_array_equal(out[: 6 * FRAME], np.concatenate([FIRST.audio, SECOND.audio]))
    assert not out[6 * FRAME:].any()
    assert h.types() == ["audio_out_start"]
    assert h.events.events[0].data == {"text": "one two three four"}
    assert h.events.events[0].t == pytest.approx(0.0, abs=FRAME_S)
    assert [turn for turn, _ in h.started] == [1]


def test_player_fills_frames_across_unaligned_chunks(h: Harness) -> None:
    a = Chunk(1, "a", _audio(500, 0.2))
    b = Chunk(1, "b", _audio(700, -0.2))
    c = Chunk(1, "c", _audio(100, 0.4))
    for chunk in (a, b, c):
        h.player.enqueue(chunk)
    out = h.pull(5)
    np.testing.assert_array_equal(out[:1300], np.concatenate([a.audio, b.audio, c.audio]))
    assert not out[1300:].any()
    assert h.types() == ["audio_out_start"]


def test_player_start_time_is_within_the_frame(h: Harness) -> None:
    h.pull(3)
    h.player.enqueue(FIRST)
    h.pull(1)
    (event,) = h.events.of_type("audio_out_start")
    assert 3 * FRAME_S <= event.t <= 4 * FRAME_S
    assert h.started == [(1, event.t)]


def test_player_pause_is_silent_and_resume_continues(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    first = h.pull(1)
    h.player.pause()
    assert h.player.paused
    assert h.player.pending
    paused = h.pull(3)
    assert not paused.any()
    h.player.resume()
    rest = h.pull(5)
    reference = np.concatenate([FIRST.audio, SECOND.audio])
    np.testing.assert_array_equal(np.concatenate([first, rest])[: len(reference)], reference)
    assert h.types().count("audio_out_start") == 1
    assert "audio_out_stop" not in h.types()


def test_player_stop_mid_chunk_returns_what_was_heard(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    h.pull(4)  # all of FIRST and half of SECOND
    heard = h.player.stop()
    assert heard == "one two three four five"
    assert h.stops() == ["interrupted"]
    assert not h.player.pending
    assert not h.player.speaking
    assert not h.pull(4).any()
    assert h.done == []


def test_player_stop_during_first_chunk_counts_words_proportionally(h: Harness) -> None:
    h.player.enqueue(Chunk(1, "a b c d e f g h", _audio(8 * FRAME, 0.1)))
    h.pull(6)
    assert h.player.stop() == "a b c d e f"


def test_player_stop_while_paused(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.pull(1)
    h.player.pause()
    h.pull(3)
    assert h.player.stop() == "one two"
    assert h.stops() == ["interrupted"]
    assert not h.player.paused


def test_player_stop_when_silent_says_nothing(h: Harness) -> None:
    assert h.player.stop() == ""
    assert h.events.events == []


def test_player_done_once_after_end_turn_and_drain(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    h.pull(4)
    h.player.end_turn(1)
    assert h.player.pending
    h.pull(2)  # the last samples of SECOND
    assert h.done == []
    h.pull(5)
    assert h.stops() == ["done"]
    assert h.done == [1]
    assert not h.player.pending
    assert not h.player.speaking
    h.pull(10)
    assert h.stops() == ["done"]
    assert h.done == [1]


def test_player_keeps_speaking_between_chunks_until_end_turn(h: Harness) -> None:
    # The synthesiser is slower than playback: the queue runs dry mid-answer.
    h.player.enqueue(FIRST)
    h.pull(5)
    assert h.player.speaking
    assert h.player.pending
    assert h.stops() == []
    h.player.enqueue(SECOND)
    out = h.pull(4)
    np.testing.assert_array_equal(out, SECOND.audio)
    assert h.types() == ["audio_out_start"]  # one answer, one start
    h.player.end_turn(1)
    h.pull(2)
    assert h.stops() == ["done"]
    assert h.done == [1]


def test_player_next_turn_starts_again(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.end_turn(1)
    h.pull(4)
    h.player.enqueue(Chunk(2, "again", _audio(FRAME, 0.3)))
    h.player.end_turn(2)
    h.pull(3)
    assert h.types() == ["audio_out_start", "audio_out_stop", "audio_out_start",
                         "audio_out_stop"]
    assert h.done == [1, 2]
    assert [turn for turn, _ in h.started] == [1, 2]


def test_player_pending_reflects_queued_audio(h: Harness) -> None:
    assert not h.player.pending
    h.player.enqueue(FIRST)
    assert h.player.pending  # queued, not yet playing
    h.player.end_turn(1)
    h.pull(1)
    assert h.player.pending  # playing
    h.pull(2)
    assert not h.player.pending


def test_player_late_end_turn_of_an_interrupted_turn_is_ignored(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.pull(1)
    h.player.stop()  # barge-in
    h.player.end_turn(1)  # the cancelled turn's end marker arrives afterwards
    h.player.enqueue(Chunk(2, "first clause,", _audio(FRAME, 0.3)))
    h.pull(3)  # the next clause is still being synthesised
    assert h.stops() == ["interrupted"]
    assert h.done == []
    h.player.enqueue(Chunk(2, "second clause.", _audio(FRAME, 0.3)))
    h.player.end_turn(2)
    h.pull(3)
    assert h.stops() == ["interrupted", "done"]
    assert h.done == [2]


# ---------------------------------------------------------------------- events


def test_event_log_emit_calls_listeners_and_keeps_events() -> None:
    log = EventLog()
    seen: list[Event] = []
    also: list[str] = []
    log.listeners.append(seen.append)
    log.listeners.append(lambda e: also.append(e.type))
    event = log.emit(1.5, "transcript", text="hello")
    assert isinstance(event, Event)
    assert (event.t, event.type, event.data) == (1.5, "transcript", {"text": "hello"})
    assert seen == [event]
    assert also == ["transcript"]
    log.emit(0.2, "speech_start")
    assert [e.type for e in log.events] == ["transcript", "speech_start"]
    assert log.of_type("speech_start")[0].t == 0.2
    assert log.of_type("barge_in") == []


def test_event_as_dict_rounds_time_and_flattens_data() -> None:
    event = Event(1.23456, "tts_chunk", {"text": "hi", "n": 2})
    assert event.as_dict() == {"t": 1.235, "type": "tts_chunk", "text": "hi", "n": 2}


def test_event_log_close_writes_jsonl_sorted_by_time(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "events.jsonl"
    log = EventLog(path)
    log.emit(2.0, "transcript", text="what time is it")
    log.emit(0.5, "speech_start", during_playback=False)
    log.emit(1.25, "speech_end")
    log.emit(3.0, "tool_call", name="time", arguments={}, result=Path("x"))
    assert not path.exists()  # written on close
    log.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["t"] for r in rows] == [0.5, 1.25, 2.0, 3.0]
    assert rows[0] == {"t": 0.5, "type": "speech_start", "during_playback": False}
    assert rows[1] == {"t": 1.25, "type": "speech_end"}
    assert rows[2] == {"t": 2.0, "type": "transcript", "text": "what time is it"}
    assert rows[3]["result"] == "x"  # not JSON: written as its string
    assert all(list(r)[:2] == ["t", "type"] for r in rows)


def test_event_log_without_path_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    log = EventLog()
    log.emit(0.0, "wake")
    log.close()
    assert list(tmp_path.iterdir()) == []


def test_drop_overlap_removes_a_repeated_start_of_the_tail() -> None:
    from assistant.speech.asr import drop_overlap

    done = "Remember that my bike is in the garage."
    assert drop_overlap(done, "Remember that my bike is in the garage") == ""
    assert drop_overlap(done, "in the garage. And the car too.") == "And the car too."
    assert drop_overlap(done, "And the car too.") == "And the car too."
    assert drop_overlap("", "Hello there.") == "Hello there."


def test_short_utterances_are_never_trimmed() -> None:
    from assistant.speech.asr import TRIM_AFTER_S, Segment, StreamingTranscriber, Transcript

    stream = StreamingTranscriber(recognizer=None)  # type: ignore[arg-type]
    stream.audio = np.zeros(int((TRIM_AFTER_S - 1) * 16000), np.float32)
    stream._previous = ["One.", "Two", "three."]
    hyp = Transcript("One. Two three.", [Segment(0.0, 0.5, "One."),
                                         Segment(0.5, 1.0, "Two three.")])
    stream._trim(hyp, agreed=3)
    assert len(stream.audio) == int((TRIM_AFTER_S - 1) * 16000) and stream._done == ""
    stream.audio = np.zeros(int((TRIM_AFTER_S + 2) * 16000), np.float32)
    stream._trim(hyp, agreed=3)
    assert stream._done == "One. Two three."


class _ScriptedRecognizer:
    """Stands in for Whisper in a test of what the streaming transcriber asks of it (the
    greedy-or-beam decision itself is tested on the real model in tests/integration)."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, str | None]] = []

    def transcribe(self, audio: np.ndarray, prompt: str = "", beam: bool = False,
                   keep_greedy=None):
        from assistant.speech.asr import Transcript

        self.calls.append((beam, keep_greedy and str(keep_greedy("ten meters"))))
        return Transcript("ten meters")


@pytest.mark.parametrize(("greedy_first", "calls"), [
    (True, [(False, "go forward ten meters")]),  # greedy, judged on the whole utterance
    (False, [(True, None)]),  # the words so far were no command: straight to the beam
])
def test_final_decode_asks_for_greedy_or_beam(greedy_first: bool, calls: list) -> None:
    from assistant.speech.asr import StreamingTranscriber

    recognizer = _ScriptedRecognizer()
    stream = StreamingTranscriber(recognizer)  # type: ignore[arg-type]
    stream._done = "go forward"  # text of audio already trimmed away
    stream.add(np.zeros(RATE, np.float32))
    final = stream.final(keep_greedy=lambda text: text, greedy_first=greedy_first)
    assert final.text == "go forward ten meters"
    assert recognizer.calls == calls


def test_player_holds_a_turn_until_released(h: Harness) -> None:
    h.player.hold(1)
    h.player.enqueue(FIRST)
    assert not h.pull(3).any()  # queued, not played
    assert h.player.pending and h.events.events == []
    h.player.release(1)
    out = h.pull(2)
    np.testing.assert_array_equal(out, FIRST.audio)
    assert h.types() == ["audio_out_start"]


def test_player_discard_drops_only_that_turn_silently(h: Harness) -> None:
    other = Chunk(2, "later", _audio(FRAME, 0.3))
    h.player.hold(1)
    h.player.enqueue(FIRST)
    h.player.enqueue(other)
    h.player.discard(1)
    h.player.enqueue(SECOND)  # a late piece of the discarded turn is refused too
    np.testing.assert_array_equal(h.pull(1), other.audio)
    assert not h.pull(3).any()
    assert h.types() == ["audio_out_start"]


# ---------------------------------------------------------------------- live view


def _view(*events: tuple[str, dict]) -> LiveView:
    view = LiveView()
    for kind, data in events:
        view.on_event(Event(0.0, kind, data))
    return view


def test_live_view_shows_a_speculative_answer_only_once_confirmed() -> None:
    early = [("speech_start", {}), ("speculation", {"text": "What time is it?"}),
             ("tts_chunk", {"text": "It's 9:05."})]
    view = _view(*early)
    assert view.said == "" and view.state == "hearing"
    view = _view(*early, ("transcript", {"text": "What time is it?"}),
                 ("audio_out_start", {"text": "It's"}))
    assert (view.heard, view.said, view.state) == ("What time is it?", "It's 9:05.", "speaking")


def test_live_view_forgets_a_dropped_speculation() -> None:
    view = _view(("speculation", {"text": "Tell me about"}), ("tts_chunk", {"text": "Sure."}),
                 ("speculation_dropped", {"text": "Tell me about"}),
                 ("transcript", {"text": "Tell me about the sun."}),
                 ("tts_chunk", {"text": "The sun"}), ("tts_chunk", {"text": "is a star."}))
    assert view.said == "The sun is a star."


def test_live_view_marks_ignored_words() -> None:
    view = _view(("transcript", {"text": "What time is it?", "ignored": "no wake phrase"}))
    assert "no wake phrase" in view.heard and view.state == "listening"


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
    view.on_event(Event(0.0, "speech_start", {}))
    deadline = time.monotonic() + 2
    while screen.drawn == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert screen.drawn == 1
    view.stop.set()
    redraw.join()
    assert screen.drawn == 2  # and once more on the way out
