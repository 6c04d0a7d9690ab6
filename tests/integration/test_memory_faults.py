"""The memory under faults and bad input, on the real embedding model and a real chromadb:
SIGKILLs at random points of ingestion and of fact updates and a full disk
(:func:`assistant.bench.faults.fault_ingestion`, shortened), the issue's killed ingest of a
big file that is then deleted, a symlink loop, a file that is no embedding model, and facts
that are empty or 50 KB long."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from assistant.bench.faults import fault_ingestion
from assistant.config import Config
from assistant.memory import MemoryStore, open_store
from assistant.memory.integrity import integrity
from assistant.skills import SkillContext, SkillRegistry
from tests.fixtures.peek import count_rows, kill_when

pytestmark = pytest.mark.slow
VAD_ONNX = Path(__import__("faster_whisper").__file__).parent / "assets" / "silero_vad_v6.onnx"


def assistant(*args: str, env: dict[str, str], timeout: float = 180
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_kills_at_random_points_and_a_full_disk_lose_nothing(config: Config) -> None:
    out = io.StringIO()
    rows = fault_ingestion(config, Console(file=out, width=200), kills=6, seed=16,
                           corpus_files=6, long_words=9000)
    by_target = {row.target: row for row in rows}
    assert set(by_target) == {"memory ingest: SIGKILL", "memory facts: SIGKILL",
                              "memory: disk full"}
    for row in rows:
        assert row.problems == (), (row, out.getvalue())
        assert row.lost == 0 and row.survived == row.injected, row
    assert by_target["memory ingest: SIGKILL"].injected == 6
    assert by_target["memory facts: SIGKILL"].injected == 6
    assert by_target["memory: disk full"].injected >= 1  # the ingest cannot fit


def test_killed_ingest_of_a_big_file_then_deleted_leaves_nothing_of_it(
        config: Config, cli_env: dict[str, str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "small.md").write_text("# Bins\nThe green bin goes out on Tuesday.\n")
    rng = random.Random(5)
    words = "the lighthouse keeper logged fog horn beacons and tides every night".split()
    with (docs / "big.txt").open("w") as fh:  # ~3 MB: thousands of chunks, hours to embed
        for _ in range(40_000):
            fh.write(" ".join(rng.choices(words, k=12)) + ". ")
    folder = config.memory.folder(config.paths.data)
    assert assistant("memory", "ingest", str(docs / "small.md"), env=cli_env).returncode == 0
    written = count_rows(folder / "chroma" / "chroma.sqlite3", "embeddings")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "memory", "ingest", str(docs)],
                            env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = folder / "chroma" / "chroma.sqlite3"
    assert kill_when(proc, lambda: count_rows(chunks, "embeddings") >= written + 64, 240), \
        "the ingest ended before it was killed"

    check = assistant("memory", "check", env=cli_env)
    assert check.returncode == 0, check.stdout + check.stderr  # pending, not broken
    assert f"unfinished: {(docs / 'big.txt').resolve()}" in check.stdout
    (docs / "big.txt").unlink()
    again = assistant("memory", "ingest", str(docs), env=cli_env)
    assert again.returncode == 0, again.stderr
    summary = again.stdout.strip().splitlines()[-1]
    assert "0 added" in summary and "1 unchanged" in summary
    assert "left by an interrupted ingest removed" in summary
    with open_store(config) as store:
        assert integrity(store) == [] and store.pending() == []
        assert store.files() == [str((docs / "small.md").resolve())]
        assert {r["source"] for r in store.export()} == {str((docs / "small.md").resolve())}
        assert all("lighthouse" not in h.record.text for h in store.search("lighthouse fog"))


def test_symlink_loop_is_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    proc = assistant("memory", "ingest", str(tmp_path / "loop"), env=cli_env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines == [f"skipped {tmp_path / 'loop'}: a symbolic link loop",
                     "ingest: 0 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 0 chunks "
                     "written"], proc.stdout


@pytest.mark.parametrize(("kind", "expected"), [("random", "is not an ONNX model"),
                                                ("vad", "is not a sentence encoder")])
def test_a_file_that_is_no_embedding_model_is_one_line(
        cli_env: dict[str, str], tmp_path: Path, kind: str, expected: str) -> None:
    model = VAD_ONNX
    if kind == "random":
        model = tmp_path / "model.onnx"
        model.write_bytes(random.Random(3).randbytes(50_000))
    env = {**cli_env, "ASSISTANT_MEMORY__EMBEDDING_MODEL": str(model)}
    stats = assistant("memory", "stats", env=env)
    assert stats.returncode == 2 and expected in one_line(stats)
    chat = assistant("chat", "--once", "remember that my tent is in the loft", "--json", env=env)
    assert chat.returncode == 0, chat.stderr
    assert "Traceback" not in chat.stderr
    answer = json.loads(chat.stdout)["text"]
    assert expected in answer and "\n" not in answer and len(answer) < 300


def test_empty_and_50kb_facts_are_refused_in_one_line(
        cli_env: dict[str, str], config: Config) -> None:
    empty = assistant("memory", "add", "   ", env=cli_env)
    assert empty.returncode == 2 and "nothing to remember" in one_line(empty)
    huge = assistant("memory", "add", "my notes say " + "word " * 10_000, env=cli_env)
    assert huge.returncode == 2
    assert "at most 1,000 characters" in one_line(huge) and "50,01" in huge.stderr
    fits = assistant("memory", "add", "my code is " + "7" * 989, env=cli_env)  # 1,000
    assert fits.returncode == 0, fits.stderr
    with open_store(config) as store:
        assert [len(f.text) for f in store.facts()] == [1000]


def test_remember_skill_refuses_a_50kb_fact_in_a_sentence(
        skills: tuple[SkillRegistry, SkillContext, MemoryStore]) -> None:
    registry, ctx, store = skills
    call = registry.call("remember", {"fact": "my notes say " + "word " * 10_000}, ctx)
    assert not call.ok
    assert call.result.startswith("A fact can be at most 1,000 characters")
    assert store.facts() == []
