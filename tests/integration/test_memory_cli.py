"""`assistant memory ...` end to end in subprocesses, and the memory skills through the real
skill registry, on the real embedding model and a real chromadb."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Config
from assistant.memory import MemoryStore, open_store
from assistant.skills import SkillContext, SkillRegistry

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parents[1] / "data" / "memory" / "corpus"


def assistant(*args: str, env: dict[str, str], timeout: float = 120, input: str | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, input=input, cwd=cwd)


def fact_texts(config: Config) -> list[str]:
    with open_store(config) as store:
        return sorted(f.text for f in store.facts())


def test_add_then_search_json(cli_env: dict[str, str]) -> None:
    add = assistant("memory", "add", "my", "bike", "lock", "code", "is", "4321", env=cli_env)
    assert add.returncode == 0, add.stderr
    assert "added m-" in add.stdout and "4321" in add.stdout

    found = assistant("memory", "search", "bike lock", "--json", env=cli_env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)  # the whole stdout is the JSON list
    assert isinstance(hits, list) and hits
    assert set(hits[0]) == {"id", "text", "source", "score"}
    assert "4321" in hits[0]["text"]
    assert hits[0]["id"].startswith("m-") and hits[0]["source"] == "cli"
    assert isinstance(hits[0]["score"], float)


def test_ingest_stats_list_and_export(cli_env: dict[str, str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("bike_log.md", "recipe_lemon_drizzle.md", "printer_setup.txt"):
        shutil.copy(CORPUS / name, docs / name)
    assert assistant("memory", "add", "my bike lock code is 4321", env=cli_env).returncode == 0

    run = assistant("memory", "ingest", "docs", "no_such_notes.md", env=cli_env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    skipped = [line for line in run.stdout.splitlines() if "no_such_notes.md" in line]
    assert len(skipped) == 1
    assert skipped[0].startswith("skipped") and "no such file or folder" in skipped[0]
    summary = re.search(r"ingest: 3 added, 0 updated, 0 unchanged, 0 removed, 1 failed, "
                        r"(\d+) chunks written", run.stdout)
    assert summary, run.stdout
    chunks = int(summary.group(1))
    assert chunks >= 3

    stats = assistant("memory", "stats", "--json", env=cli_env)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["facts"] == 1 and counts["files"] == 3 and counts["chunks"] == chunks
    assert counts["path"] == str(tmp_path / "data" / "memory") and counts["disk_bytes"] > 0

    listed = assistant("memory", "list", env={**cli_env, "COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert "my bike lock code is 4321" in listed.stdout
    assert f"3 ingested files, {chunks} chunks" in listed.stdout
    assert "Marguerite" not in listed.stdout  # list shows facts, not document text

    export = assistant("memory", "export", env=cli_env)
    assert export.returncode == 0, export.stderr
    lines = export.stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 1 + chunks
    assert len({r["id"] for r in rows}) == len(rows)
    assert [r["collection"] for r in rows] == ["memory"] + ["documents"] * chunks
    assert rows[0]["text"] == "my bike lock code is 4321"
    for r in rows:
        assert set(r) == {"id", "collection", "text", "source", "heading", "position",
                          "created", "updated"}
    sources = {Path(r["source"]).name for r in rows[1:]}
    assert sources == {"bike_log.md", "recipe_lemon_drizzle.md", "printer_setup.txt"}
    assert any("Marguerite" in r["text"] for r in rows[1:])


def test_ingest_names_a_long_missing_path_in_one_line(cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    missing = tmp_path / ("a_folder_with_a_rather_long_name_that_was_never_created_" * 2) / "x.md"
    run = assistant("memory", "ingest", str(missing), env=cli_env)
    assert any(str(missing) in line and "no such file or folder" in line
               for line in run.stdout.splitlines()), run.stdout


def test_forget_by_id_and_by_query(cli_env: dict[str, str], config: Config) -> None:
    with open_store(config) as store:
        bike_code, _ = store.add_fact("my bike lock code is 4321", source="cli")
        bike_shed, _ = store.add_fact("my bike is in the blue shed", source="cli")
        sister, _ = store.add_fact("my sister lives in Leeds", source="cli")
        wifi, _ = store.add_fact("the wifi password is on the fridge", source="cli")

    by_id = assistant("memory", "forget", wifi.id, env=cli_env)
    assert by_id.returncode == 0, by_id.stderr
    assert "forgot 1 record" in by_id.stdout
    assert fact_texts(config) == ["my bike is in the blue shed", "my bike lock code is 4321",
                                  "my sister lives in Leeds"]

    declined = assistant("memory", "forget", "bike", "lock", env=cli_env, input="n\n")
    assert declined.returncode == 1, declined.stdout + declined.stderr
    assert bike_code.id in declined.stdout and bike_shed.id in declined.stdout
    assert sister.id not in declined.stdout
    assert "Forget these 2 records?" in declined.stdout and "kept everything" in declined.stdout
    assert len(fact_texts(config)) == 3

    confirmed = assistant("memory", "forget", "bike", "lock", "--yes", env=cli_env)
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert "forgot 2 records" in confirmed.stdout
    assert fact_texts(config) == ["my sister lives in Leeds"]

    nothing = assistant("memory", "forget", "m-000000000000", env=cli_env)
    assert nothing.returncode == 1 and "nothing matches" in nothing.stdout


def test_bad_chunk_words_is_one_line_naming_the_key(cli_env: dict[str, str]) -> None:
    proc = assistant("memory", "stats", env={**cli_env, "ASSISTANT_MEMORY__CHUNK_WORDS": "3"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "memory.chunk_words" in lines[0] and "Traceback" not in proc.stderr


def test_missing_embedding_model_is_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "ASSISTANT_MEMORY__EMBEDDING_MODEL": "/nonexistent/model"}
    proc = assistant("memory", "search", "bike lock", env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "/nonexistent/model" in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout.strip() == ""


# ---------------------------------------------------------------- skills


def test_remember_and_recall_skills(skills: tuple[SkillRegistry, SkillContext, MemoryStore]
                                    ) -> None:
    registry, ctx, store = skills
    saved = registry.call("remember", {"fact": "my car is on level 3"}, ctx)
    assert saved.ok, saved.result
    assert saved.result == "Okay, I'll remember that your car is on level 3."
    assert [f.text for f in store.facts()] == ["my car is on level 3"]

    recalled = registry.call("recall", {"query": "where is my car"}, ctx)
    assert recalled.ok, recalled.result
    assert recalled.result.startswith("You told me") and "level 3" in recalled.result

    unknown = registry.call("recall", {"query": "my passport"}, ctx)
    assert unknown.ok and unknown.result == "I don't have anything saved about your passport."

    empty = registry.call("remember", {"fact": "  . "}, ctx)
    assert not empty.ok
    assert len(store.facts()) == 1

    assert registry.call("remember", {"fact": "my car is red"}, ctx).ok
    updated = registry.call("remember", {"fact": "my car is now blue"}, ctx)
    assert updated.ok, updated.result
    assert "updated" in updated.result.lower() and "blue" in updated.result
    assert "red" in updated.result  # says what it replaced
    assert sorted(f.text for f in store.facts()) == ["my car is now blue", "my car is on level 3"]


def test_forget_skill_asks_first(skills: tuple[SkillRegistry, SkillContext, MemoryStore]
                                 ) -> None:
    registry, ctx, store = skills
    assert registry.call("remember", {"fact": "my car is on level 3"}, ctx).ok
    assert registry.call("remember", {"fact": "my sister lives in Leeds"}, ctx).ok
    questions: list[str] = []

    def refuse(question: str) -> bool:
        questions.append(question)
        return False

    kept = registry.call("forget", {"query": "my car is on level 3"}, ctx, confirm=refuse)
    assert not kept.ok and len(questions) == 1 and "forget" in questions[0]
    assert sorted(f.text for f in store.facts()) == ["my car is on level 3",
                                                     "my sister lives in Leeds"]

    no_confirm = registry.call("forget", {"query": "my car is on level 3"}, ctx)
    assert not no_confirm.ok and len(store.facts()) == 2

    gone = registry.call("forget", {"query": "my car is on level 3"}, ctx,
                         confirm=lambda _q: True)
    assert gone.ok, gone.result
    assert gone.result.startswith("Forgotten: 1 thing")
    assert [f.text for f in store.facts()] == ["my sister lives in Leeds"]


def test_forget_skill_with_the_docstring_example(
        skills: tuple[SkillRegistry, SkillContext, MemoryStore]) -> None:
    registry, ctx, store = skills
    assert registry.call("remember", {"fact": "my car is on level 3"}, ctx).ok
    assert "level 3" in registry.call("recall", {"query": "my car"}, ctx).result
    gone = registry.call("forget", {"query": "my car"}, ctx, confirm=lambda _q: True)
    assert gone.ok and store.facts() == [], gone.result
