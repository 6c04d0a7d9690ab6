"""``assistant bench ...``: the benchmarks. They live beside the product, not in it: nothing
in the product imports this package and the wheel leaves it out (it needs a source checkout:
its data is under ``tests/``).

One module per benchmark, each with ``run(config, args, console) -> int`` (``args`` are the
``assistant bench`` command line's):

* :mod:`assistant.bench.llm`: our LLM engine against raw llama-cpp-python;
* :mod:`assistant.bench.skills`: skill selection (fast path, tool gate, LLM) and BFCL;
* :mod:`assistant.bench.voice`: the voice loop's latencies, barge-in, ASR and TTS;
* :mod:`assistant.bench.memory`: retrieval quality, speed at scale, a retrieving turn's cost.
* :mod:`assistant.bench.trust`: does the assistant do exactly what was asked, and nothing else.
* :mod:`assistant.bench.tools`: an MCP tool call against the same in-process skill, and an
  MCP server's cold start.
* :mod:`assistant.bench.reliability`: the property tests' inputs and failures, and a soak.

A new benchmark is a module here with that ``run``, and its name in ``assistant.cli.BENCHMARKS``.
Helpers they share are in :mod:`assistant.bench.common`.
"""

from __future__ import annotations

import argparse
import importlib

from rich.console import Console

from assistant.config import Config


def run(what: str, config: Config, args: argparse.Namespace, console: Console) -> int:
    """Run the benchmark module named ``what``."""
    return importlib.import_module(f"assistant.bench.{what}").run(config, args, console)
