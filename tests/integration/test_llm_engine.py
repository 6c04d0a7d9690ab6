"""The LLM engine on the real bundled model (SmolLM2-135M, llama.cpp): streaming,
cancellation, KV-cache reuse, grammar-constrained tool calls, context trimming."""

from __future__ import annotations

import json
import threading

import pytest

from assistant.agent import decide, decision_schema
from assistant.config import load_config
from assistant.llm import Generation, LLMEngine
from assistant.models import resolve
from assistant.skills import SkillRegistry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> LLMEngine:
    cfg = load_config(env={}).config
    return LLMEngine(resolve(cfg.llm.model, "llm", cfg.paths.cache), n_ctx=1024)


@pytest.fixture(scope="module")
def registry() -> SkillRegistry:
    r = SkillRegistry()
    r.load_entry_points()
    return r


SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}


def test_streams_text_in_pieces_with_metrics(engine: LLMEngine) -> None:
    stats = Generation()
    pieces = list(engine.stream([SYSTEM, {"role": "user", "content": "Name three colours."}],
                                max_tokens=24, temperature=0.0, stats=stats))
    assert len(pieces) > 3
    assert stats.text == "".join(pieces) and stats.text.strip()
    assert stats.tokens >= len(pieces)
    assert 0 < stats.ttft_ms <= stats.total_ms
    assert stats.tokens_per_s > 0
    assert stats.prompt_tokens > 10


def test_cancel_stops_generation_mid_reply(engine: LLMEngine) -> None:
    cancel = threading.Event()
    stats = Generation()
    got = []
    for piece in engine.stream([SYSTEM, {"role": "user", "content": "Tell me a long story."}],
                               max_tokens=150, temperature=0.0, cancel=cancel, stats=stats):
        got.append(piece)
        if len(got) == 3:
            cancel.set()
    assert len(got) == 3
    assert stats.cancelled
    # The engine is still usable after a cancelled generation.
    text, _ = engine.complete([SYSTEM, {"role": "user", "content": "Say hi."}], max_tokens=8)
    assert text.strip()


def test_stable_prefix_reuses_kv_cache_across_turns(engine: LLMEngine) -> None:
    first = [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]
    reply, s1 = engine.complete(first, max_tokens=12, temperature=0.0)
    second = [*first, {"role": "assistant", "content": reply},
              {"role": "user", "content": "And of Italy?"}]
    _, s2 = engine.complete(second, max_tokens=12, temperature=0.0)
    assert s2.cached_tokens >= s1.prompt_tokens - 1  # the whole first prompt was reused
    assert s2.cached_tokens < s2.prompt_tokens


def test_tool_call_is_well_formed_json_under_the_grammar(
    engine: LLMEngine, registry: SkillRegistry
) -> None:
    tools = registry.tool_schemas(["set_timer", "get_time"])
    raw, calls, _ = decide(engine, [SYSTEM, {"role": "user",
                                             "content": "Set a timer for ten minutes."}], tools)
    parsed = json.loads(raw)  # always valid JSON, whatever the model's skill
    assert set(parsed) == {"calls"}
    names = {t["name"] for t in tools}
    for call in calls:
        assert call["name"] in names
        # Validation is the second gate; the grammar guarantees the shape and types.
        registry.skills[call["name"]].args_model.model_validate(call["arguments"])
    assert decision_schema(tools)["properties"]["calls"]["maxItems"] == 3


def test_very_long_user_text_is_trimmed_to_fit(engine: LLMEngine) -> None:
    long_text = "Please summarise this. " + "The cat sat on the mat. " * 2000
    messages = [SYSTEM, {"role": "user", "content": long_text}]
    assert engine.count(messages) > engine.n_ctx
    stats = Generation()
    text = "".join(engine.stream(messages, max_tokens=16, stats=stats))
    assert stats.prompt_tokens + 16 <= engine.n_ctx
    assert isinstance(text, str)


def test_old_turns_are_dropped_before_the_system_prompt(engine: LLMEngine) -> None:
    turns = []
    for i in range(60):
        turns += [{"role": "user", "content": f"Fact number {i}: " + "blah " * 20},
                  {"role": "assistant", "content": "Noted."}]
    messages = [SYSTEM, *turns, {"role": "user", "content": "What was the last fact?"}]
    fitted = engine.fit(messages, reserve=64)
    assert fitted[0] == SYSTEM
    assert fitted[-1] == messages[-1]
    assert len(fitted) < len(messages)
    assert engine.count(fitted) + 64 <= engine.n_ctx


def test_loading_two_models_at_once_leaves_the_output_alone() -> None:
    # llama-cpp-python points stdout/stderr at /dev/null while it loads; two loads at once
    # used to leave them there (the voice loop loads the chat model and the turn model).
    import os
    import sys

    cfg = load_config(env={}).config
    path = resolve(cfg.llm.model, "llm", cfg.paths.cache)
    before = [os.fstat(fd)[:2] for fd in (1, 2)], sys.stdout, sys.stderr
    for _ in range(3):
        engines = [LLMEngine(path, n_ctx=256) for _ in range(2)]
        threads = [threading.Thread(target=lambda e=e: e.llama) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(e._llama is not None for e in engines)
        assert ([os.fstat(fd)[:2] for fd in (1, 2)], sys.stdout, sys.stderr) == before
