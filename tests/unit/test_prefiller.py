"""assistant.voice.prefiller: the LLM and the turn model read the words while the user is still
speaking, never once they have gone quiet."""

from __future__ import annotations

from assistant.config import VoiceTuning
from assistant.skills import SkillRegistry
from assistant.speech.audio import Clock
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.frames import Prefill
from assistant.voice.prefiller import Prefiller
from tests.fixtures.fakes import FakeAssistant


class Judge:
    def __init__(self) -> None:
        self.prefilled: list[str] = []

    def prefill(self, text: str) -> None:
        self.prefilled.append(text)


def _prefiller(registry: SkillRegistry, speaking: list[bool]) -> tuple[Prefiller, FakeAssistant,
                                                                       Judge]:
    assistant, judge = FakeAssistant(registry), Judge()
    port = AssistantPort(assistant, Clock(), announce=lambda _t: None, stop=lambda: None,
                         report=lambda _e: None)
    answers = iter(speaking)
    prefiller = Prefiller(port, judge, lambda _utt: next(answers), lambda: 0,  # type: ignore[arg-type]
                          VoiceTuning())
    return prefiller, assistant, judge


FRAME = Prefill(1, "Hey computer, tell me about", "tell me about")


def test_both_models_read_ahead_while_the_user_speaks(builtin_registry: SkillRegistry) -> None:
    prefiller, assistant, judge = _prefiller(builtin_registry, [True, True])
    prefiller.handle(FRAME)
    assert assistant.prefilled == ["tell me about"]
    assert judge.prefilled == ["Hey computer, tell me about"]


def test_nothing_is_read_once_the_user_has_gone_quiet(builtin_registry: SkillRegistry) -> None:
    prefiller, assistant, judge = _prefiller(builtin_registry, [False])
    prefiller.handle(FRAME)
    assert assistant.prefilled == [] and judge.prefilled == []
    prefiller, assistant, judge = _prefiller(builtin_registry, [True, False])
    prefiller.handle(FRAME)  # quiet after the LLM's prefill: the turn model's waits
    assert assistant.prefilled == ["tell me about"] and judge.prefilled == []
