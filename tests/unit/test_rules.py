"""assistant.voice.rules: backchannels, the wake phrase, stop likeness, what interrupts, the
echo gate's floor."""

from __future__ import annotations

import pytest

from assistant.config import VoiceTuning
from assistant.voice import rules

STOP = ("stop", "stop it", "stop talking", "stop speaking", "be quiet", "shut up", "hush",
        "cancel that", "never mind", "that's enough", "stop that")
"""The built-in stop skill's phrases."""
COMMANDS = {"stop", "what time is it"}


def is_command(text: str) -> bool:
    return " ".join(text.lower().strip(" .?!").split()) in COMMANDS


@pytest.mark.parametrize("text", ["mm-hm", "Mm-hmm.", "yeah", "Yeah.", "okay.", "OK", "uh-huh",
                                  "oh okay", "yeah, right", "", "  ", "...", "Hmm?",
                                  "Um, uh, uh,", "uh um er hmm", "I see.", "Hm.", "Mm hm."])
def test_is_backchannel_true(text: str) -> None:
    assert rules.is_backchannel(text)


@pytest.mark.parametrize("text", ["stop", "Stop.", "what time is it", "wait", "no",
                                  "okay stop", "yeah but what about tomorrow",
                                  "okay okay okay"])
def test_is_backchannel_false(text: str) -> None:
    assert not rules.is_backchannel(text)


@pytest.mark.parametrize(("heard", "rest"), [
    ("Hey computer, what time is it?", "what time is it?"),
    ("A computer, what time is it?", "what time is it?"),  # tiny.en on Piper's "hey"
    ("Hi Computer. What time is it?", "What time is it?"),
    ("Heycomputer what time is it", "what time is it"),
    ("Hey, computer.", ""),
    ("What time is it?", None),
    ("Hey Jupiter, what time is it?", None),
])
def test_wake_phrase_is_matched_loosely(heard: str, rest: str | None) -> None:
    assert rules.strip_wake(heard, "hey computer", 0.8) == rest


def test_without_a_wake_phrase_every_utterance_counts() -> None:
    assert rules.strip_wake("what time is it", "", 0.8) == "what time is it"


def test_speech_over_the_assistant_is_decoded_expecting_the_stop_phrases() -> None:
    prompt = rules.stop_prompt(STOP)
    assert prompt.startswith("Stop.") and "Be quiet." in prompt and "Cancel that." in prompt


@pytest.mark.parametrize(("text", "is_stop"), [
    ("Stop.", True), ("Start talking.", True), ("cancel bat", True), ("Be quite.", True),
    ("Never mind it", True), ("Top.", True), ("Stop. Stop.", True), ("Stop talking.", True),
    ("what is that", False), ("tell me more", False), ("Scott.", False), ("go on", False),
    ("stop the timer and tell me the time", False), ("", False),
])
def test_a_short_misheard_stop_over_the_assistant_still_stops_it(text: str,
                                                                  is_stop: bool) -> None:
    assert rules.sounds_like_stop(text, STOP, 0.7) is is_stop


def test_no_stop_phrases_means_nothing_sounds_like_stop() -> None:
    assert not rules.sounds_like_stop("Stop.", (), 0.7)


def test_what_interrupts_the_assistant() -> None:
    assert rules.interrupts("Stop.", is_command, 3)  # a command
    assert rules.interrupts("tell me about something else", is_command, 3)  # a real sentence
    assert not rules.interrupts("Mm-hmm.", is_command, 3)
    assert not rules.interrupts("okay", is_command, 3)
    assert not rules.interrupts("the cat", is_command, 3)  # two words, not a command


def test_the_echo_floor_follows_what_aec_leaves_within_its_bounds() -> None:
    tuning = VoiceTuning()
    assert rules.echo_floor([], tuning) == tuning.echo_floor_min  # nothing learnt yet
    assert rules.echo_floor([0.5] * (tuning.echo_learn_frames - 1), tuning) == \
        tuning.echo_floor_min
    assert rules.echo_floor([0.1] * 200, tuning) == pytest.approx(0.15)  # 1.5 x the 10% left
    assert rules.echo_floor([0.001] * 200, tuning) == tuning.echo_floor_min
    assert rules.echo_floor([1.0] * 200, tuning) == tuning.echo_floor_max
    # The 98th percentile: a few loud frames among quiet ones do not raise it.
    assert rules.echo_floor([0.1] * 99 + [1.0], tuning) == pytest.approx(0.15)


def test_rms() -> None:
    import numpy as np

    assert rules.rms(np.full(10, 0.5, np.float32)) == pytest.approx(0.5)
    assert rules.rms(np.zeros(0, np.float32)) == 0.0
