"""assistant.voice.assistant_port: the Assistant's hooks are wired once, and its tool calls and
memory searches come back as events stamped on the loop's clock."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.skills import SkillRegistry, ToolResult
from assistant.speech.audio import Clock
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.events import Retrieval, ToolCall
from tests.fixtures.fakes import FakeAssistant


def test_the_assistants_hooks_are_the_loops(builtin_registry: SkillRegistry) -> None:
    assistant, reported, said, stopped = FakeAssistant(builtin_registry), [], [], []
    clock = Clock()
    clock.advance()
    AssistantPort(assistant, clock, announce=said.append, stop=lambda: stopped.append(True),
                  report=reported.append)
    assistant.context.announce("Timer done.")
    assistant.context.stop()
    assert said == ["Timer done."] and stopped == [True]
    assert assistant.context.channel == "voice"
    assistant.on_tool(ToolResult("get_time", {}, "It's noon.", True, 0.1))
    hit = SimpleNamespace(record=SimpleNamespace(attribution="your note on bikes"))
    assistant.on_retrieval(SimpleNamespace(ids=["d-1"], hits=[hit], ms=12.345))
    call, found = reported
    assert isinstance(call, ToolCall) and (call.name, call.result, call.ok) == \
        ("get_time", "It's noon.", True)
    assert isinstance(found, Retrieval) and (found.ids, found.sources, found.ms) == \
        (["d-1"], ["your note on bikes"], 12.3)
    assert 0.02 <= call.t <= 0.04


def test_commands_and_stop_phrases_come_from_the_skills(builtin_registry: SkillRegistry) -> None:
    port = AssistantPort(FakeAssistant(builtin_registry), Clock(), announce=lambda _t: None,
                         stop=lambda: None, report=lambda _e: None)
    assert port.is_command("what time is it") and not port.is_command("tell me a story")
    assert "stop" in port.stop_phrases and "be quiet" in port.stop_phrases
