"""``llm.backend = "openai"`` against a real OpenAI-compatible server: llama-cpp-python's own
(``python -m llama_cpp.server``) on the bundled GGUF, started on 127.0.0.1 by the test. A
turn, a cancelled turn, tool decisions under ``response_format``, the server killed mid-answer
and restarted, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from assistant.agent import Assistant, decide, decision_schema
from assistant.bench.model_server import ModelServer, server_installed
from assistant.bench.serve import free_port
from assistant.config import Config, load_config
from assistant.llm.remote import RemoteEngine
from assistant.models import resolve
from assistant.skills import SkillRegistry

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not server_installed(),
                                 reason="llama_cpp.server's deps (the dev extra) are missing")]

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    cfg = load_config(env={}).config
    log = tmp_path_factory.mktemp("model-server") / "server.log"
    running = ModelServer(resolve(cfg.llm.model, "llm", cfg.paths.cache), log)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def remote(config: Config, server: ModelServer) -> Config:
    """The test config pointed at the server (memory off: this is about the model)."""
    config.llm.base_url = server.base_url
    config.llm.backend = "openai"
    config.llm.temperature = 0.0
    config.memory.enabled = False
    return config


@pytest.fixture(scope="module")
def registry() -> SkillRegistry:
    r = SkillRegistry()
    r.load_entry_points()
    return r


def disconnects(server: ModelServer) -> int:
    """How often the server has logged a client leaving mid-answer."""
    return server.log_text().count("Disconnected from client")


def wait_for_disconnects(server: ModelServer, count: int, timeout: float = 10.0) -> int:
    """The disconnects logged once there are ``count`` (or ``timeout`` has passed): the
    server notices the closed stream at its next token, and logs it a little later."""
    deadline = time.monotonic() + timeout
    while disconnects(server) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return disconnects(server)


def test_a_turn_answers_through_the_server(remote: Config) -> None:
    bot = Assistant(remote)
    pieces: list[str] = []
    result = bot.turn("What is the capital of France?", on_text=pieces.append)
    assert result.kind == "chat" and result.metrics.path == "llm"
    assert "Paris" in result.text
    assert len(pieces) > 1  # streamed, not one block at the end
    assert result.metrics.tokens > 1 and result.metrics.tokens_per_s > 0
    assert isinstance(bot.engine, RemoteEngine)
    assert bot.history[-1] == {"role": "assistant", "content": result.text}


def test_a_turn_with_memory_passages(remote: Config) -> None:
    remote.memory.enabled = True
    remote.memory.answer = "llm"  # the passages go to the model, counted without a tokenizer
    bot = Assistant(remote)
    try:
        bot.memory().add_fact("Hendricks Heating looks after our boiler.")
        result = bot.turn("Which company looks after our boiler?")
    finally:
        bot.close()
    assert result.metrics.path == "llm" and result.sources
    assert result.text.strip()


def test_a_cancelled_turn_closes_the_stream(remote: Config, server: ModelServer) -> None:
    bot = Assistant(remote)
    before = disconnects(server)
    remote.llm.max_tokens = 400

    def stop_after_first(_piece: str) -> None:
        bot.cancel.set()

    result = bot.turn("Tell me a long story about a dragon and a knight.",
                      on_text=stop_after_first)
    assert result.interrupted
    assert len(result.text.split()) < 20
    assert wait_for_disconnects(server, before + 1) == before + 1  # it saw us leave


def test_a_tool_decision_is_json_of_the_schema(remote: Config, registry: SkillRegistry) -> None:
    engine = Assistant(remote).engine
    tools = [registry.skills[n].tool_schema() for n in ("set_timer", "get_time")]
    raw, calls, stats = decide(engine, [SYSTEM, {"role": "user",
                                                 "content": "Set a timer for ten minutes."}],
                               tools)
    assert set(json.loads(raw)) == {"calls"}
    for call in calls:
        assert call["name"] in {"set_timer", "get_time"}
        registry.skills[call["name"]].args_model.model_validate(call["arguments"])
    assert stats.tokens > 0


def test_response_format_constrains_the_reply(remote: Config, registry: SkillRegistry) -> None:
    # At least one call required: only the server's grammar can make the model write it.
    schema = decision_schema([registry.skills["get_time"].tool_schema()])
    schema["properties"]["calls"]["minItems"] = 1
    text, _ = Assistant(remote).engine.complete(
        [SYSTEM, {"role": "user", "content": "Write a poem about the sea."}],
        max_tokens=64, temperature=0.0, json_schema=schema)
    assert json.loads(text)["calls"][0]["name"] == "get_time"


def test_server_killed_mid_answer_then_back(remote: Config, server: ModelServer) -> None:
    bot = Assistant(remote)
    remote.llm.max_tokens = 400

    def kill_at_first(_piece: str) -> None:
        if server.server.proc is not None and server.server.proc.poll() is None:
            server.kill()

    try:
        result = bot.turn("Tell me a long story about a dragon and a knight.",
                          on_text=kill_at_first)
    finally:
        server.start()  # the same port: the next tests (and turns) have it again
    assert result.kind == "failed"
    assert server.base_url in result.text and "running?" in result.text
    assert result.text.count(". ") == 0 and "\n" not in result.text  # one sentence
    assert bot.history == []  # the failed turn is not part of the conversation
    again = bot.turn("What is the capital of France?")
    assert again.kind == "chat" and "Paris" in again.text


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_chat_once_through_the_server(cli_env: dict[str, str], server: ModelServer) -> None:
    cli_env |= {"ASSISTANT_LLM__BACKEND": "openai", "ASSISTANT_LLM__BASE_URL": server.base_url,
                "ASSISTANT_MEMORY__ENABLED": "false"}
    proc = run_cli("chat", "--once", "Who wrote Romeo and Juliet?", "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["kind"] == "chat" and out["metrics"]["path"] == "llm"
    assert out["text"].strip() and out["metrics"]["tokens"] > 0


def test_chat_once_with_no_server_is_one_sentence(cli_env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    cli_env |= {"ASSISTANT_LLM__BACKEND": "openai", "ASSISTANT_LLM__BASE_URL": url,
                "ASSISTANT_MEMORY__ENABLED": "false"}
    proc = run_cli("chat", "--once", "Tell me a story.", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"The model server at {url} did not answer: is it running?"
    assert "Traceback" not in proc.stderr


def test_doctor_says_where_the_llm_runs(cli_env: dict[str, str], server: ModelServer) -> None:
    cli_env |= {"ASSISTANT_LLM__BACKEND": "openai", "ASSISTANT_LLM__BASE_URL": server.base_url}
    cli_env["COLUMNS"] = "300"  # the table's cells on one line each
    proc = run_cli("doctor", env=cli_env)
    row = next(line for line in proc.stdout.splitlines() if "llm server" in line)
    assert "ok" in row and "answers; serves" in row and server.model.name in row
    assert any(server.base_url in line and "conversations are sent there" in line
               for line in proc.stdout.splitlines())
    assert "llm decode" not in proc.stdout  # no local model is loaded for a server


def test_doctor_says_when_the_server_is_down(cli_env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    cli_env |= {"ASSISTANT_LLM__BACKEND": "openai", "ASSISTANT_LLM__BASE_URL": url,
                "COLUMNS": "300"}
    proc = run_cli("doctor", env=cli_env)
    assert proc.returncode == 1
    row = next(line for line in proc.stdout.splitlines() if "llm server" in line)
    assert "FAIL" in row and "did not answer: is it running?" in row


def test_serve_with_the_model_server_down_still_serves_and_says_why(tmp_path) -> None:
    """Home Assistant's speech services do not need the LLM: they start; a conversation
    turn answers with the one sentence."""
    import asyncio

    from wyoming.asr import Transcript
    from wyoming.client import AsyncTcpClient
    from wyoming.handle import Handled, NotHandled
    from wyoming.info import Describe

    from assistant.serve.server import Server

    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    config = load_config(overrides={"paths.data_dir": str(tmp_path / "data"),
                                    "llm.backend": "openai", "llm.base_url": url,
                                    "memory.enabled": False}, env={}).config
    server = Server(config)

    async def scenario() -> tuple[str, list[str]]:
        port = await server.start(port=0)
        try:
            why = await server.services.ready()
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                await client.write_event(Transcript(text="Tell me a story.").event())
                got = []
                async with asyncio.timeout(120):
                    while (event := await client.read_event()) is not None:
                        got.append(event)
                        if Handled.is_type(event.type) or NotHandled.is_type(event.type):
                            break
            return why, [e.type for e in got] + [e.data.get("text", "") for e in got[-1:]]
        finally:
            await server.stop()

    why, got = asyncio.run(scenario())
    assert why == ""  # loaded: speech works without the model server
    assert got[0] == "info" and got[-2] in ("handled", "not-handled")
    assert got[-1] == f"The model server at {url} did not answer: is it running?"
