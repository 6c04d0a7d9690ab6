"""``assistant bench llm``: time to first token and decode speed of our engine against raw
llama-cpp-python (``create_chat_completion``) on the same model, prompt and Llama instance,
interleaved, with the ratio; plus a warm turn that reuses the KV cache."""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from assistant import AssistantError
from assistant.agent import Assistant
from assistant.bench.common import cell
from assistant.config import Config
from assistant.llm import LLMEngine


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    return bench_llm(config, args.runs, console)


def bench_llm(config: Config, runs: int, console: Console, max_tokens: int = 64) -> int:
    assistant = Assistant(config)
    engine = assistant.engine
    if not isinstance(engine, LLMEngine):
        raise AssistantError("bench llm times the in-process engine: run it with "
                             "llm.backend = 'local' (bench tools compares it with a server)")
    llama = engine.llama
    messages = [assistant.system_message(),
                {"role": "user", "content": "Explain in three sentences why the sky is blue."}]
    samples: dict[str, dict[str, list[float]]] = {
        k: {"ttft": [], "tps": [], "tokens": []} for k in ("raw", "ours", "ours_warm")}

    def timed(stream: Any, key: str) -> None:
        start = time.perf_counter()
        stamps = []
        for piece in stream:
            text = piece if isinstance(piece, str) else piece["choices"][0]["delta"].get(
                "content", "")
            if text:
                stamps.append(time.perf_counter())
        if not stamps:
            return
        s = samples[key]
        s["ttft"].append((stamps[0] - start) * 1000)
        s["tokens"].append(len(stamps))
        if len(stamps) > 1:
            s["tps"].append((len(stamps) - 1) / (stamps[-1] - stamps[0]))

    with console.status("warming up..."):
        engine.complete(messages, max_tokens=4)
    for i in range(runs):
        console.log(f"run {i + 1}/{runs}")
        llama.reset()  # both sides prefill the whole prompt
        timed(llama.create_chat_completion(messages, max_tokens=max_tokens, temperature=0.0,
                                           seed=config.llm.seed, repeat_penalty=1.1,
                                           stream=True), "raw")
        llama.reset()
        timed(engine.stream(messages, max_tokens=max_tokens, temperature=0.0), "ours")
        # A later turn of the same conversation: everything before the new user message is
        # already in the KV cache (primed here by a turn that differs only in that message).
        history = [*messages, {"role": "assistant", "content": "Because of Rayleigh scattering."}]
        engine.complete([*history, {"role": "user", "content": "And at noon?"}], max_tokens=1)
        timed(engine.stream([*history, {"role": "user", "content": "And at sunset?"}],
                            max_tokens=max_tokens, temperature=0.0), "ours_warm")

    prompt_tokens = engine.count(messages)
    table = Table("metric", "raw llama-cpp-python", "ours", "ours / raw", "ours, warm turn",
                  title=f"LLM engine: {engine.model_path.name}, prompt {prompt_tokens} tokens, "
                        f"{max_tokens} new tokens, {runs} runs (median / p95)")
    for label, key in (("time to first token, ms", "ttft"), ("decode tokens/s", "tps")):
        raw, ours, warm = samples["raw"][key], samples["ours"][key], samples["ours_warm"][key]
        ratio = statistics.median(ours) / statistics.median(raw) if raw and ours else float("nan")
        table.add_row(label, cell(raw), cell(ours), f"{ratio:.3f}", cell(warm))
    console.print(table)
    console.print("Overhead target: ours within 10% of raw (ratio <= 1.10 for time to first "
                  "token, >= 0.90 for tokens/s).")
    return 0
