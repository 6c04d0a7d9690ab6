"""What the benchmarks share: where the data lives, median / p95 table cells, progress lines."""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]
"""The source checkout the benchmarks run from."""
DATA = ROOT / "tests" / "data"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def median_p95(values: list[float], digits: int = 1) -> tuple[str, str]:
    """Median and p95 of ``values`` as strings ("-" when there are none)."""
    if not values:
        return "-", "-"
    return f"{statistics.median(values):.{digits}f}", f"{p95(values):.{digits}f}"


def step(console: Console, what: str) -> None:
    """Progress as a plain line. Not a spinner around timed work: its refresh thread takes
    the GIL from the threads being timed (~70 ms more voice-to-voice on an LLM question)."""
    console.print(what, style="dim")


def cell(values: list[float], digits: int = 1) -> str:
    """'median / p95' for one table cell."""
    return " / ".join(median_p95(values, digits))


def bfcl_dir() -> Path | None:
    """The Berkeley Function Calling Leaderboard's data (``bfcl-eval``), if installed."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"
