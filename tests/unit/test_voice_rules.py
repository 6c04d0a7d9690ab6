"""The voice loop's decisions that need no model: wake phrase, endpointing, what interrupts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.agent import Assistant
from assistant.config import load_config
from assistant.speech.asr import Recognizer
from assistant.speech.tts import Synthesizer
from assistant.voice.loop import VoiceLoop, is_backchannel


@pytest.fixture
def make_loop(tmp_path: Path):
    def make(**voice: object) -> VoiceLoop:
        overrides = {"paths.data_dir": str(tmp_path), "llm.model": str(tmp_path / "no.gguf")}
        overrides.update({f"voice.{k}": v for k, v in voice.items()})
        (tmp_path / "config.toml").write_text("")
        config = load_config(path=tmp_path / "config.toml", overrides=overrides, env={}).config
        return VoiceLoop(Assistant(config, announce=lambda _m: None),
                         Recognizer(tmp_path / "asr"), Synthesizer(tmp_path / "v.onnx"),
                         config.voice)
    return make


def test_wake_phrase_gates_and_strips(make_loop) -> None:
    loop = make_loop(wake_phrase="hey computer")
    assert loop._strip_wake("Hey computer, what time is it?") == "what time is it?"
    assert loop._strip_wake("what time is it") is None
    assert make_loop()._strip_wake("what time is it") == "what time is it"


@pytest.mark.parametrize(("heard", "rest"), [
    ("A computer, what time is it?", "what time is it?"),  # tiny.en on Piper's "hey"
    ("Hi Computer. What time is it?", "What time is it?"),
    ("Heycomputer what time is it", "what time is it"),
    ("Hey, computer.", ""),
    ("What time is it?", None),
    ("Hey Jupiter, what time is it?", None),
])
def test_wake_phrase_is_matched_loosely(make_loop, heard: str, rest: str | None) -> None:
    assert make_loop(wake_phrase="hey computer")._strip_wake(heard) == rest


def test_after_the_wake_phrase_alone_the_next_words_need_none(make_loop) -> None:
    loop = make_loop(wake_phrase="hey computer")
    loop._awake_until = loop.clock.now() + 1.0
    assert loop._strip_wake("what time is it") == "what time is it"


def test_endpointing_adapts_to_the_words(make_loop) -> None:
    loop = make_loop()
    cfg, after = loop.config, loop.endpointer.silence_after
    assert after("Set a timer for five minutes.") == cfg.endpoint_fast_s
    assert after("Set a timer for") == cfg.endpoint_patient_s
    assert after("I was thinking that", judge=True) == cfg.endpoint_s  # no turn model
    assert after("") == cfg.endpoint_s


class _Judge:
    """Stands in for the turn model (tested on the real one in tests/integration)."""

    def __init__(self, verdict: str) -> None:
        self.verdict_given, self.asked = verdict, []

    def verdict(self, text: str) -> str:
        self.asked.append(text)
        return self.verdict_given


@pytest.mark.parametrize(("verdict", "field"), [("finished", "endpoint_finished_s"),
                                                 ("unfinished", "endpoint_patient_s"),
                                                 ("unsure", "endpoint_s")])
def test_the_turn_model_is_asked_only_when_the_rules_cannot_tell(make_loop, verdict: str,
                                                                 field: str) -> None:
    loop = make_loop()
    judge = loop.endpointer.detector = _Judge(verdict)
    assert loop.endpointer.silence_after("Why is the sky blue?", judge=True) == \
        getattr(loop.config, field)
    assert loop.endpointer.silence_after("Why is the sky blue?") == loop.config.endpoint_s
    # A command or an unfinished phrase needs no model.
    assert loop.endpointer.silence_after("What time is it?", judge=True) == \
        loop.config.endpoint_fast_s
    assert loop.endpointer.silence_after("Tell me about the", judge=True) == \
        loop.config.endpoint_patient_s
    assert judge.asked == ["Why is the sky blue?"]


def test_what_interrupts_the_assistant(make_loop) -> None:
    loop = make_loop()
    assert loop._interrupts("Stop.")  # a command
    assert loop._interrupts("tell me about something else")  # a real sentence
    assert not loop._interrupts("Mm-hmm.")
    assert not loop._interrupts("okay")
    assert not loop._interrupts("the cat")  # two words, not a command


def test_push_to_talk_starts_muted(make_loop) -> None:
    assert make_loop(push_to_talk=True).talk_enabled is False
    assert make_loop().talk_enabled is True


def test_echo_gate_per_setup(make_loop) -> None:
    from assistant.speech.audio import FRAME

    quiet = np.full(FRAME, 0.05, np.float32)  # the user, softer than the assistant's 0.2
    loud = np.full(FRAME, 0.5, np.float32)
    for echo, quiet_allowed in (("off", True), ("gate", False), ("aec", True)):
        loop = make_loop(echo=echo)
        loop._ref_rms.append(0.2)
        assert loop._echo_allows(quiet, speaking=True) is quiet_allowed, echo
        assert loop._echo_allows(loud, speaking=True), echo
        assert loop._echo_allows(quiet, speaking=False), echo
    assert not make_loop(interruptible=False)._echo_allows(loud, speaking=True)


def test_speech_over_the_assistant_is_decoded_expecting_the_stop_phrases(make_loop) -> None:
    prompt = make_loop()._stop_prompt()
    assert prompt.startswith("Stop.") and "Be quiet." in prompt and "Cancel that." in prompt


@pytest.mark.parametrize(("text", "is_stop"), [
    ("Stop.", True), ("Start talking.", True), ("cancel bat", True), ("Be quite.", True),
    ("Never mind it", True), ("Top.", True), ("Stop. Stop.", True), ("Stop talking.", True),
    ("what is that", False), ("tell me more", False), ("Scott.", False), ("go on", False),
    ("stop the timer and tell me the time", False), ("", False),
])
def test_a_short_misheard_stop_over_the_assistant_still_stops_it(make_loop, text: str,
                                                                  is_stop: bool) -> None:
    assert make_loop()._sounds_like_stop(text) is is_stop


def test_echo_gate_follows_the_residual_of_our_own_voice(make_loop) -> None:
    from assistant.speech.audio import FRAME
    from assistant.voice.loop import RESIDUAL_MAX, RESIDUAL_MIN

    loop = make_loop(echo="aec")
    loop._ref_rms.extend([0.3] * 15)  # the assistant is talking at 0.3 RMS

    def frame(level: float) -> np.ndarray:
        return np.full(FRAME, level, np.float32)

    assert loop._residual_floor() == RESIDUAL_MIN  # nothing learnt yet: a clean echo path
    assert loop._echo_allows(frame(0.05), speaking=True)
    # A reverberant room: AEC leaves ~10% of our voice, so the gate rises above it...
    for _ in range(200):
        loop._echo_allows(frame(0.03), speaking=True)
    assert loop._residual_floor() == pytest.approx(0.15)  # 1.5 x the residual's 10%
    assert not loop._echo_allows(frame(0.04), speaking=True)
    assert loop._echo_allows(frame(0.2), speaking=True)  # ...and the user must speak up
    # Not while the user is talking (that would deafen it), and at most RESIDUAL_MAX.
    loop._utt = object()
    for _ in range(200):
        loop._echo_allows(frame(1.0), speaking=True)
    assert loop._residual_floor() < 0.2
    loop._utt = None
    for _ in range(200):
        loop._echo_allows(frame(1.0), speaking=True)
    assert loop._residual_floor() == RESIDUAL_MAX


def test_the_turn_model_setting(tmp_path: Path) -> None:
    from assistant.models import ModelError
    from assistant.voice.app import build_detector

    (tmp_path / "config.toml").write_text("")

    def config(value: str):
        return load_config(path=tmp_path / "config.toml", env={},
                           overrides={"voice.turn_model": value}).config

    assert build_detector(config("")) is None  # rules only
    with pytest.raises(ModelError, match="neither a catalogue name"):
        build_detector(config("no-such-model"))


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
