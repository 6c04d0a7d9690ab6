"""assistant.agent without an LLM: the decision schema, empty turns and fast-path turns."""

import itertools
import json

import pytest

from assistant.agent import Assistant, TurnResult, decision_schema, system_message
from assistant.config import Config, LLMConfig, PathsConfig, SkillsConfig
from assistant.models import ModelError
from assistant.skills import SkillRegistry, skill


@pytest.fixture
def config(tmp_path) -> Config:
    # Any use of the LLM would have to resolve this missing file and raise.
    return Config(llm=LLMConfig(model=str(tmp_path / "no-such-model.gguf"), max_history_turns=2),
                  paths=PathsConfig(data_dir=str(tmp_path / "data"),
                                    cache_dir=str(tmp_path / "cache")))


@pytest.fixture
def assistant(config, announced):
    a = Assistant(config, announce=announced)
    yield a
    timers = a.context.services.get("timers")
    if timers is not None:
        timers.cancel(None, "timer")
        timers.cancel(None, "alarm")


def test_decision_schema(builtin_registry):
    tools = builtin_registry.tool_schemas(["set_timer", "calculate", "get_time"])
    schema = decision_schema(tools)
    assert schema["type"] == "object"
    assert schema["required"] == ["calls"]
    calls = schema["properties"]["calls"]
    assert calls["type"] == "array"
    variants = calls["items"]["anyOf"]
    assert len(variants) == 3
    assert [v["properties"]["name"] for v in variants] == [
        {"const": "set_timer"}, {"const": "calculate"}, {"const": "get_time"}]
    for variant, tool in zip(variants, tools, strict=True):
        assert variant["type"] == "object"
        assert variant["required"] == ["name", "arguments"]
        assert variant["properties"]["arguments"] == tool["parameters"]
    assert variants[0]["properties"]["arguments"]["required"] == ["seconds"]
    json.dumps(schema)  # must be serialisable for the grammar


def test_decision_schema_without_tools():
    schema = decision_schema([])
    assert schema["properties"]["calls"]["items"]["anyOf"] == []


def test_system_message_layout():
    msg = system_message("Be brief.", ["get_time(): Tell the time."], memory="User likes tea.")
    assert msg["role"] == "system"
    content = msg["content"]
    assert content.startswith("Be brief.")
    assert content.index("get_time()") < content.index("User likes tea.")
    assert system_message("Be brief.", [])["content"] == "Be brief."


def test_assistant_system_message_lists_the_skills_the_model_may_call(assistant):
    content = assistant.system_message()["content"]
    assert "calculate(expression: string)" in content  # read-only: the model may call it
    # set_timer acts and has patterns of its own: the model is never offered it
    assert "set_timer(" not in content and "timers and alarms" in content
    no_tools = Assistant(assistant.config.model_copy(
        update={"skills": SkillsConfig(llm_fallback=False)}), registry=assistant.registry)
    assert "calculate(" not in no_tools.system_message()["content"]


def test_llm_use_would_raise(assistant):
    """Guards the tests below: with this config, reaching the LLM is an error."""
    with pytest.raises(ModelError, match="no-such-model"):
        assistant.turn("write me a short poem about the sea")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_turn_needs_no_llm(assistant, text):
    result = assistant.turn(text)
    assert isinstance(result, TurnResult)
    assert result.text == "I didn't catch anything. What would you like?"
    assert result.tool_calls == []
    assert result.metrics.path == "fast"
    assert assistant.history == []
    assert assistant._engine is None


