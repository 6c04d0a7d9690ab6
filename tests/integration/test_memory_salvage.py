"""assistant.memory.salvage: a store chromadb can no longer read (its write-ahead log
damaged, as a kill mid-write or a bad disk leaves it) is one line everywhere, and
``memory check --repair`` rebuilds it with every record still readable; a real chromadb and
the real embedding model throughout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.agent import Assistant
from assistant.config import Config, load_config
from assistant.memory import open_store
from tests.fixtures.damage import damage_table

pytestmark = pytest.mark.slow


def assistant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=180)


def damaged_store(config: Config, tmp_path: Path) -> Path:
    """A store with two facts and a two-chunk note, its chromadb log then damaged."""
    note = tmp_path / "boiler.md"
    note.write_text("# Boiler\n\nThe boiler service is every October. " * 40 +
                    "\n\n# Filter\n\nThe water filter is changed in spring. " * 40)
    with open_store(config) as store:
        store.add_fact("my bike is in the shed")
        store.add_fact("the spare key is under the blue pot")
    env_proc = assistant("memory", "ingest", str(note), env=_env(config))
    assert env_proc.returncode == 0, env_proc.stderr
    folder = config.memory.folder(config.paths.data)
    damage_table(folder / "chroma" / "chroma.sqlite3", "embeddings_queue")
    return folder


def _env(config: Config) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_MEMORY__PATH"] = str(config.memory.folder(config.paths.data))
    env["ASSISTANT_CONFIG"] = os.devnull
    return env


@pytest.fixture
def store_config(tmp_path: Path) -> Config:
    return load_config(overrides={"memory.path": str(tmp_path / "memory")}, env={}).config


def test_a_damaged_store_is_one_line_and_check_repair_rebuilds_it(
        store_config: Config, tmp_path: Path) -> None:
    folder = damaged_store(store_config, tmp_path)
    env = _env(store_config)
    broken = assistant("memory", "search", "bike", env=env)
    assert broken.returncode != 0 and "Traceback" not in broken.stderr, broken.stderr
    assert "damaged" in broken.stderr and "memory check --repair" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1, broken.stderr

    fixed = assistant("memory", "check", "--repair", env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "rebuilt: 2 facts and" in fixed.stdout and "0 problems" in fixed.stdout, fixed.stdout
    assert list(folder.glob("chroma.damaged-*")), "the damaged files are kept, not deleted"

    with open_store(store_config) as store:
        assert sorted(f.text for f in store.facts()) == [
            "my bike is in the shed", "the spare key is under the blue pot"]
        ((_, chunks),) = store.manifest().values()
        assert store.count("documents") == chunks >= 2
        assert store.search("where is my bike", 1)[0].record.text == "my bike is in the shed"
        assert "October" in store.search("when is the boiler serviced", 1)[0].record.text


def test_a_turn_with_a_damaged_store_answers_without_the_notes(
        store_config: Config, tmp_path: Path) -> None:
    damaged_store(store_config, tmp_path)
    assistant_ = Assistant(store_config, announce=lambda _text: None)
    try:
        result = assistant_.turn("what time is it")  # a command: the store is not needed
        assert result.kind == "command"
        asked = assistant_.turn("when is the boiler serviced according to my notes")
        assert asked.kind == "chat" and asked.text  # answered, from the model alone
        assert "damaged" in assistant_.memory_error
    finally:
        assistant_.close()


def test_the_fault_benchmark_rebuilds_a_damaged_store_and_goes_on(
        store_config: Config, tmp_path: Path) -> None:
    from rich.console import Console

    from assistant.bench.faults import _or_rebuild
    from assistant.memory import MemoryStore, embedding_model

    folder = damaged_store(store_config, tmp_path)
    model = embedding_model(store_config)

    def check() -> list[str]:
        with MemoryStore(folder, model) as store:
            return sorted(f.text for f in store.facts())

    problems: list[str] = []
    facts, rebuilt = _or_rebuild(check, folder, model, 7, problems, Console(quiet=True))
    assert rebuilt and facts == ["my bike is in the shed", "the spare key is under the blue pot"]
    assert problems and problems[0].startswith("after kill 7: memory: the store in")
    assert _or_rebuild(check, folder, model, 8, problems, Console(quiet=True))[1] is False
