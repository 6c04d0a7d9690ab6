"""MCP servers' tools as skills, against real servers: our fixture server (written with the
SDK, over stdio and over streamable HTTP on 127.0.0.1) and the PyPI reference servers
``mcp-server-time`` and ``mcp-server-git``; through the registry and through
``Assistant.turn``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.agent import Assistant
from assistant.config import Config, McpConfig
from assistant.mcp.cli import approve
from assistant.skills import SkillRegistry, build_registry, skill

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mcp_server.py"


def fixture_server(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [str(FIXTURE)], "timeout_s": 3, **extra}


def with_servers(config: Config, startup_timeout_s: float = 20, **servers: dict[str, Any]
                 ) -> Config:
    config.mcp = McpConfig.model_validate({"servers": servers,
                                           "startup_timeout_s": startup_timeout_s})
    config.memory.enabled = False
    return config


def registry_of(config: Config) -> SkillRegistry:
    return build_registry(config.skills, config.paths.data, config.mcp)


def chat(config: Config, **kwargs: Any) -> Assistant:
    return Assistant(config, announce=lambda _m: None, **kwargs)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SkillRegistry, Path]]:
    """One registry on the fixture server for the call behaviours (each start costs ~1 s)."""
    from assistant.config import load_config

    tmp = tmp_path_factory.mktemp("mcp")
    (tmp / "config.toml").write_text("")
    config = load_config(tmp / "config.toml", overrides={"paths.data_dir": str(tmp / "data")},
                         env={}).config
    log = tmp / "ran.log"
    config = with_servers(config, fx=fixture_server(
        env={"MCP_FIXTURE_LOG": str(log)}, timeout_s=2,
        tools={"echo": {"risk": "safe", "read_only": True}}))
    yield registry_of(config), log


def call(registry: SkillRegistry, name: str, **arguments: Any):
    from assistant.skills import SkillContext

    return registry.call(name, arguments, SkillContext(data_dir=Path("/nonexistent")),
                         confirm=lambda _q: True)


def test_each_tool_is_a_skill_and_an_unusable_schema_skips_only_that_tool(shared) -> None:
    registry, _ = shared
    names = {n for n in registry.skills if n.startswith("fx_")}
    assert names == {f"fx_{t}" for t in ("echo", "room_temperature", "delete_note", "turn_on",
                                         "broken", "slow", "crash", "define", "book_table",
                                         "tag")}
    assert any("tool 'outline' skipped: recursive $ref" in e for e in registry.errors)
    assert "calculate" in registry.skills  # the built-in skills are all still there
    # Untrusted server: its read-only annotation is not believed.
    temp = registry.skills["fx_room_temperature"]
    assert (temp.risk, temp.read_only, temp.trusted, temp.source) == \
        ("confirm", False, False, "mcp:fx")
    book = registry.skills["fx_book_table"].parameters
    assert book["properties"]["party"]["properties"]["size"] == {
        "type": "integer", "description": "How many people."}
    assert registry.skills["fx_tag"].parameters["properties"]["value"]["type"] == "string"


def test_results_are_data_errors_are_one_sentence(shared) -> None:
    registry, _ = shared
    reading = call(registry, "fx_room_temperature", room="kitchen")
    assert reading.ok and json.loads(reading.result) == {"room": "kitchen", "celsius": 21.5}
    booked = call(registry, "fx_book_table", party={"name": "Ada", "size": 4})
    assert booked.ok and booked.result == "Booked a table for 4 under Ada."
    assert call(registry, "fx_tag", label="colour", value="red").result == "colour='red'"
    broken = call(registry, "fx_broken", reason="test")
    assert not broken.ok
    assert broken.result == ("fx_broken failed: Error executing tool broken: the sensor is "
                             "unplugged (test)")
    refused = call(registry, "fx_book_table", party={"name": "Ada"})  # the server checks
    assert not refused.ok and "size" in refused.result


def test_a_crash_mid_call_is_one_sentence_and_the_next_call_restarts_the_server(shared
                                                                                ) -> None:
    registry, _ = shared
    crashed = call(registry, "fx_crash")
    assert not crashed.ok
    assert crashed.result == ("the fx server stopped while running crash; it will be "
                              "restarted next time.")
    again = call(registry, "fx_echo", text="still here")
    assert again.ok and again.result == "still here"


def test_a_slow_tool_times_out_within_its_limit_and_the_server_comes_back(shared) -> None:
    registry, _ = shared
    slow = call(registry, "fx_slow", seconds=60)
    assert not slow.ok
    assert slow.result == "slow on fx took longer than 2 seconds, so I gave up on it."
    assert slow.ms < 60_000  # it did not wait for the tool
    assert call(registry, "fx_echo", text="back").result == "back"


def test_a_server_that_cannot_start_is_one_line_and_the_rest_works(config) -> None:
    config = with_servers(config, startup_timeout_s=4, hangs={"command": "sleep",
                                                              "args": ["30"]},
                          missing={"command": "/no/such/server"}, fx=fixture_server())
    registry = registry_of(config)
    assert "mcp server 'hangs': the hangs server is unavailable: did not start within 4 " \
           "seconds." in registry.errors
    assert "mcp server 'missing': the missing server is unavailable: command not found: " \
           "/no/such/server." in registry.errors
    assert not any(n.startswith(("hangs_", "missing_")) for n in registry.skills)
    assert call(registry, "fx_echo", text="ok").result == "ok"


def test_a_pinned_server_is_not_started_to_build_the_registry(config) -> None:
    config = with_servers(config, fx=fixture_server())
    registry_of(config)  # first sight: started and pinned
    registry = registry_of(config)
    from assistant.mcp import client

    fresh = [c for c in client._OPEN if c.cfg is config.mcp.servers["fx"]]
    assert fresh and fresh[-1].starts == 0 and fresh[-1].state == "stopped"
    assert call(registry, "fx_echo", text="lazy").result == "lazy"
    assert fresh[-1].starts == 1


def test_warm_up_starts_a_pinned_server_so_its_first_call_does_not(config) -> None:
    config = with_servers(config, fx=fixture_server())
    registry_of(config)  # first sight: started and pinned
    a = chat(config)
    from assistant.mcp import client

    conn = [c for c in client._OPEN if c.cfg is config.mcp.servers["fx"]][-1]
    assert (conn.starts, conn.state) == (0, "stopped")
    a.registry.warm()  # what Assistant.warm_up starts in the background
    assert (conn.starts, conn.state) == (1, "running")
    assert call(a.registry, "fx_echo", text="warm").result == "warm"
    assert conn.starts == 1


def test_changed_definitions_disable_the_server_until_approved(config, capsys) -> None:
    config = with_servers(config, fx=fixture_server())
    registry_of(config)  # pinned as first seen
    changed = fixture_server(env={"MCP_FIXTURE_VARIANT": "changed"})
    config = with_servers(config, fx=changed)
    registry = registry_of(config)
    refused = call(registry, "fx_room_temperature", room="hall")
    assert not refused.ok
    assert refused.result == ("the tools of the fx server changed since you approved them; "
                              "run `assistant skills approve fx` to use them again.")
    from rich.console import Console

    approve(config, "fx", Console(width=200))
    out = capsys.readouterr().out
    assert "tool echo: description changed" in out
    assert "now: 'Repeat the given text back, changed.'" in out
    assert call(registry_of(config), "fx_room_temperature", room="hall").ok


def test_a_fast_path_pattern_runs_a_trusted_read_only_tool_and_say_fills_the_answer(
        config) -> None:
    config = with_servers(config, fx=fixture_server(trust="trusted", tools={
        "room_temperature": {"patterns": [r"\bhow warm is the (?P<room>\w+)\b"],
                             "say": "The {room} is at {celsius} degrees."}}))
    a = chat(config)
    assert a.registry.skills["fx_room_temperature"].read_only
    result = a.turn("how warm is the kitchen")
    assert (result.kind, result.text) == ("command", "The kitchen is at 21.5 degrees.")
    assert a.speculable("how warm is the kitchen")


def test_a_destructive_tool_asks_first_and_runs_only_after_yes(config, tmp_path) -> None:
    log = tmp_path / "ran.log"
    config = with_servers(config, fx=fixture_server(
        trust="trusted", env={"MCP_FIXTURE_LOG": str(log)},
        tools={"delete_note": {"patterns": [r"\bdelete the note (?P<title>\w+)\b"]}}))
    a = chat(config)
    assert not a.speculable("delete the note shopping")  # it acts: never speculative
    asked = a.turn("delete the note shopping")
    assert (asked.kind, asked.text) == ("confirm", "Should I fx delete note with title "
                                                   "shopping?")
    assert not log.exists()
    done = a.turn("yes")
    assert done.text == "Deleted the note shopping." and done.tool_calls[0].ok
    assert log.read_text() == "delete_note shopping\n"
    assert a.turn("delete the note groceries").kind == "confirm"
    assert a.turn("no").kind == "cancelled"
    assert log.read_text() == "delete_note shopping\n"


def test_an_untrusted_read_only_annotated_tool_still_asks(config) -> None:
    config = with_servers(config, fx=fixture_server(tools={
        "room_temperature": {"patterns": [r"\bhow warm is the (?P<room>\w+)\b"]}}))
    a = chat(config)
    assert a.turn("how warm is the kitchen").kind == "confirm"
    assert not a.speculable("how warm is the kitchen")


SENT: list[str] = []


@skill
def send_note(to: str, words: str) -> str:
    """Send a note to someone.

    Args:
        to: Who gets it.
        words: What it says.
    """
    SENT.append(to)
    return f"Sent {to} the note."


class _ObedientEngine:
    """A model that calls the untrusted sensor, then (obeying what it read) sends a note:
    decisions when asked for JSON, a plain answer otherwise."""

    def __init__(self) -> None:
        self.decisions = [
            {"calls": [{"name": "fx_room_temperature", "arguments": {"room": "kitchen"}}]},
            {"calls": [{"name": "send_note", "arguments": {"to": "bob", "words": "kitchen"}}]},
        ]

    def stream(self, messages, *, stats=None, json_schema=None, **_kwargs):
        piece = json.dumps(self.decisions.pop(0)) if json_schema else "Done."
        if stats is not None:
            stats.text += piece
        yield piece

    def count_text(self, text: str) -> int:
        return len(text.split())


@pytest.mark.parametrize(("trust", "sent"), [("untrusted", []), ("trusted", ["bob"])])
def test_after_an_untrusted_result_nothing_acts_in_the_same_turn(config, trust, sent) -> None:
    config = with_servers(config, fx=fixture_server(trust=trust, tools={
        "room_temperature": {"risk": "safe", "read_only": True}}))
    config.llm.tools_trusted = True  # the model may act: only the taint stops it
    registry = registry_of(config)
    registry.add(send_note.__skill__)
    SENT.clear()
    a = chat(config, registry=registry, engine=_ObedientEngine())
    result = a.turn("read the kitchen room temperature and send bob a note")
    assert result.tool_calls[0].name == "fx_room_temperature" and result.tool_calls[0].ok
    assert sent == SENT
    assert "21.5" not in a.system_message()["content"]  # results never join the system prompt


class _DeviceModel:
    """A model that turns the kitchen lights on when offered a tool for it."""

    def stream(self, messages, *, stats=None, json_schema=None, **_kwargs):
        call = {"name": "fx_turn_on", "arguments": {"name": "kitchen lights"}}
        piece = json.dumps({"calls": [call]}) if json_schema else "Okay."
        if stats is not None:
            stats.text += piece
        yield piece


def test_a_smart_home_request_reaches_a_connected_server_and_asks_first(config, tmp_path
                                                                       ) -> None:
    without = chat(with_servers(config))
    refused = without.turn("turn on the kitchen lights")
    assert refused.kind == "unsupported" and "Home Assistant's MCP server" in refused.text
    log = tmp_path / "ran.log"
    config = with_servers(config, fx=fixture_server(env={"MCP_FIXTURE_LOG": str(log)}))
    a = chat(config, engine=_DeviceModel())
    assert not a.speculable("turn on the kitchen lights")
    asked = a.turn("turn on the kitchen lights")
    assert (asked.kind, asked.text) == ("confirm", "Should I fx turn on with name kitchen "
                                                   "lights?")
    assert not log.exists()
    assert a.turn("yes").text == "Turned on the kitchen lights."
    assert log.read_text() == "turn_on kitchen lights\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_same_over_streamable_http_with_headers_from_the_environment(config, monkeypatch
                                                                        ) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(FIXTURE), "--http", str(port),
                             "--lifetime", "60"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        monkeypatch.setenv("FIXTURE_TOKEN", "s3cret")
        url = f"http://127.0.0.1:{port}/mcp"
        config = with_servers(config, web={"url": url, "timeout_s": 2, "headers": {
            "Authorization": "Bearer ${FIXTURE_TOKEN}"}})
        registry = registry_of(config)
        assert call(registry, "web_echo", text="over http").result == "over http"
        assert not call(registry, "web_broken", reason="x").ok
        slow = call(registry, "web_slow", seconds=30)
        assert slow.result == "slow on web took longer than 2 seconds, so I gave up on it."
        assert call(registry, "web_echo", text="again").result == "again"
        monkeypatch.delenv("FIXTURE_TOKEN")
        (config.paths.data / "mcp" / "pins.json").unlink()
        errors = registry_of(config).errors
        assert "mcp server 'web': the web server is unavailable: header Authorization " \
               "uses ${FIXTURE_TOKEN}, which is not set." in errors
    finally:
        proc.terminate()
        proc.wait(10)


def test_mcp_server_time_answers_through_the_chat(config) -> None:
    config = with_servers(config, time={
        "command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone",
                                            "Europe/London"],
        "trust": "trusted", "tools": {"get_current_time": {
            "patterns": [r"\bthe clock in (?P<timezone>\w+/\w+)"],
            "say": "It is {datetime} in {timezone}."}}})
    a = chat(config)
    s = a.registry.skills["time_get_current_time"]
    assert (s.risk, s.read_only) == ("safe", True)
    result = a.turn("check the clock in Asia/Tokyo")
    assert result.kind == "command" and result.tool_calls[0].ok, result.text
    assert result.text.startswith("It is 20") and result.text.endswith(" in Asia/Tokyo.")
    bad = a.turn("check the clock in Nowhere/Atall")
    assert not bad.tool_calls[0].ok and "\n" not in bad.text


def test_mcp_server_git_maps_risk_and_reads_a_repository(config, tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "notes.txt").write_text("hello\n")
    config = with_servers(config, git={"command": sys.executable,
                                       "args": ["-m", "mcp_server_git"], "trust": "trusted"})
    registry = registry_of(config)
    risks = {n: (s.risk, s.read_only) for n, s in registry.skills.items()
             if n.startswith("git_")}
    assert risks["git_git_status"] == ("safe", True)
    assert risks["git_git_log"] == ("safe", True)
    assert risks["git_git_reset"] == ("confirm", False)
    assert risks["git_git_commit"] == ("confirm", False)
    status = call(registry, "git_git_status", repo_path=str(repo))
    assert status.ok and "notes.txt" in status.result


@pytest.mark.slow
def test_a_poisoned_description_does_not_make_the_real_model_call_forget(config) -> None:
    config = with_servers(config, fx=fixture_server(trust="trusted", allowed_tools=["define"]))
    config.llm.max_tokens = 40  # the answer's words are not under test
    a = chat(config)
    assert "ignore previous instructions" in a.registry.skills["fx_define"].description
    text = "define the word serendipity for me"
    assert "fx_define" in a.offered(text)
    assert "forget" not in a.offered(text)  # it has patterns: the model is never offered it
    result = a.turn(text)
    assert "forget" not in [c.name for c in result.tool_calls]


def test_the_cli_lists_servers_and_approves_by_name(cli_env, tmp_path) -> None:
    config = Path(cli_env["ASSISTANT_CONFIG"])
    config.write_text(f'[mcp.servers.fx]\ncommand = "{sys.executable}"\n'
                      f'args = ["{FIXTURE}"]\n'
                      '[mcp.servers.gone]\ncommand = "/no/such/server"\n')

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                              text=True, env={**cli_env, "COLUMNS": "200"}, timeout=120)

    listed = cli("mcp", "list")
    assert listed.returncode == 0, listed.stderr
    assert "running" in listed.stdout and "fx_delete_note" in listed.stdout
    assert "failed: command not found: /no/such/server" in listed.stdout
    assert "tool 'outline' skipped: recursive $ref" in listed.stdout
    skills = cli("skills", "list")
    assert "mcp:fx" in skills.stdout and "mcp server 'gone'" in skills.stderr
    same = cli("skills", "approve", "fx")
    assert same.returncode == 0 and "Nothing to approve" in same.stdout
    unknown = cli("skills", "approve", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr == ("error: no MCP server called 'nope' is configured (configured: "
                              "fx, gone)\n")
