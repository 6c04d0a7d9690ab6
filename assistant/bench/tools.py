"""``assistant bench tools``: what a tool costs when it lives in another program.

The same trivial function (echo its text) is called through the skill registry as an
in-process skill and as a tool of our fixture MCP server over stdio, alternating, ``--runs``
x 40 calls each; the difference is the MCP round trip (JSON-RPC over pipes, the SDK's
validation, our event-loop thread hand-off). Then the stdio server's cold start: spawn →
initialize → list_tools, ``--runs`` times. Then the same for the model: the in-process LLM
against an OpenAI-compatible server on the same GGUF (:mod:`assistant.bench.remote`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.bench.common import ROOT, median_p95, step
from assistant.bench.model_server import server_installed
from assistant.bench.remote import bench_remote
from assistant.config import Config, McpConfig, McpServerConfig
from assistant.skills import SkillContext, SkillRegistry, skill

CALLS_PER_RUN = 40


@skill(risk="safe", read_only=True)
def local_echo(text: str) -> str:
    """Repeat the given text back.

    Args:
        text: What to repeat.
    """
    return text


def _server() -> McpServerConfig:
    return McpServerConfig(command=sys.executable,
                           args=[str(ROOT / "tests" / "fixtures" / "mcp_server.py")],
                           trust="trusted", timeout_s=10)


def _calls(registry: SkillRegistry, ctx: SkillContext, n: int) -> dict[str, list[float]]:
    """ms per call of each echo, alternating so that both see the same machine load."""
    times: dict[str, list[float]] = {"local_echo": [], "bench_echo": []}
    for i in range(n):
        for name in ("local_echo", "bench_echo"):
            result = registry.call(name, {"text": f"call {i}"}, ctx)
            if not result.ok:
                raise RuntimeError(f"{name}: {result.result}")
            times[name].append(result.ms)
    return times


def _cold_starts(runs: int, data_dir: Path) -> list[float]:
    from assistant.mcp.client import connect

    times = []
    for _ in range(runs):
        conn = connect("cold", _server(), startup_timeout_s=30, log_dir=data_dir)
        start = time.perf_counter()
        conn.tools()
        times.append((time.perf_counter() - start) * 1000)
        conn.stop(wait=True)
    return times


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    from assistant.mcp.servers import add_servers

    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        data_dir = Path(tmp)
        registry = SkillRegistry(default_timeout_s=30)
        registry.add(local_echo.__skill__)
        add_servers(registry, McpConfig(servers={"bench": _server()}, startup_timeout_s=30),
                    data_dir)
        if "bench_echo" not in registry.skills:
            console.print(f"[red]the fixture MCP server did not start:[/] {registry.errors}")
            return 1
        ctx = SkillContext(data_dir=data_dir)
        step(console, "warming up both (the server starts on the first call)")
        _calls(registry, ctx, 5)
        step(console, f"{runs * CALLS_PER_RUN} calls each, alternating")
        times = _calls(registry, ctx, runs * CALLS_PER_RUN)
        step(console, f"{runs} cold starts of the stdio server")
        cold = _cold_starts(runs, data_dir)
    table = Table("measure", "median ms", "p95 ms", "n",
                  title="Tools: in-process skill vs MCP (stdio, our fixture server)",
                  caption="Through SkillRegistry.call (validation, a worker thread, the audit "
                  "log off); MCP adds JSON-RPC over pipes and our loop thread's hand-off.")
    for label, key in (("in-process skill call", "local_echo"),
                       ("MCP tool call (stdio)", "bench_echo")):
        table.add_row(label, *median_p95(times[key], 2), str(len(times[key])))
    overhead = statistics.median(times["bench_echo"]) - statistics.median(times["local_echo"])
    table.add_row("MCP overhead (difference of medians)", f"{overhead:.2f}", "", "")
    table.add_row("stdio cold start (spawn → initialize → list_tools)",
                  *median_p95(cold, 0), str(len(cold)))
    console.print(table)
    if not server_installed():
        step(console, "the remote model bench needs llama_cpp.server's deps (pip install "
             "-e '.[dev]'): skipped")
        return 0
    console.print(bench_remote(config, console, runs))
    return 0
