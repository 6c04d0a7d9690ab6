"""assistant.serve.stt: a client's utterance transcribed, with the words as heard (a fake
recogniser, a buzz webrtcvad calls speech)."""

from __future__ import annotations

import numpy as np

from assistant.config import VoiceConfig
from assistant.serve.stt import Dictation
from assistant.speech.audio import FRAME
from assistant.speech.words import Heard, Word
from tests.fixtures.fakes import FakeRecognizer, quiet, voiced

WORDS = (Word("Set", 0.9), Word("a", 0.9), Word("timer", 0.9), Word("for", 0.9),
         Word("15", 0.62), Word("minutes.", 0.9))


def _dictate(acts: object = None) -> tuple[Dictation, FakeRecognizer]:
    recognizer = FakeRecognizer("Set a timer for 15 minutes.", WORDS)
    dictation = Dictation(recognizer, lambda _audio: True, VoiceConfig(turn_model=""),
                          lambda _text: True, acts=acts)
    audio = np.concatenate([quiet(10), voiced(40), quiet(60)])
    frames = [audio[i:i + FRAME] for i in range(0, len(audio), FRAME)]
    dictation.pending += len(frames)
    dictation.hear(frames)
    dictation.finish()
    return dictation, recognizer


def test_a_room_gets_the_words_as_heard_and_a_command_that_acts_a_second_decode() -> None:
    dictation, recognizer = _dictate(acts=lambda text: "timer" in text)
    assert (dictation.done, dictation.text, dictation.heard) == (
        True, "Set a timer for 15 minutes.", Heard(WORDS))
    assert recognizer.rechecked  # the words the turn will weigh got a second opinion


def test_a_plain_transcription_gets_no_second_decode() -> None:
    dictation, recognizer = _dictate()
    assert dictation.text == "Set a timer for 15 minutes." and recognizer.rechecked == []
