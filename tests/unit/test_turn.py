"""assistant.speech.turn's rules: how much silence ends an utterance, from its words, and when
the turn model is asked (the model itself is tested in tests/integration/test_turn.py)."""

from __future__ import annotations

import pytest

from assistant.config import VoiceConfig
from assistant.speech.turn import Endpointer


def is_command(text: str) -> bool:
    return text.lower().strip(" .?!").startswith(("set a timer", "what time"))


class _Judge:
    """Stands in for the turn model."""

    def __init__(self, verdict: str) -> None:
        self.verdict_given, self.asked = verdict, []

    def verdict(self, text: str) -> str:
        self.asked.append(text)
        return self.verdict_given


def test_endpointing_adapts_to_the_words() -> None:
    cfg = VoiceConfig()
    after = Endpointer(cfg, is_command).silence_after
    assert after("Set a timer for five minutes.") == cfg.endpoint_fast_s
    assert after("Set a timer for") == cfg.endpoint_patient_s
    assert after("I was thinking that", judge=True) == cfg.endpoint_s  # no turn model
    assert after("") == cfg.endpoint_s


def test_a_complete_command_does_not_trail_off() -> None:
    endpointer = Endpointer(VoiceConfig(), is_command)
    assert endpointer.is_complete_command("What time is it?")
    assert not endpointer.is_complete_command("Set a timer for")
    assert not endpointer.is_complete_command("Tell me a story")
    assert not endpointer.is_complete_command("")


@pytest.mark.parametrize(("verdict", "field"), [("finished", "endpoint_finished_s"),
                                                 ("unfinished", "endpoint_patient_s"),
                                                 ("unsure", "endpoint_s")])
def test_the_turn_model_is_asked_only_when_the_rules_cannot_tell(verdict: str,
                                                                 field: str) -> None:
    cfg, judge = VoiceConfig(), _Judge(verdict)
    endpointer = Endpointer(cfg, is_command, judge)  # type: ignore[arg-type]
    assert endpointer.silence_after("Why is the sky blue?", judge=True) == getattr(cfg, field)
    assert endpointer.silence_after("Why is the sky blue?") == cfg.endpoint_s
    # A command or an unfinished phrase needs no model.
    assert endpointer.silence_after("What time is it?", judge=True) == cfg.endpoint_fast_s
    assert endpointer.silence_after("Tell me about the", judge=True) == cfg.endpoint_patient_s
    assert judge.asked == ["Why is the sky blue?"]
