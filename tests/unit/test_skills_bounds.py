"""assistant.skills' bounds: a plugin import's time limit, skill results and audit entries
cut to size, and the JSON writer that keeps plugins' prints off stdout."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.skills import (
    AUDIT_ENTRY_BYTES,
    CUT_MARK,
    RESULT_CHARS,
    SkillContext,
    SkillRegistry,
    Undoable,
    skill,
)
from assistant.skills.bounds import audit_line
from tests.unit.test_skills_registry import make_distribution

SKILL_SOURCE = textwrap.dedent('''
    from assistant.skills import skill

    @skill
    def {name}() -> str:
        """Answer."""
        return "{name}"
''')


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event a plugin's import waits on (as if on the network), set when the test ends so
    that the abandoned import finishes instead of lingering."""
    event = threading.Event()
    sys.modules["e16_gate"] = types.SimpleNamespace(event=event)  # type: ignore[assignment]
    try:
        yield event
    finally:
        event.set()
        del sys.modules["e16_gate"]


HANGING = "import e16_gate\ne16_gate.event.wait(60)\n"


def test_a_hung_file_import_is_skipped_and_blocks_no_other_import(
        tmp_path: Path, gate: threading.Event, clean_modules: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "a_hangs.py").write_text(HANGING + SKILL_SOURCE.format(name="never"))
    # b imports a module nobody has imported yet: the import machinery is not held up.
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "e16_fresh_dependency.py").write_text("WORD = 'fresh'\n")
    monkeypatch.syspath_prepend(str(lib))
    (folder / "b_fine.py").write_text(
        "import e16_fresh_dependency\n" + SKILL_SOURCE.format(name="fine"))
    registry = SkillRegistry(import_timeout_s=0.5)
    registry.load_dir(folder)
    assert set(registry.skills) == {"fine"}
    assert len(registry.errors) == 1
    assert "a_hangs.py" in registry.errors[0]
    assert "import took longer than 0.5 seconds" in registry.errors[0]
    assert "assistant_user_skills.a_hangs" not in sys.modules  # never half-usable
    gate.set()  # the abandoned import finishing later adds nothing
    registry.load_dir(folder / "absent")
    assert "never" not in registry.skills


def test_a_hung_entry_point_is_skipped(tmp_path: Path, gate: threading.Event,
                                       clean_modules: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "brokenplugin", "slow = brokenplugin_slow",
                      {"brokenplugin_slow/__init__.py": HANGING})
    make_distribution(site, "fakeplugin", "coins = fakeplugin_coins",
                      {"fakeplugin_coins/__init__.py": SKILL_SOURCE.format(name="flip")})
    monkeypatch.syspath_prepend(str(site))
    registry = SkillRegistry(import_timeout_s=0.5)
    registry.load_entry_points()
    assert "flip" in registry.skills and "calculate" in registry.skills
    assert [e for e in registry.errors if "slow" in e and "longer than 0.5" in e] == \
        registry.errors


def test_exit_at_import_is_a_plugin_failure_not_the_end(tmp_path: Path,
                                                       clean_modules: None) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "quits.py").write_text("import sys\nsys.exit(3)\n")
    registry = SkillRegistry()
    registry.load_dir(folder)
    assert registry.errors == [f"{folder / 'quits.py'}: RuntimeError: SystemExit raised "
                               "at import"]


# ---------------------------------------------------------------- results and audit

@skill
def flood() -> str:
    """Ten megabytes of answer."""
    return "x" * 10_000_000


@skill
def undoable_flood() -> Undoable:
    """A huge answer that can be taken back."""
    return Undoable("y" * 50_000, lambda: "taken back")


@skill
def loud_failure() -> str:
    """Fails with a huge message."""
    raise ValueError("z" * 100_000)


@skill
def echo(text: str) -> str:
    """Say it back.

    Args:
        text: What to say.
    """
    return "ok"


@pytest.fixture
def bounded(tmp_path: Path) -> SkillRegistry:
    return SkillRegistry([flood.__skill__, undoable_flood.__skill__, loud_failure.__skill__,
                          echo.__skill__], audit_log=tmp_path / "audit.jsonl")


