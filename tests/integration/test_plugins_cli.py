"""Plugins that misbehave, end to end through the `assistant` command: one that hangs at
import, one that prints at import and while it runs, one whose result is 10 MB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.skills import AUDIT_ENTRY_BYTES, CUT_MARK, RESULT_CHARS

PLUGINS = {
    "hangs.py": "import time\ntime.sleep(600)\n",
    "chatty.py": '''
        import os
        from assistant.skills import skill

        print("chatty plugin imported")
        os.write(1, b"chatty plugin wrote to descriptor 1\\n")

        @skill(patterns=[r"^flood me$"])
        def flood() -> str:
            """Ten megabytes of answer."""
            print("flood running")
            return "x" * 10_000_000
    ''',
}


@pytest.fixture
def plugin_env(tmp_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, source in PLUGINS.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return {**cli_env, "ASSISTANT_SKILLS__DIRS": json.dumps([str(folder)]),
            "ASSISTANT_SKILLS__IMPORT_TIMEOUT_S": "1"}


def assistant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Well under the hanging plugin's 600 s: a hang fails the test instead of passing it.
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_skills_list_skips_a_plugin_that_hangs_at_import(plugin_env: dict[str, str]) -> None:
    proc = assistant("skills", "list", env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    assert "flood" in proc.stdout and "calculate" in proc.stdout
    assert "hangs.py" in proc.stderr and "import took longer than 1 seconds" in proc.stderr


def test_once_json_is_one_object_whatever_plugins_print(plugin_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    proc = assistant("chat", "--once", "flood me", "--json", env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # the whole stdout is one JSON object
    assert proc.stdout.count("\n") == 1
    (call,) = out["tool_calls"]
    assert call["name"] == "flood" and call["ok"] is True
    assert call["result"] == "x" * RESULT_CHARS + CUT_MARK
    assert out["text"].endswith("…(cut)") and len(out["text"]) < RESULT_CHARS + 100
    for said in ("chatty plugin imported", "chatty plugin wrote to descriptor 1",
                 "flood running", "hangs.py"):
        assert said in proc.stderr
    audit = (tmp_path / "data" / "audit.jsonl").read_bytes().splitlines()
    assert audit and all(len(line) <= AUDIT_ENTRY_BYTES for line in audit)


def test_json_lines_chat_keeps_stdout_to_its_objects(plugin_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json"],
                          input="flood me\nwhat's two plus two\n", capture_output=True,
                          text=True, env=plugin_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["tool_calls"][0]["name"] for r in replies] == ["flood", "calculate"]
    assert "flood running" in proc.stderr
