"""The end-of-turn judge on the real bundled model (SmolLM2-135M on its own llama.cpp
context): whole requests read as finished, requests cut short as unfinished."""

from __future__ import annotations

import pytest

from assistant.config import load_config
from assistant.speech.turn import TurnDetector
from assistant.voice.app import build_detector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector() -> TurnDetector:
    found = build_detector(load_config(env={}).config)
    assert found is not None
    found.load()
    return found


@pytest.mark.parametrize("text", ["Why is the sky blue?", "Who wrote Hamlet?",
                                  "Tell me something about the moon."])
def test_a_whole_request_is_finished(detector: TurnDetector, text: str) -> None:
    assert detector.verdict(text) == "finished"


@pytest.mark.parametrize("text", ["What is the capital of", "Why is the sky",
                                  "What's the difference between"])
def test_a_request_cut_short_is_unfinished(detector: TurnDetector, text: str) -> None:
    assert detector.verdict(text) == "unfinished"


def test_judgements_do_not_depend_on_what_was_asked_before(detector: TurnDetector) -> None:
    first = detector.finished_logprob("Why is the sky blue?")
    detector.finished_logprob("Tell me a very long story about dragons and their caves")
    assert detector.finished_logprob("why is the sky blue") == pytest.approx(first, abs=1e-3)
    # Whisper's punctuation is ignored: only the words count.
    assert detector.finished_logprob("Why is the sky blue.") == pytest.approx(first, abs=1e-3)
    assert detector.finished_logprob("") == float("-inf")


def test_prefilling_the_words_so_far_changes_no_judgement(detector: TurnDetector) -> None:
    whole = detector.finished_logprob("Who wrote Hamlet?")
    detector.finished_logprob("Tell me a story")  # something else in the KV cache
    detector.prefill("Who wrote")  # a partial transcript, as the prefiller gives it
    assert detector.finished_logprob("Who wrote Hamlet?") == pytest.approx(whole, abs=1e-3)


def test_rooms_taking_turns_are_judged_once_per_words(detector: TurnDetector,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub asks for several rooms in turn, each on every silent frame: the model is run
    once for each room's words, not once per question."""
    rooms = ["Why is the sky blue?", "What is the capital of", "Who painted the Mona Lisa?"]
    first = {text: detector.finished_logprob(text) for text in rooms}
    runs: list[str] = []
    run = detector.engine.next_token_logprobs
    monkeypatch.setattr(detector.engine, "next_token_logprobs",
                        lambda text: runs.append(text) or run(text))
    for _ in range(5):
        for text in rooms:
            assert detector.finished_logprob(text) == first[text]
    assert runs == []
    detector.finished_logprob("Tell me a joke")
    assert len(runs) == 1
