"""The memory store on the real embedding model and a real chromadb: facts, ingestion,
search modes, the embedding cache, no network, the single-process lock, and a SIGKILL in the
middle of an ingest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Config
from assistant.memory import MemoryStore, open_store
from assistant.memory.chunking import chunk_sections
from assistant.memory.embedder import Embedder, EmbeddingCache
from assistant.memory.ingest import ingest
from assistant.memory.readers import read_sections
from assistant.models import resolve
from tests.fixtures.peek import count_rows, kill_when

pytestmark = pytest.mark.slow
MEMORY_DATA = Path(__file__).resolve().parents[1] / "data" / "memory"
CORPUS = MEMORY_DATA / "corpus"
TRAILER_QUESTION = "what pressure should the boat trailer tyres be"


def assistant(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def copy_corpus(dest: Path, *names: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, dest / name)
    return dest


def store_folder(config: Config) -> Path:
    return config.memory.folder(config.paths.data)


def ingest_with(store: MemoryStore, config: Config, *paths: Path) -> Any:
    return ingest(store, list(paths), chunk_words=config.memory.chunk_words,
                  overlap_words=config.memory.chunk_overlap_words)


def expected_chunks(path: Path, config: Config) -> int:
    return len(chunk_sections(read_sections(path), config.memory.chunk_words,
                              config.memory.chunk_overlap_words))


def names(paths: list[str]) -> list[str]:
    return sorted(Path(p).name for p in paths)


def document_rows(store: MemoryStore) -> list[dict[str, Any]]:
    return [row for row in store.export() if row["collection"] == "documents"]


# ---------------------------------------------------------------- facts


def test_fact_is_found_and_survives_close_and_reopen(config: Config) -> None:
    with open_store(config) as store:
        record, replaced = store.add_fact("  my bike lock   code is 4321 ", source="cli")
        assert replaced is None
        assert record.id.startswith("m-") and record.text == "my bike lock code is 4321"
        hits = store.search("what is the code of my bike lock")
        assert hits and hits[0].record.id == record.id
        assert hits[0].record.collection == "memory" and hits[0].similarity > 0.5
    assert not (store_folder(config) / "lock.pid").exists()

    with open_store(config) as store:
        facts = store.facts()
        assert [(f.id, f.text, f.source) for f in facts] == [
            (record.id, "my bike lock code is 4321", "cli")]
        assert facts[0].created == pytest.approx(record.created)
        hits = store.search("bike lock code", k=3)
        assert hits[0].record.id == record.id and "4321" in hits[0].record.text
        assert store.stats()["facts"] == 1


def test_contradicting_fact_updates_the_old_one(config: Config) -> None:
    with open_store(config) as store:
        red, replaced = store.add_fact("my car is red")
        assert replaced is None
        blue, replaced = store.add_fact("my car is now blue")
        assert replaced is not None and replaced.id == red.id and replaced.text == "my car is red"
        assert blue.id == red.id

        [fact] = store.facts()
        assert fact.id == red.id and fact.text == "my car is now blue"
        assert fact.created == pytest.approx(red.created)
        assert fact.updated > fact.created

        level, replaced = store.add_fact("my car is parked on level 3")
        assert replaced is None and level.id != red.id
        assert sorted(f.text for f in store.facts()) == ["my car is now blue",
                                                         "my car is parked on level 3"]

        again, replaced = store.add_fact("my car is parked on level 3")
        assert replaced is not None and again.id == level.id == replaced.id
        assert store.count("memory") == 2
        assert [f.text for f in store.facts()] == ["my car is now blue",
                                                   "my car is parked on level 3"]
        assert not any("red" in row["text"] for row in store.export())
        assert store.search("what colour is my car", k=1)[0].record.id == red.id


# ---------------------------------------------------------------- ingestion


def test_ingest_skips_unchanged_updates_changed_and_removes_deleted(config: Config,
                                                                    tmp_path: Path) -> None:
    docs = copy_corpus(tmp_path / "docs", "bike_log.md", "recipe_focaccia.txt", "cat_care.html")
    with open_store(config) as store:
        first = ingest_with(store, config, docs)
        assert names(first.added) == ["bike_log.md", "cat_care.html", "recipe_focaccia.txt"]
        assert first.updated == first.unchanged == first.removed == first.failed == []
        assert first.chunks == store.count("documents") >= 3
        assert first.chunks == sum(expected_chunks(docs / n, config) for n in names(first.added))
        assert store.files() == sorted(str(p.resolve()) for p in docs.iterdir())
        computed = store.embedder.computed
        assert computed == first.chunks

        second = ingest_with(store, config, docs)
        assert names(second.unchanged) == names(first.added)
        assert second.added == second.updated == second.removed == second.failed == []
        assert second.chunks == 0
        assert store.embedder.computed == computed
        assert store.count("documents") == first.chunks

        with (docs / "bike_log.md").open("a", encoding="utf-8") as fh:
            fh.write("\nThe spare inner tubes live in the orange crate behind the chest freezer.\n")
        third = ingest_with(store, config, docs)
        assert names(third.updated) == ["bike_log.md"]
        assert names(third.unchanged) == ["cat_care.html", "recipe_focaccia.txt"]
        assert third.added == third.removed == third.failed == []
        # Only the chunk(s) holding the new sentence are embedded; the rest come from the cache.
        assert 1 <= store.embedder.computed - computed < third.chunks
        hits = store.search("where are the spare inner tubes kept", k=3)
        assert "orange crate" in hits[0].record.text
        assert hits[0].record.source == str((docs / "bike_log.md").resolve())
        texts = " ".join(row["text"] for row in document_rows(store))
        assert "Doughbert" in texts and "Meadowbank Cat Clinic" in texts
        assert texts.count("orange crate") >= 1

        cat = str((docs / "cat_care.html").resolve())
        (docs / "cat_care.html").unlink()
        fourth = ingest_with(store, config, docs)
        assert fourth.removed == [cat]
        assert names(fourth.unchanged) == ["bike_log.md", "recipe_focaccia.txt"]
        assert cat not in store.files() and len(store.files()) == 2
        rows = document_rows(store)
        assert rows and all(row["source"] != cat for row in rows)
        assert "Meadowbank" not in " ".join(row["text"] for row in rows)
        assert all(h.record.source != cat
                   for h in store.search("which vet clinic treats Pepper the cat", k=10))
        assert store.count("documents") == sum(
            expected_chunks(docs / n, config) for n in ("bike_log.md", "recipe_focaccia.txt"))


def test_unreadable_files_are_reported_and_the_rest_is_ingested(config: Config,
                                                                tmp_path: Path) -> None:
    docs = copy_corpus(tmp_path / "docs", "recipe_lemon_drizzle.md", "printer_setup.txt")
    (docs / "firmware_dump.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (docs / "scanned_receipt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    with open_store(config) as store:
        report = ingest_with(store, config, docs)
        failed = dict(report.failed)
        assert set(failed) == {str((docs / "firmware_dump.txt").resolve()),
                               str((docs / "scanned_receipt.pdf").resolve())}
        for reason in failed.values():
            assert reason.strip() and "\n" not in reason and "Traceback" not in reason
        assert "binary" in failed[str((docs / "firmware_dump.txt").resolve())]
        assert "PDF" in failed[str((docs / "scanned_receipt.pdf").resolve())]
        assert names(report.added) == ["printer_setup.txt", "recipe_lemon_drizzle.md"]
        assert store.files() == sorted(report.added)
        assert "Marguerite" in " ".join(row["text"] for row in document_rows(store))

        # A file that was ingested and then became unreadable keeps what was stored.
        printer = str((docs / "printer_setup.txt").resolve())
        before = [row for row in document_rows(store) if row["source"] == printer]
        assert before
        (docs / "printer_setup.txt").write_bytes(b"\x00\x00garbled\x00" * 50)
        again = ingest_with(store, config, docs)
        assert printer in dict(again.failed)
        assert again.removed == []
        after = [row for row in document_rows(store) if row["source"] == printer]
        assert [r["text"] for r in after] == [r["text"] for r in before]


def test_copied_file_reuses_cached_embeddings(config: Config, tmp_path: Path) -> None:
    docs = copy_corpus(tmp_path / "docs", "garden_notes.md", "running_log.md")
    with open_store(config) as store:
        first = ingest_with(store, config, docs)
        assert store.embedder.computed == first.chunks > 0

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "garden_copy.md").write_bytes((docs / "garden_notes.md").read_bytes())
    with open_store(config) as store:  # a new process would start with a new embedder too
        report = ingest_with(store, config, elsewhere / "garden_copy.md")
        assert names(report.added) == ["garden_copy.md"]
        assert report.chunks == expected_chunks(docs / "garden_notes.md", config)
        assert store.embedder.computed == 0
        assert store.count("documents") == first.chunks + report.chunks
        rows = document_rows(store)
        original = [r["text"] for r in rows if r["source"].endswith("garden_notes.md")]
        copied = [r["text"] for r in rows if r["source"].endswith("garden_copy.md")]
        assert copied == original


def test_writes_do_not_load_the_model_again(config: Config, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    docs = copy_corpus(tmp_path / "docs", "chess_club_notes.md")
    loads: list[str] = []
    original = Embedder.__init__

    def counting(self: Embedder, *args: Any, **kwargs: Any) -> None:
        loads.append(str(args[0] if args else kwargs.get("model_path")))
        original(self, *args, **kwargs)

    with open_store(config) as store:
        monkeypatch.setattr(Embedder, "__init__", counting)
        store.add_fact("my chess club meets on thursday")
        ingest_with(store, config, docs)
        store.search("when does the chess club meet")
    assert loads == []


# ---------------------------------------------------------------- search


def test_every_search_mode_puts_the_pdf_answer_first(config: Config, tmp_path: Path) -> None:
    docs = copy_corpus(tmp_path / "docs", "bike_log.md", "car_maintenance_log.md")
    shutil.copy(MEMORY_DATA / "sample.pdf", docs / "boat_trailer.pdf")
    with open_store(config) as store:
        report = ingest_with(store, config, docs)
        assert len(report.added) == 3 and not report.failed
        pdf = str((docs / "boat_trailer.pdf").resolve())
        for mode in ("dense", "bm25", "hybrid"):
            hits = store.search(TRAILER_QUESTION, k=3, mode=mode)
            assert hits, mode
            top = hits[0]
            assert top.record.source == pdf, (mode, [h.as_dict() for h in hits])
            assert "65 psi" in top.record.text and top.record.heading == "page 1", mode
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            for hit in hits:
                d = hit.as_dict()
                assert set(d) == {"id", "text", "source", "score"}
                assert isinstance(d["score"], float)
                assert d["id"] == hit.record.id and d["text"] == hit.record.text
            json.dumps([h.as_dict() for h in hits])


# ---------------------------------------------------------------- no network

GUARDED_FLOW = r"""
import socket, sys, time
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:200])
    raise OSError("network disabled by test")