@pytest.mark.parametrize("name", ["flood", "undoable_flood", "loud_failure"])
def test_a_long_result_is_cut_and_says_so(bounded: SkillRegistry, tmp_path: Path,
                                          name: str) -> None:
    result = bounded.call(name, {}, SkillContext(data_dir=tmp_path))
    assert len(result.result) == RESULT_CHARS + len(CUT_MARK)
    assert result.result.endswith("…(cut)")
    assert result.ok is (name != "loud_failure")
    assert (result.undo is not None) is (name == "undoable_flood")


def test_audit_entries_are_bounded_and_say_how_big_they_were(bounded: SkillRegistry,
                                                             tmp_path: Path) -> None:
    ctx = SkillContext(data_dir=tmp_path)
    bounded.call("flood", {}, ctx)
    bounded.call("echo", {"text": "é" * 100_000}, ctx)  # arguments count too
    bounded.call("echo", {"text": "short"}, ctx)
    lines = (tmp_path / "audit.jsonl").read_bytes().splitlines()
    assert [len(line) <= AUDIT_ENTRY_BYTES for line in lines] == [True] * 3
    records = [json.loads(line) for line in lines]
    assert [r["name"] for r in records] == ["flood", "echo", "echo"]
    assert records[0]["ok"] is True and records[0]["result"].endswith(CUT_MARK)
    assert records[1]["cut_bytes"] > 100_000 and records[1]["record"].startswith('{"ts"')
    assert records[2]["arguments"] == {"text": "short"} and "cut_bytes" not in records[2]


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(record=st.dictionaries(st.text(), JSON), limit=st.integers(120, 600))
def test_any_audit_record_is_one_json_line_within_its_limit(record: dict, limit: int) -> None:
    """What must hold: whatever a skill was given or returned, its audit entry is one line of
    valid JSON of at most ``limit`` bytes, and it is the record itself when that fits."""
    line = audit_line(record, limit)
    assert "\n" not in line and len(line.encode()) <= limit
    parsed = json.loads(line)
    whole = json.dumps(record)
    assert parsed == json.loads(whole) if len(whole) <= limit else parsed["cut_bytes"] == len(whole)


# ---------------------------------------------------------------- stdout for JSON

def test_json_stdout_sends_every_other_write_to_stderr() -> None:
    """Prints, a C-level write to descriptor 1 and a child process's output all go to
    stderr; the JSON object alone reaches stdout, and stdout is itself again afterwards."""
    code = textwrap.dedent("""
        import os, subprocess, sys
        from assistant.jsonout import json_stdout
        with json_stdout() as emit:
            print("a plugin's print")
            os.write(1, b"a C extension's write\\n")
            subprocess.run([sys.executable, "-c", "print('a child process')"])
            emit({"text": "answer"})
        print("after")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"text": "answer"}\nafter\n'
    for said in ("a plugin's print", "a C extension's write", "a child process"):
        assert said in proc.stderr


def test_plugin_imports_run_at_once(tmp_path: Path, clean_modules: None) -> None:
    # Each import waits until all three are running: loaded one after another, the first
    # would wait out its time alone. So N hung plugins cost one timeout, not N.
    barrier = threading.Barrier(3, timeout=30)
    sys.modules["e16_barrier"] = types.SimpleNamespace(barrier=barrier)  # type: ignore[assignment]
    folder = tmp_path / "plugins"
    folder.mkdir()
    for n in range(3):
        (folder / f"waits_{n}.py").write_text(
            "import e16_barrier\ne16_barrier.barrier.wait()\n" + SKILL_SOURCE.format(name=f"s{n}"))
    registry = SkillRegistry(import_timeout_s=10.0)
    try:
        registry.load_dir(folder)
    finally:
        barrier.abort()
        del sys.modules["e16_barrier"]
    assert (list(registry.skills), registry.errors) == (["s0", "s1", "s2"], [])
