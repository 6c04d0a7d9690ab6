"""The pure parts of our MCP server: a skill as a tool, a call's result as the client sees it,
the confirmation form's reading, the token file, and the store holder's note."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from assistant.mcp.http import McpHttpError, load_token
from assistant.mcp.skill_tools import (
    confirmed,
    result_for,
    served,
    tool_for,
    unconfirmed,
    unknown,
)
from assistant.memory import holder
from assistant.skills import SkillContext, ToolResult, skill


@skill(risk="confirm")
def wipe(ctx: SkillContext, what: str, everything: bool = False) -> str:
    """Wipe something out.

    Args:
        what: The thing to wipe.
        everything: Wipe all of it.
    """
    return "wiped"


@skill(read_only=True)
def peek(room: str) -> str:
    """Look into a room.

    Args:
        room: Which room.
    """
    return room


@skill
def add_note(text: str) -> str:
    """Add a note."""
    return text


def test_a_tool_has_the_skills_name_schema_and_what_it_says_of_itself() -> None:
    s = wipe.__skill__
    tool = tool_for(s)
    assert (tool.name, tool.description, tool.title) == ("wipe", "Wipe something out.", "Wipe")
    assert tool.input_schema == s.parameters
    assert tool.input_schema["required"] == ["what"]
    assert "ctx" not in tool.input_schema["properties"]
    hints = {f.__skill__.name: tool_for(f.__skill__).annotations
             for f in (wipe, peek, add_note)}
    assert (hints["wipe"].read_only_hint, hints["wipe"].destructive_hint) == (False, True)
    assert (hints["peek"].read_only_hint, hints["peek"].destructive_hint) == (True, False)
    assert (hints["add_note"].read_only_hint, hints["add_note"].destructive_hint) == \
        (False, False)  # it acts, but only adds


def test_tools_passed_on_from_other_mcp_servers_are_not_served() -> None:
    assert served(peek.__skill__)
    assert not served(dataclasses.replace(peek.__skill__, source="mcp:time"))


def test_a_result_is_its_sentence_and_an_error_says_so() -> None:
    ok = result_for(ToolResult("calculate", {"expression": "2+2"}, 4, True, 0.1))
    assert (ok.content[0].text, ok.is_error) == ("4", False)
    bad = result_for(ToolResult("calculate", {}, "Invalid arguments for calculate.", False, 0.1))
    assert (bad.content[0].text, bad.is_error) == ("Invalid arguments for calculate.", True)
    assert unknown("nope").is_error and "nope" in unknown("nope").content[0].text


def test_a_refused_confirmation_names_the_question_in_one_line() -> None:
    refusal = unconfirmed("forget", "Forget these 2 things: a, b?")
    assert refusal.is_error
    said = refusal.content[0].text
    assert "Forget these 2 things: a, b?" in said and "elicitation" in said and "\n" not in said


@pytest.mark.parametrize(("answer", "yes"), [
    ({"confirm": True}, True), ({"confirm": False}, False), ({}, False), (None, False),
    ({"confirm": "true"}, False), ({"confirm": 1}, False)])
def test_only_an_explicit_yes_confirms(answer: dict | None, yes: bool) -> None:
    assert confirmed(answer) is yes


def test_the_token_is_made_once_private_and_kept(tmp_path: Path) -> None:
    token, path = load_token(tmp_path / "data")
    assert len(token) >= 32 and path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    again, _ = load_token(tmp_path / "data")
    assert again == token and path.stat().st_mode & 0o777 == 0o600
    path.write_text("short\n")
    with pytest.raises(McpHttpError, match="too short"):
        load_token(tmp_path / "data")


def test_the_holders_note_is_believed_only_from_the_holder(tmp_path: Path) -> None:
    assert holder.describe(tmp_path) == "pid ?"
    (tmp_path / holder.PID_FILE).write_text(str(os.getpid()))
    assert holder.describe(tmp_path) == f"pid {os.getpid()}"
    holder.note(tmp_path, "use its MCP server at http://127.0.0.1:8765/mcp")
    assert holder.describe(tmp_path) == \
        f"pid {os.getpid()}; or use its MCP server at http://127.0.0.1:8765/mcp"
    (tmp_path / holder.PID_FILE).write_text("1")  # a later holder that left no note
    assert holder.describe(tmp_path) == "pid 1"
    holder.clear(tmp_path)
    assert not (tmp_path / holder.NOTE_FILE).exists()
    (tmp_path / holder.NOTE_FILE).write_text("1\nsomeone else's\n")
    holder.clear(tmp_path)  # not ours: left alone
    assert (tmp_path / holder.NOTE_FILE).exists()
