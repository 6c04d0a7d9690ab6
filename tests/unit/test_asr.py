"""assistant.speech.asr without Whisper: its text helpers (repetition loops, the guard against
inventions, overlap after a trim) and what the streaming transcriber asks of a recogniser."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.speech.asr import (
    TRIM_AFTER_S,
    Segment,
    StreamingTranscriber,
    Transcript,
    collapse_repeats,
    drop_overlap,
    guard,
)
from assistant.speech.audio import RATE


def test_drop_overlap_removes_a_repeated_start_of_the_tail() -> None:
    done = "Remember that my bike is in the garage."
    assert drop_overlap(done, "Remember that my bike is in the garage") == ""
    assert drop_overlap(done, "in the garage. And the car too.") == "And the car too."
    assert drop_overlap(done, "And the car too.") == "And the car too."
    assert drop_overlap("", "Hello there.") == "Hello there."


class _Scripted:
    """Stands in for Whisper in a test of what the streaming transcriber asks of it (the
    greedy-or-beam decision itself is tested on the real model in tests/integration): the
    partials hear ``partial``, the final decode (asked for a beam, or a greedy text it may
    keep) ``final``."""

    def __init__(self, partial: Transcript, final: Transcript) -> None:
        self.partial, self.final = partial, final
        self.calls: list[tuple[bool, str | None]] = []

    def transcribe(self, audio: np.ndarray, prompt: str = "", beam: bool = False,
                   keep_greedy=None, recheck=None) -> Transcript:
        if beam or keep_greedy is not None:
            self.calls.append((beam, keep_greedy and str(keep_greedy(self.final.text))))
            return self.final
        return self.partial


GO = Transcript("Go forward.", [Segment(0.0, 1.0, "Go forward.")])
ONE_TWO = Transcript("One. Two three.", [Segment(0.0, 0.5, "One."),
                                          Segment(0.5, 1.0, "Two three.")])


def _stream(hyp: Transcript, seconds: float) -> StreamingTranscriber:
    stream = StreamingTranscriber(_Scripted(hyp, Transcript("ten meters")))  # type: ignore[arg-type]
    stream.add(np.zeros(int(seconds * RATE), np.float32))
    stream.partial()
    stream.partial()  # two hypotheses agree: the words are committed
    return stream


def test_short_utterances_are_never_trimmed() -> None:
    stream = _stream(ONE_TWO, TRIM_AFTER_S - 1)
    assert stream.committed == "One. Two three."
    assert len(stream.audio) == int((TRIM_AFTER_S - 1) * RATE)
    stream.add(np.zeros(3 * RATE, np.float32))
    stream.partial()  # long enough now: cut after the agreed sentences, 1 s of them
    assert len(stream.audio) == int((TRIM_AFTER_S + 1) * RATE)
    assert stream.committed == "One. Two three."


@pytest.mark.parametrize(("greedy_first", "calls"), [
    (True, [(False, "Go forward. ten meters")]),  # greedy, judged on the whole utterance
    (False, [(True, None)]),  # the words so far were no command: straight to the beam
])
def test_final_decode_asks_for_greedy_or_beam(greedy_first: bool, calls: list) -> None:
    stream = _stream(GO, TRIM_AFTER_S + 1)  # "Go forward." is trimmed off
    final = stream.final(keep_greedy=lambda text: text, greedy_first=greedy_first)
    assert final.text == "Go forward. ten meters"
    assert stream.recognizer.calls == calls


@pytest.mark.parametrize(("text", "expected"), [
    ("I think I think I think I think so", "I think I think so"),
    ("yes yes yes yes yes", "yes yes"),
    ("okay okay okay okay", "okay okay"),
    ("no no no", "no no"),
])
def test_collapse_repeats_cuts_word_loops_to_max_repeat(text: str, expected: str) -> None:
    assert collapse_repeats(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("set a timer set a timer set a timer set a timer", "set a timer"),
    ("open the door open the door", "open the door"),
    ("a b c a b c a b c a b c", "a b c"),
    ("What time is it? What time is it? What time is it?", "What time is it?"),
])
def test_collapse_repeats_keeps_a_looped_phrase_once(text: str, expected: str) -> None:
    assert collapse_repeats(text) == expected


def test_collapse_repeats_drops_the_trailing_start_of_a_loop() -> None:
    assert collapse_repeats("What time is it? What time is it? What") == "What time is it?"
    assert collapse_repeats("What time is it? What time is it? Where") == \
        "What time is it? Where"


def test_collapse_repeats_honours_max_repeat() -> None:
    assert collapse_repeats("okay okay okay okay", max_repeat=1) == "okay"
    assert collapse_repeats("okay okay okay okay", max_repeat=3) == "okay okay okay"


@pytest.mark.parametrize("text", ["-y-y-y-y-y", "Whoa!!!!!!!!", "Hmm-y-y-y-y-y-y-y"])
def test_collapse_repeats_cuts_character_loops(text: str) -> None:
    out = collapse_repeats(text)
    assert len(out) < len(text) / 2
    assert text.startswith(out[:1])


@pytest.mark.parametrize("text", [
    "1000000", "Call 555-5555 now", "2222 3333", "hello world", "ha ha", "no no",
    "Turn on the kitchen lights, please.", "It was 1999.", "www.example.com",
    "Yes, yes, I heard you.",
])
def test_collapse_repeats_leaves_normal_text_alone(text: str) -> None:
    assert collapse_repeats(text) == text


def test_collapse_repeats_short_word_loop_keeps_two() -> None:
    assert collapse_repeats("the the the the the end") == "the the end"


def test_collapse_repeats_keeps_numbers_with_separators() -> None:
    text = "A trillion is 1,000,000,000,000."
    assert collapse_repeats(text) == text


def _transcript(text: str, no_speech: float, logprob: float) -> Transcript:
    return Transcript(text, [], no_speech_prob=no_speech, avg_logprob=logprob, ms=12.0)


@pytest.mark.parametrize("text", ["Thank you.", "thank you", "Thanks for watching!", "you",
                                  "Bye.", "...", "[Music]", "(applause)"])
def test_guard_drops_known_hallucinations_with_low_confidence(text: str) -> None:
    out = guard(_transcript(text, 0.2, -0.55))
    assert out.text == ""
    assert out.segments == []
    assert (out.no_speech_prob, out.avg_logprob, out.ms) == (0.2, -0.55, 12.0)


def test_guard_drops_anything_on_silence() -> None:
    assert guard(_transcript("Turn on the lights.", 0.9, -0.9)).text == ""


def test_guard_keeps_confident_speech() -> None:
    t = _transcript("Turn on the lights in the kitchen.", 0.1, -0.2)
    assert guard(t) is t
    # A confident "thank you" is the user being polite, not an invention.
    assert guard(_transcript("Thank you.", 0.05, -0.1)).text == "Thank you."
    # High no-speech probability alone is not enough when the decoder was confident.
    assert guard(_transcript("What time is it?", 0.7, -0.3)).text == \
        "What time is it?"
