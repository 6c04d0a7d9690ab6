"""assistant.speech.asr without Whisper: overlap after a trim, when the buffer is trimmed,
and what the streaming transcriber asks of the recogniser for its final decode."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.speech.audio import RATE


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