real_getaddrinfo = socket.getaddrinfo
def lookup(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1", ""):
        attempts.append("getaddrinfo " + repr(host))
        raise OSError("network disabled by test")
    return real_getaddrinfo(host, *args, **kwargs)
socket.socket.connect = lambda self, *a, **k: refuse(*a)
socket.socket.connect_ex = lambda self, *a, **k: refuse(*a)
socket.create_connection = refuse
socket.getaddrinfo = lookup

import chromadb  # import-time telemetry would show up here
from pathlib import Path
from assistant.config import load_config
from assistant.memory import open_store
from assistant.memory.ingest import ingest

tmp, doc = Path(sys.argv[1]), Path(sys.argv[2])
(tmp / "config.toml").write_text("")
config = load_config(path=tmp / "config.toml", overrides={"paths.data_dir": str(tmp / "data")},
                     env={}).config
with open_store(config) as store:
    report = ingest(store, [doc])
    assert report.added and not report.failed, report
    store.add_fact("my bike lock code is 4321")
    assert store.search("bike lock code")[0].record.text == "my bike lock code is 4321"
time.sleep(1.0)  # let any background sender thread try
if attempts:
    print("network attempts:", attempts, file=sys.stderr)
    sys.exit(1)
print("ok")
"""


def test_no_network_connection_in_process(config: Config, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", lambda self, *a, **k: refuse(*a))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, *a, **k: refuse(*a))
    monkeypatch.setattr(socket, "create_connection", refuse)

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "wifi.md").write_text("# Wifi\n\nThe wifi network is called Larkspur and the "
                                  "router sits behind the television.\n")
    with open_store(config) as store:
        report = ingest_with(store, config, docs)
        assert names(report.added) == ["wifi.md"]
        store.add_fact("my bike lock code is 4321")
        assert store.search("bike lock code")[0].record.text == "my bike lock code is 4321"
        assert store.search("wifi network", k=1)[0].record.collection == "documents"
    assert attempts == []


def test_no_network_connection_from_a_fresh_interpreter(tmp_path: Path,
                                                        cli_env: dict[str, str]) -> None:
    doc = tmp_path / "dog.md"
    doc.write_text("# Dog\n\nBiscuit gets two scoops of kibble at 7 am and a walk at noon.\n")
    work = tmp_path / "guarded"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-c", GUARDED_FLOW, str(work), str(doc)],
                          capture_output=True, text=True, env=cli_env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


# ---------------------------------------------------------------- one process at a time


def test_second_process_is_refused_while_the_store_is_open(config: Config,
                                                           cli_env: dict[str, str]) -> None:
    assert cli_env["ASSISTANT_PATHS__DATA_DIR"] == str(config.paths.data)
    with open_store(config) as store:
        store.add_fact("my bike lock code is 4321")
        busy = assistant("memory", "stats", "--json", env=cli_env)
        assert busy.returncode == 2, busy.stdout + busy.stderr
        lines = busy.stderr.strip().splitlines()
        assert len(lines) == 1, busy.stderr
        assert "in use by another assistant process" in lines[0]
        assert f"pid {os.getpid()}" in lines[0]
        assert busy.stdout.strip() == ""
        assert store.count("memory") == 1  # still usable here
    free = assistant("memory", "stats", "--json", env=cli_env)
    assert free.returncode == 0, free.stderr
    stats = json.loads(free.stdout)
    assert stats["facts"] == 1 and stats["path"] == str(store_folder(config))


# ---------------------------------------------------------------- SIGKILL mid-ingest

KILL_FILES = ("aquarium_care.md", "bakery_faq.md", "beekeeping_notes.md", "bike_log.md",
              "birthday_party_plan.md", "boiler_and_heating.txt", "book_notes_tidewater.md",
              "budget_household_2024.md", "camping_trip_plan.html", "car_maintenance_log.md",
              "cat_care.html", "chess_club_notes.md")


def test_sigkill_during_ingest_loses_at_most_the_file_in_flight(
        config: Config, cli_env: dict[str, str], tmp_path: Path) -> None:
    docs = copy_corpus(tmp_path / "docs", *KILL_FILES)
    all_paths = sorted(str(p.resolve()) for p in docs.iterdir())
    folder = store_folder(config)
    log = (tmp_path / "ingest.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "memory", "ingest", str(docs)],
                            env=cli_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        kill_when(proc, lambda: count_rows(folder / "index.sqlite", "files") >= 3, 180)
    finally:
        log.close()
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, (tmp_path / "ingest.log").read_text()[-2000:]

    with open_store(config) as store:  # the kernel released the dead process's lock
        done = store.files()
        assert set(done) <= set(all_paths)
        if killed:
            assert done, "killed before any file was finished"
        else:
            assert done == all_paths
        rows = document_rows(store)
        for path in done:  # what was finished before the kill is intact
            positions = sorted(r["position"] for r in rows if r["source"] == path)
            assert positions == list(range(expected_chunks(Path(path), config))), path
        hits = store.search("how often are the bees inspected", k=3)
        assert hits and all(h.record.text for h in hits)

        report = ingest_with(store, config, docs)
        assert sorted(report.unchanged) == done
        assert sorted(report.added) == sorted(set(all_paths) - set(done))
        assert report.updated == report.removed == report.failed == []
        assert store.files() == all_paths
        resumed = sorted((r["source"], r["position"], r["text"]) for r in document_rows(store))
        assert store.count("documents") == len(resumed)
    keys = [(source, position) for source, position, _ in resumed]
    assert len(keys) == len(set(keys))  # no chunk stored twice

    # The same folder ingested cleanly into another store (sharing only the vector cache).
    model = resolve(config.memory.embedding_model, "embedding", config.paths.cache)
    cache = EmbeddingCache(folder / "index.sqlite")
    try:
        with MemoryStore(tmp_path / "clean", Embedder(model, cache=cache)) as clean:
            clean_report = ingest_with(clean, config, docs)
            assert sorted(clean_report.added) == all_paths
            fresh = sorted((r["source"], r["position"], r["text"]) for r in document_rows(clean))
            assert clean.count("documents") == len(fresh)
    finally:
        cache.close()
    assert len(resumed) == len(fresh) == sum(expected_chunks(Path(p), config) for p in all_paths)
    assert resumed == fresh
