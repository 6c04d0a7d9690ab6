"""``assistant bench reliability``: bad input, a long conversation, and faults, in one table.

* **Properties**: every property-based test of the suite (hypothesis, over each parser that
  takes outside input) is run through pytest, and each one's examples are counted. A failing
  property is sorted by what went wrong: a *hang* (hypothesis' deadline or a time limit), a
  *bound exceeded* (the property's own assertion: a result or a one-line error within its
  bound), or a *crash* (any other exception escaped).
* **Faults** (:mod:`assistant.bench.faults`): ``--kills`` SIGKILLs each at random points of
  ``memory ingest`` and of fact updates, and a full disk, each followed by an integrity check.
* **Soak** (:mod:`assistant.bench.soak`): one conversation in ``--fast`` file mode for
  ``--soak-minutes``; growth of RSS, threads and open files after the first ten minutes (a
  fifth of a shorter soak), and latency drift.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from rich.console import Console
from rich.table import Table

from assistant.bench.common import ROOT, step
from assistant.config import Config

TESTS = ROOT / "tests"


@dataclass
class Target:
    """One property test: what was tried and what went wrong."""

    name: str
    examples: int = 0
    crashes: int = 0
    hangs: int = 0
    exceeded: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


HANGS = ("DeadlineExceeded", "TimeoutError", "Timeout")
"""Failures that mean an example took too long."""


class _Properties:
    """A pytest plugin: keeps only hypothesis tests, and records each one's outcome."""

    def __init__(self) -> None:
        self.targets: dict[str, Target] = {}

    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from hypothesis import is_hypothesis_test

        kept = [i for i in items if is_hypothesis_test(getattr(i, "obj", None))]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo) -> Iterator[None]:
        yield
        target = self.targets.setdefault(item.nodeid, Target(_name(item.nodeid)))
        if call.when == "call":
            target.seconds += call.duration
            if call.excinfo is not None:
                kind = call.excinfo.typename
                target.failures.append(f"{kind}: {str(call.excinfo.value).splitlines()[0][:120]}")
                if kind in HANGS:
                    target.hangs += 1
                elif kind == "AssertionError":
                    target.exceeded += 1
                else:
                    target.crashes += 1
        elif call.when == "teardown":
            counts = re.search(r"(\d+) passing, (\d+) failing",
                               getattr(item, "hypothesis_statistics", ""))
            target.examples += int(counts[1]) + int(counts[2]) if counts else 0


def _name(nodeid: str) -> str:
    """``tests/unit/test_text.py::test_clean_x`` → ``text: clean x``."""
    module, _, test = nodeid.partition("::")
    module = module.rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
    return f"{module}: {test.removeprefix('test_').replace('_', ' ')}"


def properties(console: Console) -> list[Target]:
    """Every property test of the suite, run once (slow real-model ones included)."""
    plugin = _Properties()
    step(console, "properties: every hypothesis test of the suite...")
    output = io.StringIO()  # pytest's own report; the table says it shorter
    with contextlib.redirect_stdout(output):
        pytest.main([str(TESTS), "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
                     "-o", "addopts="], plugins=[plugin])
    console.print("  pytest: " + (output.getvalue().strip().splitlines() or [""])[-1])
    return list(plugin.targets.values())


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    table = Table("target", "inputs tried", "crashes", "hangs", "bound exceeded", "s",
                  title="Reliability: property tests over every input parser (target: 0 / 0 / 0)")
    targets = properties(console)
    for t in targets:
        table.add_row(t.name, str(t.examples), str(t.crashes), str(t.hangs), str(t.exceeded),
                      f"{t.seconds:.1f}")
    table.add_row("[b]all", f"[b]{sum(t.examples for t in targets)}",
                  *(f"[b]{sum(getattr(t, k) for t in targets)}"
                    for k in ("crashes", "hangs", "exceeded")),
                  f"[b]{sum(t.seconds for t in targets):.0f}")
    console.print(table)
    for t in targets:
        for failure in t.failures:
            console.print(f"[red]{t.name}[/]: {failure}")

    if args.kills > 0:
        from assistant.bench.faults import fault_ingestion

        step(console, f"faults: {args.kills} kills each of ingestion and of fact updates, "
                      "a full disk...")
        rows = fault_ingestion(config, console, args.kills)
        faults = Table("target", "faults injected", "survived", "rebuilt (check --repair)",
                       "data lost",
                       title="Faults: each followed by an integrity check (target: all "
                             "survived, 0 lost)")
        for row in rows:
            faults.add_row(row.target, str(row.injected), str(row.survived), str(row.rebuilt),
                           str(row.lost))
        console.print(faults)
        for row in rows:
            for problem in row.problems:
                console.print(f"[red]{row.target}[/]: {problem}")

    if args.soak_minutes > 0:
        from assistant.bench.soak import describe, soak

        minutes = args.soak_minutes
        warm_s = min(600.0, minutes * 60 / 5)
        step(console, f"soak: {minutes:g} minutes of conversation in --fast file mode...")
        start = time.perf_counter()
        result = soak(config, minutes * 60, sample_s=min(60.0, minutes * 60 / 10),
                      progress=lambda s: console.print(
                          f"  {s.at_s / 60:5.1f} min: RSS {s.rss_mb:.0f} MB, {s.threads} "
                          f"threads, {s.files} files, {len(s.latencies_ms)} turns"))
        soaked = Table("measure", "result", "target",
                       title=f"Soak: {(time.perf_counter() - start) / 60:.0f} minutes, one "
                             "conversation (commands, questions, memory, timers, barge-ins)")
        for row in describe(result, warm_s):
            soaked.add_row(*row)
        console.print(soaked)
        for error in result.errors:
            console.print(f"[red]soak[/]: {error}")
    return 0
