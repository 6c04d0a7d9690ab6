"""Our skills as an MCP server, driven by the SDK's own client: ``assistant mcp serve`` over
stdio (a real subprocess) and ``--http`` (streamable HTTP on 127.0.0.1 behind its token),
with the real skills and the real memory store."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from assistant.agent import Assistant
from assistant.config import load_config
from assistant.mcp.http import alongside
from assistant.skills import build_registry

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0
"""Bound on anything a test waits for (a loaded 2-core machine is slow, never stuck)."""
PLUGIN = '''
from assistant.skills import skill

print("a plugin printing at import")

@skill(read_only=True)
def shout(word: str) -> str:
    """Say a word loudly.

    Args:
        word: The word.
    """
    print("a plugin printing in a call")
    return word.upper() + "!"
'''


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    (home / "config.toml").write_text("")
    env.update(ASSISTANT_PATHS__DATA_DIR=str(home / "data"),
               ASSISTANT_CONFIG=str(home / "config.toml"), **extra)
    return env


@asynccontextmanager
async def stdio_session(env: dict[str, str], **callbacks: Any) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "assistant.cli", "mcp", "serve"],
                                   env=env, cwd=str(ROOT))
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=WAIT_S, **callbacks) as session:
            await session.initialize()
            yield session


def text(result: types.CallToolResult) -> str:
    assert len(result.content) == 1 and isinstance(result.content[0], types.TextContent)
    return result.content[0].text


def accept(answer: dict[str, Any] | None, questions: list[str] | None = None) -> Any:
    """An elicitation callback: records the question, answers with ``answer``."""
    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        if questions is not None:
            questions.append(params.message)
        if answer is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=answer)
    return callback


# ------------------------------------------------------------------------------- stdio

def test_stdio_lists_our_skills_with_their_schemas_and_hints(tmp_path: Path) -> None:
    env = _env(tmp_path)
    config = load_config(env=env).config
    registry = build_registry(config.skills, config.paths.data)

    async def main() -> list[types.Tool]:
        async with stdio_session(env) as session:
            return (await session.list_tools()).tools

    tools = {t.name: t for t in anyio.run(main)}
    assert set(tools) == set(registry.skills)
    for name, s in registry.skills.items():
        assert tools[name].input_schema == s.parameters
        assert tools[name].description == s.description
    hints = {n: (t.annotations.read_only_hint, t.annotations.destructive_hint)
             for n, t in tools.items() if t.annotations}
    assert hints["calculate"] == hints["get_time"] == (True, False)
    assert hints["set_timer"] == (False, False)
    assert hints["forget"] == hints["clear_list"] == (False, True)


def test_stdio_calls_answer_and_bad_arguments_are_one_sentence(tmp_path: Path) -> None:
    async def main() -> tuple[types.CallToolResult, ...]:
        async with stdio_session(_env(tmp_path)) as session:
            return (await session.call_tool("calculate", {"expression": "17*23"}),
                    await session.call_tool("calculate", {"expresion": "17*23"}),
                    await session.call_tool("set_timer", {"seconds": "soon"}),
                    await session.call_tool("no_such_skill", {}))

    good, misspelt, wrong_type, unknown = anyio.run(main)
    assert not good.is_error and "391" in text(good)
    for bad in (misspelt, wrong_type, unknown):
        assert bad.is_error and "\n" not in text(bad)
    assert "expression" in text(misspelt)
    assert "seconds" in text(wrong_type)
    audit = [json.loads(line) for line in
             (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["name"], a["ok"]) for a in audit] == [("calculate", True), ("calculate", False),
                                                    ("set_timer", False)]


def test_stdio_timer_announces_itself_and_stray_prints_stay_off_stdout(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "loud.py").write_text(PLUGIN)
    env = _env(tmp_path, ASSISTANT_SKILLS__DIRS=json.dumps([str(plugins)]))
    said: list[str] = []
    heard = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        said.append(str(params.data))
        heard.set()

    async def main() -> tuple[str, str]:
        async with stdio_session(env, logging_callback=on_log) as session:
            set_it = await session.call_tool("set_timer", {"seconds": 1, "label": "tea"})
            shouted = await session.call_tool("shout", {"word": "hello"})
            with anyio.fail_after(WAIT_S):
                await heard.wait()
            return text(set_it), text(shouted)

    set_it, shouted = anyio.run(main)
    assert set_it == "Tea timer set for 1 second."
    assert shouted == "HELLO!"  # its prints went to stderr: the protocol survived them
    assert said == ["Your tea timer for 1 second is done."]


def test_stdio_forget_needs_a_yes_the_client_can_ask_for(tmp_path: Path) -> None:
    env = _env(tmp_path)
    questions: list[str] = []

    async def without_elicitation() -> tuple[types.CallToolResult, types.CallToolResult]:
        async with stdio_session(env) as session:
            await session.call_tool("remember", {"fact": "my bike is in the blue shed"})
            refused = await session.call_tool("forget", {"query": "my bike"})
            return refused, await session.call_tool("recall", {"query": "my bike"})

    async def with_elicitation(answer: dict[str, Any] | None) -> tuple[str, str]:
        async with stdio_session(env, elicitation_callback=accept(answer, questions)) as s:
            forgot = await s.call_tool("forget", {"query": "my bike"})
            return text(forgot), text(await s.call_tool("recall", {"query": "my bike"}))

    refused, recalled = anyio.run(without_elicitation)
    assert refused.is_error and "\n" not in text(refused)
    assert "blue shed" in text(refused) and "elicitation" in text(refused)
    assert "blue shed" in text(recalled)

    declined, recalled = anyio.run(with_elicitation, None)
    assert "did not forget" in declined and "blue shed" in recalled
    unticked, recalled = anyio.run(with_elicitation, {"confirm": False})
    assert "did not forget" in unticked and "blue shed" in recalled

    forgot, recalled = anyio.run(with_elicitation, {"confirm": True})
    assert forgot.startswith("Forgotten: 1 thing") and "blue shed" not in recalled
    assert len(questions) == 3 and all("blue shed" in q for q in questions)


# -------------------------------------------------------------------------------- HTTP

class HttpServer:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = _env(home)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "mcp", "serve", "--http", "--port", "0"],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        banner = ""
        for line in self.process.stderr:  # ends at the banner, or when the process dies
            if line.startswith("MCP: "):
                banner = line
                break
        found = re.search(r"at (http://127\.0\.0\.1:\d+/mcp) — bearer token (\S+)", banner)
        assert found, f"no banner; the server exited with {self.process.poll()}"
        self.url, self.token = found.groups()

    @asynccontextmanager
    async def session(self, **callbacks: Any) -> AsyncIterator[ClientSession]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"},
                                      timeout=httpx2.Timeout(WAIT_S)) as http, \
                streamable_http_client(self.url, http_client=http) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=WAIT_S, **callbacks) as session:
            await session.initialize()
            yield session

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(WAIT_S)
        finally:
            self.process.kill()


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    server = HttpServer(tmp_path_factory.mktemp("mcp-http"))
    try:
        yield server
    finally:
        server.stop()


def test_http_without_the_token_is_401(http_server: HttpServer) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "test", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer not-the-token"},
                 {"Authorization": f"Basic {http_server.token}"}):
        response = httpx.post(http_server.url, json=hello, headers=headers | auth,
                              timeout=WAIT_S)
        assert response.status_code == 401, auth
    token_file = http_server.home / "data" / "mcp-token"
    assert token_file.read_text().strip() == http_server.token
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_http_calls_confirmation_and_a_timer_to_two_clients(http_server: HttpServer) -> None:
    said: list[list[str]] = [[], []]
    both = [anyio.Event(), anyio.Event()]

    def on_log(i: int) -> Any:
        async def callback(params: types.LoggingMessageNotificationParams) -> None:
            said[i].append(str(params.data))
            both[i].set()
        return callback

    async def main() -> dict[str, str]:
        async with http_server.session(logging_callback=on_log(0)) as plain, \
                http_server.session(logging_callback=on_log(1),
                                    elicitation_callback=accept({"confirm": True})) as asking:
            out = {"time": text(await plain.call_tool("get_time", {})),
                   "add": text(await plain.call_tool("add_to_list", {
                       "item": "milk", "list_name": "shopping"}))}
            refused = await plain.call_tool("clear_list", {"list_name": "shopping"})
            assert refused.is_error
            out["refused"] = text(refused)
            out["cleared"] = text(await asking.call_tool("clear_list",
                                                         {"list_name": "shopping"}))
            out["read"] = text(await plain.call_tool("read_list", {"list_name": "shopping"}))
            await asking.call_tool("set_timer", {"seconds": 1, "label": "egg"})
            with anyio.fail_after(WAIT_S):
                for event in both:
                    await event.wait()
            return out

    out = anyio.run(main)
    assert re.search(r"\d", out["time"])
    assert "milk" in out["refused"] and "elicitation" in out["refused"]
    assert out["cleared"].startswith("Cleared") and "milk" not in out["read"]
    # a timer one client set is announced to every connected client
    assert said == [["Your egg timer for 1 second is done."]] * 2


def test_a_second_process_is_told_where_the_store_is(http_server: HttpServer) -> None:
    async def main() -> str:
        async with http_server.session() as session:
            return text(await session.call_tool("remember", {"fact": "the gate code is 1234"}))

    assert "gate code" in anyio.run(main)  # the server process now holds the store
    other = subprocess.run([sys.executable, "-m", "assistant.cli", "memory", "list"],
                           cwd=ROOT, env=http_server.env, capture_output=True, text=True,
                           timeout=WAIT_S)
    assert other.returncode == 2
    lines = other.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"pid {http_server.process.pid}" in lines[0]
    assert f"use its MCP server at {http_server.url}" in lines[0]


def test_alongside_a_running_assistant_shares_its_memory_and_timers(tmp_path: Path) -> None:
    env = _env(tmp_path, ASSISTANT_MCP__SERVE_HTTP="true", ASSISTANT_MCP__HTTP_PORT="0")
    spoken: list[str] = []
    assistant = Assistant(load_config(env=env).config, announce=spoken.append)
    printed: list[str] = []
    endpoint = alongside(assistant, printed.append)
    assert endpoint is not None
    try:
        assert printed == [endpoint.banner()] and endpoint.token in printed[0]
        heard = anyio.Event()

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            heard.set()

        async def main() -> None:
            async with httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {endpoint.token}"},
                    timeout=httpx2.Timeout(WAIT_S)) as http, \
                    streamable_http_client(endpoint.url, http_client=http) as (read, write), \
                    ClientSession(read, write, read_timeout_seconds=WAIT_S,
                                  logging_callback=on_log) as session:
                await session.initialize()
                await session.call_tool("remember", {"fact": "the spare key is under the pot"})
                await session.call_tool("set_timer", {"seconds": 600, "label": "soup"})
                await session.call_tool("set_timer", {"seconds": 1, "label": "egg"})
                with anyio.fail_after(WAIT_S):
                    await heard.wait()

        anyio.run(main)
        facts = assistant.memory().facts()  # the host's own store, not a second one
        assert [(f.text, f.source) for f in facts] == [("the spare key is under the pot", "mcp")]
        timers = assistant.registry.call("list_timers", {}, assistant.context)
        assert "soup" in timers.result  # the host's timer table
        assert spoken == ["Your egg timer for 1 second is done."]  # and it still says it
    finally:
        endpoint.close()
        assistant.close()


def test_http_on_a_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "assistant.cli", "mcp", "serve", "--http",
                              "--port", str(port)], cwd=ROOT, env=_env(tmp_path),
                             capture_output=True, text=True, timeout=WAIT_S)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (f"error: mcp: cannot listen on 127.0.0.1:{port}: Address already in "
                          "use; set mcp.http_port (or --port) to a free port\n")
