"""Faults the memory must survive: SIGKILL at random points of ``memory ingest`` and of fact
updates, and a full disk while writing.

Owns :func:`fault_ingestion` (``assistant bench reliability`` runs it with 100 kills per
target; the test suite with a few) and the child processes it kills (``python -m
assistant.bench.faults ingest|facts ...``: the real ingest and ``add_fact`` code, started on a
scratch store, never the user's). Each kill lands a seeded random delay after the child has
opened the store; the store is then opened here and checked: :func:`integrity` finds nothing
wrong, and nothing stored before is gone (files ingested earlier keep a complete version,
every acknowledged fact is there with its latest value, once). At the end a plain ingest must
bring the store to exactly what a clean ingest of the same files gives.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rich.console import Console

from assistant.bench.common import DATA, step
from assistant.config import Config
from assistant.memory.chunking import chunk_sections
from assistant.memory.embedder import Embedder
from assistant.memory.facts import claim_key
from assistant.memory.ingest import ingest
from assistant.memory.integrity import integrity, repair
from assistant.memory.readers import read_sections
from assistant.memory.records import Record, StoreDamaged
from assistant.memory.salvage import rebuild
from assistant.memory.store import MemoryStore
from assistant.models import resolve

CORPUS = DATA / "memory" / "corpus"
SUBJECTS = ("passport", "spare key", "bike pump", "tent", "winter coat", "toolbox",
            "umbrella", "phone charger")
"""Fact updates: "my tent is in box 17" replaces "my tent is in box 9" (same claim)."""
READY_TIMEOUT_S = 120.0
"""A child that has not opened the store by then is a failure, not a wait."""
T = TypeVar("T")
CHILD_TIMEOUT_S = 600.0
"""...and one that has not finished its ingest by then (it is killed: never a hang)."""


@dataclass(frozen=True)
class FaultRow:
    """One target's faults, as a row of ``assistant bench reliability``'s table."""

    target: str
    injected: int
    """Faults that hit a running process (a kill after it finished is not counted)."""
    survived: int
    """...followed by a store with no integrity problem and nothing lost."""
    lost: int
    """Files or facts stored before a fault and missing (or wrong) after it."""
    problems: tuple[str, ...] = ()
    """The first problems found (integrity lines, lost records), for the report."""
    rebuilt: int = 0
    """Kills after which chromadb could not read the store and ``memory check --repair``
    rebuilt it (not survived; what the rebuild could not read back counts as lost)."""


# ---------------------------------------------------------------- children


def _child_ingest(store: Path, model: Path, docs: Path, words: int, overlap: int) -> None:
    with MemoryStore(store, model) as opened:
        print("ready", flush=True)
        ingest(opened, [docs], chunk_words=words, overlap_words=overlap)
    print("done", flush=True)


def _child_facts(store: Path, model: Path, seed: int, first: int) -> None:
    rng = random.Random(seed)
    with MemoryStore(store, model) as opened:
        print("ready", flush=True)
        for value in range(first, first + 10_000):
            subject = rng.choice(SUBJECTS)
            opened.add_fact(f"my {subject} is in box {value}", source="cli")
            print(f"ok {subject}|{value}", flush=True)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "assistant.bench.faults", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _kill_after_ready(proc: subprocess.Popen[str], delay: float | None
                      ) -> tuple[bool, list[str], float]:
    """SIGKILL ``proc`` ``delay`` s after it says "ready" (None: let it finish); (whether it
    was still running when killed, every line it printed after "ready", seconds it ran
    after "ready")."""
    assert proc.stdout is not None
    try:
        readable, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
        first = proc.stdout.readline() if readable else ""
        if first.strip() != "ready":
            raise RuntimeError(f"fault child did not start (said {first.strip()!r})")
        ready = time.perf_counter()
        landed = False
        if delay is not None:
            time.sleep(delay)
            landed = proc.poll() is None
            if landed:
                os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=CHILD_TIMEOUT_S)
        return landed, rest.splitlines(), time.perf_counter() - ready
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- checks


def _expected(path: Path, config: Config) -> list[str]:
    return [c.text for c in chunk_sections(read_sections(path), config.memory.chunk_words,
                                           config.memory.chunk_overlap_words)]


def _stored_texts(store: MemoryStore) -> dict[str, list[str]]:
    texts: dict[str, list[tuple[int, str]]] = {}
    for row in store.export():
        if row["collection"] == "documents":
            texts.setdefault(row["source"], []).append((row["position"], row["text"]))
    return {path: [t for _, t in sorted(rows)] for path, rows in texts.items()}


def _manifest(store: MemoryStore) -> set[str]:
    return set(store.manifest())


def _unfindable(store: MemoryStore, rng: random.Random, n: int = 3) -> list[str]:
    """Problems of the vector index (which a kill could leave behind the stored rows): ``n``
    stored chunks, each searched for by its own text, must come back first."""
    rows = [row for row in store.export() if row["collection"] == "documents"]
    missing = []
    for row in rng.sample(rows, min(n, len(rows))):
        hits = store.search(row["text"], k=3, mode="dense", collections=("documents",))
        if row["id"] not in [h.record.id for h in hits]:
            missing.append(f"{row['id']}: stored, but a search for its own text misses it")
    return missing


# ---------------------------------------------------------------- ingestion


def _long_file(path: Path, words: int, rng: random.Random) -> None:
    """A file of corpus sentences in a new order: several write batches of chunks."""
    pool = [line for f in sorted(CORPUS.glob("*.md")) for line in f.read_text().splitlines()
            if len(line.split()) > 6 and not line.startswith("#")]
    out, count = [], 0
    while count < words:
        line = rng.choice(pool)
        out.append(line)
        count += len(line.split())
    path.write_text("# Long notes\n" + "\n\n".join(out) + "\n", encoding="utf-8")


def _mutate(docs: Path, stash: dict[str, str], rng: random.Random, round_no: int) -> None:
    """Change what the next ingest has to do: appended sentences (new versions), a file
    deleted, an earlier one put back."""
    files = sorted(docs.iterdir())
    for path in rng.sample(files, min(2, len(files))):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\nRound {round_no}: checked again on day {rng.randint(1, 28)}.\n")
    others = [p for p in files if p.name != "long_notes.md"]
    if others and rng.random() < 0.3:
        gone = rng.choice(others)
        stash[gone.name] = gone.read_text(encoding="utf-8")
        gone.unlink()
    if stash and rng.random() < 0.3:
        name = rng.choice(sorted(stash))
        (docs / name).write_text(stash.pop(name), encoding="utf-8")


def _ingest_kills(config: Config, console: Console, work: Path, model: Path, kills: int,
                  rng: random.Random, corpus_files: int, long_words: int) -> FaultRow:
    docs = work / "docs"
    docs.mkdir()
    for path in sorted(CORPUS.iterdir())[:corpus_files]:
        shutil.copy(path, docs / path.name)
    _long_file(docs / "long_notes.md", long_words, rng)
    store_dir = work / "ingest-store"
    words, overlap = config.memory.chunk_words, config.memory.chunk_overlap_words
    checker = Embedder(model)  # opens the store between kills without loading it again
    with MemoryStore(store_dir, model) as store:
        ingest(store, [docs], chunk_words=words, overlap_words=overlap)
    stash: dict[str, str] = {}
    args = ("ingest", str(store_dir), str(model), str(docs), str(words), str(overlap))
    _mutate(docs, stash, rng, 0)
    _, _, typical = _kill_after_ready(_spawn(*args), None)  # sets the range of the delays
    with MemoryStore(store_dir, checker) as store:
        before = _manifest(store)
    injected = survived = lost = rebuilt = 0
    problems: list[str] = []
    for round_no in range(1, 2 * kills + 1):
        if injected == kills:
            break
        _mutate(docs, stash, rng, round_no)
        landed, _, _ = _kill_after_ready(_spawn(*args), rng.uniform(0.0, 1.2 * typical))

        def check() -> tuple[list[str], dict[str, tuple[str, int]]]:
            with MemoryStore(store_dir, checker) as store:
                return integrity(store) + _unfindable(store, rng), _manifest(store)

        try:
            (found, now), again = _or_rebuild(check, store_dir, model, injected + landed,
                                              problems, console)
        except Exception as exc:  # broken beyond a rebuild: that ends this target
            return _broken("memory ingest: SIGKILL", injected + landed, survived, lost,
                           problems, exc, console, rebuilt)
        rebuilt += again
        # The manifest holds complete versions only: a file stays in it (old or new).
        gone = [path for path in before if Path(path).exists() and path not in now]
        injected += landed
        survived += landed and not found and not gone and not again
        lost += len(gone)
        problems += found + [f"{path}: ingested before the kill, gone after" for path in gone]
        before = now
        step(console, f"ingest kill {injected}/{kills}: {len(found)} problems")
    with MemoryStore(store_dir, model) as store:  # the next ingest puts everything right
        ingest(store, [docs], chunk_words=words, overlap_words=overlap)
        problems += integrity(store) + _unfindable(store, rng, 10)
        stored = _stored_texts(store)
        files = store.files()
    on_disk = sorted(str(p.resolve()) for p in docs.iterdir())
    wrong = [p for p in on_disk if stored.get(p) != _expected(Path(p), config)]
    wrong += [p for p in files if p not in on_disk]
    lost += len(wrong)
    problems += [f"{p}: not what a clean ingest stores" for p in wrong]
    return FaultRow("memory ingest: SIGKILL", injected, survived, lost, tuple(problems[:5]),
                    rebuilt)


def _or_rebuild(check: Callable[[], T], store_dir: Path, model: Path, after: int,
                problems: list[str], console: Console) -> tuple[T, bool]:
    """``check()`` of the store; if chromadb cannot read it, what ``memory check --repair``
    does (:func:`assistant.memory.salvage.rebuild`), then ``check()`` again. Returns the
    result and whether the store had to be rebuilt."""
    try:
        return check(), False
    except StoreDamaged as exc:
        salvaged = rebuild(store_dir, model)
        problems.append(f"after kill {after}: {str(exc).split(';')[0]}; rebuilt: "
                        f"{salvaged.count('memory')} facts, {salvaged.count('documents')} "
                        f"chunks read back, {salvaged.unreadable} rows unreadable")
        step(console, problems[-1])
        return check(), True


def _broken(target: str, injected: int, survived: int, lost: int, problems: list[str],
            exc: Exception, console: Console, rebuilt: int) -> FaultRow:
    """The row of a target whose store could not even be opened and read after a kill."""
    problems.append(f"after kill {injected}: the store cannot be read: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    step(console, problems[-1])
    return FaultRow(target, injected, survived, lost + 1, tuple(problems[:5]), rebuilt)


# ---------------------------------------------------------------- facts


def _fact_kills(console: Console, work: Path, model: Path, kills: int,
                rng: random.Random) -> FaultRow:
    store_dir = work / "facts-store"
    checker = Embedder(model)
    latest: dict[str, int] = {}
    injected = survived = lost = rebuilt = 0
    problems: list[str] = []
    for round_no in range(1, 2 * kills + 1):
        if injected == kills:
            break
        proc = _spawn("facts", str(store_dir), str(model), str(rng.randrange(1 << 30)),
                      str(round_no * 10_000))
        landed, said, _ = _kill_after_ready(proc, rng.uniform(0.0, 3.0))
        for line in said:
            if line.startswith("ok "):
                subject, _, value = line[3:].partition("|")
                latest[subject] = int(value)

        def check() -> tuple[list[str], list[Record]]:
            with MemoryStore(store_dir, checker) as store:
                found = integrity(store)
                facts = store.facts()
                if facts:  # the vector index has the latest fact too
                    newest = max(facts, key=lambda fact: fact.updated)
                    if newest.id not in [h.record.id for h in store.search(
                            newest.text, k=3, mode="dense", collections=("memory",))]:
                        found.append(f"{newest.id}: stored, but a search for it misses it")
                return found, facts

        try:
            (found, facts), again = _or_rebuild(check, store_dir, model, injected + landed,
                                                problems, console)
        except Exception as exc:  # broken beyond a rebuild: that ends this target
            return _broken("memory facts: SIGKILL", injected + landed, survived, lost,
                           problems, exc, console, rebuilt)
        rebuilt += again
        subjects = Counter((claim_key(f.text) or ("?",))[0] for f in facts)
        twice = [s for s, n in subjects.items() if n > 1]
        values = {(claim_key(f.text) or ("?",))[0]: int(f.text.rsplit(" ", 1)[-1])
                  for f in facts}
        gone = [s for s, v in latest.items() if values.get(f"my {s}", -1) < v]
        found += [f"my {s}: {subjects[s]} facts (one expected)" for s in twice]
        injected += landed
        survived += landed and not found and not gone and not again
        lost += len(gone)
        problems += found + [f"my {s}: the update to box {latest[s]} was lost" for s in gone]
        step(console, f"fact kill {injected}/{kills}: {len(found) + len(gone)} problems")
    return FaultRow("memory facts: SIGKILL", injected, survived, lost, tuple(problems[:5]),
                    rebuilt)


# ---------------------------------------------------------------- a full disk


def _full_disk(config: Config, console: Console, work: Path, model: Path) -> FaultRow:
    """``memory ingest`` and ``memory add`` (the real CLI) where no file may grow past what
    the store holds now (RLIMIT_FSIZE: writes fail with EFBIG, as on a full disk)."""
    store_dir = work / "full-store"  # a fresh one: no free pages that a write could reuse
    more = work / "more"
    more.mkdir()
    for n, path in enumerate(sorted(CORPUS.iterdir())):
        (more / f"copy{n}{path.suffix}").write_text(
            path.read_text(encoding="utf-8").replace(".", f" (copy {n}).", 3), encoding="utf-8")
    with MemoryStore(store_dir, model) as store:
        store.add_fact("my bike lock code is 4321", source="cli")
        ingest(store, sorted(CORPUS.iterdir())[:2], chunk_words=config.memory.chunk_words,
               overlap_words=config.memory.chunk_overlap_words)
        before = list(store.export())
    limit = max(p.stat().st_size for p in store_dir.rglob("*") if p.is_file()) + 16_384
    (work / "config.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_CONFIG": str(work / "config.toml"),
            "ASSISTANT_MEMORY__PATH": str(store_dir),
            "ASSISTANT_MEMORY__EMBEDDING_MODEL": str(model),
            "ASSISTANT_PATHS__DATA_DIR": str(work / "data")}

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    injected = survived = lost = 0
    problems: list[str] = []
    for args in (["memory", "ingest", str(more)], ["memory", "add", "my tent is in the loft"]):
        proc = subprocess.run([sys.executable, "-m", "assistant", *args], env=env,
                              preexec_fn=small_disk, capture_output=True, text=True,
                              timeout=600)
        lines = proc.stderr.strip().splitlines()
        if proc.returncode == 0:
            continue  # it fitted: no fault
        injected += 1
        one_line = len(lines) == 1 and "memory:" in lines[0]
        if not one_line:
            problems.append(f"{args[1]}: not a one-line error: {proc.stderr.strip()[-300:]}")
        with MemoryStore(store_dir, model) as store:
            repair(store)
            found = integrity(store)
            after = {(r["id"], r["text"]) for r in store.export()}
        gone = [r["id"] for r in before if (r["id"], r["text"]) not in after]
        survived += one_line and not found and not gone
        lost += len(gone)
        problems += found + [f"{rid}: stored before the full disk, gone after" for rid in gone]
        step(console, f"full disk during memory {args[1]}: {lines[-1] if lines else ''}")
    return FaultRow("memory: disk full", injected, survived, lost, tuple(problems[:5]))


def fault_ingestion(config: Config, console: Console, kills: int, *, seed: int = 0,
                    corpus_files: int = 40, long_words: int = 20_000) -> list[FaultRow]:
    """Rows for ``assistant bench reliability``: ``kills`` SIGKILLs at random points of
    ``memory ingest`` (of ``corpus_files`` files of the test corpus and one long file of
    ``long_words`` words), ``kills`` of fact updates, and a full disk during an ingest and
    a fact; each followed by the checks in the module docstring. Runs on a scratch store
    in a temporary folder with the configured embedding model and chunk sizes."""
    model = resolve(config.memory.embedding_model, "embedding", config.paths.cache)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="assistant-faults-") as tmp:
        work = Path(tmp)
        rows = [_ingest_kills(config, console, work, model, kills, rng, corpus_files,
                              long_words),
                _fact_kills(console, work, model, kills, rng)]
        rows.append(_full_disk(config, console, work, model))
    return rows


def main(argv: list[str]) -> None:
    """A fault child: ``ingest STORE MODEL DOCS WORDS OVERLAP`` or ``facts STORE MODEL SEED
    FIRST``."""
    with contextlib.suppress(BrokenPipeError):
        if argv[0] == "ingest":
            _child_ingest(Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4]),
                          int(argv[5]))
        elif argv[0] == "facts":
            _child_facts(Path(argv[1]), Path(argv[2]), int(argv[3]), int(argv[4]))


if __name__ == "__main__":
    main(sys.argv[1:])
