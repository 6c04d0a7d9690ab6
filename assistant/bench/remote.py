"""The remote backend's price (part of ``assistant bench tools``): the same prompts on the
in-process engine and on llama-cpp-python's OpenAI-compatible server (``llm.backend =
"openai"``) running the same GGUF with the same threads on 127.0.0.1, alternating which goes
first; time to first token and decode speed, median / p95, and the ratio server /
in-process. What the ratio shows is HTTP, the server's JSON and SSE per token, and its own
Python loop: the model's work is the same on both sides."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from assistant.bench.common import cell, step
from assistant.bench.model_server import ModelServer
from assistant.config import Config, LLMConfig
from assistant.llm import Engine, Generation, Message, build_engine
from assistant.models import resolve

QUESTIONS = ("Explain in three sentences why the sky is blue.",
             "What is the difference between weather and climate?",
             "Give me two tips for sleeping better.")
MAX_TOKENS = 64


def _sample(engine: Engine, messages: list[Message]) -> Generation:
    stats = Generation()
    for _ in engine.stream(messages, max_tokens=MAX_TOKENS, temperature=0.0, stats=stats):
        pass
    return stats


def _ratio(remote: list[float], local: list[float]) -> str:
    if not remote or not local or statistics.median(local) == 0:
        return "-"
    return f"{statistics.median(remote) / statistics.median(local):.2f}x"


def bench_remote(config: Config, console: Console, runs: int) -> Table:
    """The table: in-process against the server, ``runs`` rounds of :data:`QUESTIONS`."""
    # The bundled model on both sides, whatever the config's backend names.
    model = config.llm.model if config.llm.backend == "local" else LLMConfig().model
    path = resolve(model, "llm", config.paths.cache)
    threads = config.llm.n_threads or psutil.cpu_count(logical=False) or 2
    local_cfg = config.model_copy(deep=True)
    local_cfg.llm.backend, local_cfg.llm.model, local_cfg.llm.n_threads = "local", model, threads
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        server = ModelServer(path, Path(tmp) / "server.log", n_ctx=config.llm.n_ctx,
                             n_threads=threads)
        step(console, f"starting llama_cpp.server on {path.name} ({threads} threads)")
        server.start()
        try:
            remote_cfg = local_cfg.model_copy(deep=True)
            remote_cfg.llm.base_url = server.base_url
            remote_cfg.llm.backend = "openai"
            engines = {"local": build_engine(local_cfg), "remote": build_engine(remote_cfg)}
            system: Message = {"role": "system", "content": config.llm.system_prompt}
            for engine in engines.values():  # load, and cache the shared system prefix
                engine.complete([system, {"role": "user", "content": "Hello."}], max_tokens=4)
            samples: dict[str, list[Generation]] = {"local": [], "remote": []}
            for run in range(runs):
                step(console, f"run {run + 1}/{runs}")
                for i, question in enumerate(QUESTIONS):
                    order = ["local", "remote"] if (run + i) % 2 == 0 else ["remote", "local"]
                    for side in order:
                        messages = [system, {"role": "user", "content": question}]
                        samples[side].append(_sample(engines[side], messages))
        finally:
            server.stop()
    table = Table("measure", "in-process", "llama_cpp.server", "server / in-process",
                  title=f"LLM in-process vs OpenAI-compatible server: {path.name}, "
                  f"{runs} x {len(QUESTIONS)} questions, {MAX_TOKENS} new tokens "
                  "(median / p95)",
                  caption="Same GGUF, threads and prompts, on 127.0.0.1, alternating; the "
                  "system prefix cached on both sides. The server adds HTTP, JSON and SSE "
                  "per token.")
    for label, measure in (("time to first token, ms", lambda g: g.ttft_ms),
                           ("decode tokens/s", lambda g: g.tokens_per_s)):
        local = [measure(g) for g in samples["local"] if g.tokens > 1]
        remote = [measure(g) for g in samples["remote"] if g.tokens > 1]
        table.add_row(label, cell(local), cell(remote), _ratio(remote, local))
    return table