def test_fast_path_turn(assistant, tmp_path):
    streamed: list[str] = []
    result = assistant.turn("what's seventeen times twenty three", on_text=streamed.append)
    assert result.metrics.path == "fast"
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert call.name == "calculate"
    assert call.arguments == {"expression": "17*23"}
    assert call.ok is True
    assert "391" in result.text
    assert streamed == [result.text]
    assert result.metrics.total_ms >= 0
    assert assistant._engine is None
    assert assistant.history == [
        {"role": "user", "content": "what's seventeen times twenty three"},
        {"role": "assistant", "content": result.text},
    ]
    audit = (tmp_path / "data" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(audit[-1])["name"] == "calculate"
    as_dict = result.as_dict()
    assert as_dict["metrics"]["path"] == "fast"
    assert as_dict["tool_calls"][0]["result"] == call.result


def test_fast_path_timer_and_stop(assistant, announced):
    result = assistant.turn("set a pasta timer for ten minutes")
    assert result.metrics.path == "fast"
    assert result.tool_calls[0].name == "set_timer"
    assert result.tool_calls[0].arguments == {"seconds": 600, "label": "pasta"}
    assert result.text == "Pasta timer set for 10 minutes."
    listed = assistant.turn("what timers are running")
    assert "pasta timer" in listed.text.lower()
    cancelled = assistant.turn("cancel the pasta timer")
    assert cancelled.text == "Cancelled the pasta timer."
    assert not assistant.cancel.is_set()
    stopped = assistant.turn("stop")
    assert stopped.tool_calls[0].name == "stop"
    assert assistant.cancel.is_set()  # the stop skill cut the answer in progress
    assert assistant._engine is None


def test_history_is_trimmed_by_halves_so_its_start_stays_put(assistant):
    limit = assistant.config.llm.max_history_turns  # 2
    lengths, firsts = [], []
    for i in range(6):
        assistant.turn(f"what is {i} plus 2")
        lengths.append(len(assistant.history) // 2)
        firsts.append(assistant.history[0]["content"])
    assert max(lengths) == limit
    assert lengths == [1, 2, 1, 2, 1, 2]  # past the limit, the older half goes at once
    # the first message changes only when a half is dropped (the prompt cache's prefix)
    assert sum(a != b for a, b in itertools.pairwise(firsts)) == 2


@pytest.mark.parametrize(("text", "speculable"), [
    ("what time is it", True),  # a read-only skill
    ("what's seventeen times twenty three", True),
    ("set a timer for five minutes", False),  # changes something
    ("remember that my bike is in the shed", False),
    ("tell me a story about dragons", True),  # the LLM, with no tool to call
    ("what time does the bakery open", False),  # the LLM may call get_time... or worse
    ("", False),
])
def test_speculable_only_when_the_answer_changes_nothing(assistant, text, speculable):
    assert assistant.speculable(text) is speculable


def test_a_turn_without_remember_leaves_the_history_alone(assistant):
    result = assistant.turn("what's seventeen times twenty three", remember=False)
    assert "391" in result.text
    assert assistant.history == []
    assistant.remember("what's seventeen times twenty three", result)
    assert [m["role"] for m in assistant.history] == ["user", "assistant"]


class _ScriptedEngine:
    """Stands in for the LLM in a test of the agent's handling of its output: each call to
    ``stream`` yields the next scripted reply, in pieces, filling in the stats like the
    real engine."""

    def __init__(self, *replies: list[str]) -> None:
        self.replies = list(replies)

    def stream(self, messages, *, stats=None, **_kwargs):
        for piece in self.replies.pop(0):
            if stats is not None:
                stats.text += piece
                stats.tokens += 1
            yield piece


@pytest.mark.parametrize(("answer", "spoken"), [
    (["{ \"calls\"", ": [{\"name\": \"calculate\"}]}"], "391"),  # the tools' words instead
    (["[", "\"391\"]"], "391"),
    (["It is ", "391."], "It is 391."),  # a normal answer is untouched
])
def test_an_answer_in_json_is_never_spoken(config, answer: list[str], spoken: str) -> None:
    config.memory.enabled = False
    decision = ['{"calls": [{"name": "calculate", "arguments": {"expression": "17*23"}}]}']
    # Each skill runs at most once a turn: with calculate used there is no second decision.
    engine = _ScriptedEngine(decision, answer)
    a = Assistant(config, engine=engine, announce=lambda _m: None)
    heard: list[str] = []
    result = a.turn("could you work out seventeen by twenty three for me", on_text=heard.append)
    assert [c.name for c in result.tool_calls] == ["calculate"]
    assert spoken in result.text and "{" not in result.text and "[" not in result.text
    assert "".join(heard).strip() == result.text


def test_prefill_without_a_model_is_silent(assistant) -> None:
    # The voice loop prefills on every live transcript; a missing model is reported by the
    # turn, not once per partial.
    assistant.prefill("tell me about the")
    with pytest.raises(ModelError):
        assistant.turn("tell me about the moon and the stars tonight")


SENT: list[str] = []


@skill
def send_note(to: str, words: str) -> str:
    """Send a note to someone.

    Args:
        to: Who gets it.
        words: What it says.
    """
    SENT.append(f"{to}: {words}")
    return f"Sent {to} the note."


def _note_assistant(config, *replies: list[str]) -> Assistant:
    config.memory.enabled = False
    SENT.clear()
    registry = SkillRegistry([send_note.__skill__])
    return Assistant(config, engine=_ScriptedEngine(*replies), registry=registry,
                     announce=lambda _m: None)


def test_a_call_the_model_wants_is_asked_not_run(config) -> None:
    decision = ['{"calls": [{"name": "send_note", "arguments": '
                '{"to": "sam", "words": "running late"}}]}']
    a = _note_assistant(config, decision)
    asked = a.turn("please send a note to sam saying running late")
    assert asked.kind == "confirm" and SENT == []
    assert asked.text == "Should I send note with to sam and words running late?"
    done = a.turn("yes")
    assert done.kind == "command" and SENT == ["sam: running late"]


def test_a_value_the_user_never_said_is_not_acted_on(config) -> None:
    decision = ['{"calls": [{"name": "send_note", "arguments": '
                '{"to": "the boss", "words": "I quit"}}]}']
    a = _note_assistant(config, decision, ["I can't do that."])
    result = a.turn("please send a note to sam saying running late")
    assert result.kind == "chat" and result.tool_calls == [] and SENT == []
    assert a.dialogue.waiting() is None


class _LoadedEngine:
    """A model that is loaded and prefilled: all warm-up asks of it."""

    def complete(self, messages, **_kwargs):
        return "", None


def test_warm_up_runs_the_registrys_warmers_in_the_background(config):
    import threading

    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_warmer() -> None:  # an MCP server's start, standing in
        started.set()
        release.wait(5)
        finished.set()

    registry = SkillRegistry()
    registry.warmers.append(slow_warmer)
    a = Assistant(config.model_copy(update={"memory": config.memory.model_copy(
        update={"enabled": False})}), registry=registry, engine=_LoadedEngine())
    a.warm_up()  # returns while the warmer still runs: it does not hold up the model
    assert not finished.is_set()
    assert started.wait(5)
    release.set()
    assert finished.wait(5)
