"""The text front-end: an interactive REPL and a one-shot mode for scripts.

Text mode never imports an audio library, so it runs on machines with no sound hardware.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console

from assistant import AssistantError
from assistant.agent import Assistant, TurnResult
from assistant.config import Config
from assistant.jsonout import json_stdout

_QUIT = {"/quit", "/exit", "quit", "exit"}


def run_once(config: Config, text: str, *, as_json: bool, assume_yes: bool = False) -> int:
    """Answer ``text`` and exit. With ``as_json`` stdout carries exactly one JSON object
    (what plugins and skills print goes to stderr)."""
    if as_json:
        with json_stdout() as emit:
            assistant = _once_assistant(config, assume_yes)
            try:
                emit(assistant.turn(text).as_dict())
            finally:
                assistant.close()
    else:
        assistant = _once_assistant(config, assume_yes)
        try:
            assistant.turn(text, on_text=lambda piece: print(piece, end="", flush=True))
            print()
        finally:
            assistant.close()
    _report_plugin_errors(assistant, Console(stderr=True))
    return 0


def _once_assistant(config: Config, assume_yes: bool) -> Assistant:
    err = Console(stderr=True)
    return Assistant(config, announce=lambda msg: err.print(msg),
                     confirm=(lambda _q: True) if assume_yes else None)


def run_json_lines(config: Config) -> int:
    """One conversation for scripts: a message per line of stdin, a JSON object per line of
    stdout (the ``--once --json`` object), in order, flushed as each turn ends. A question
    the assistant asks ("A timer for how long?", "Clear your list?") is answered by the next
    line, as in speech. Timers and reminders that fire go to stderr."""
    err = Console(stderr=True)
    with json_stdout() as emit:  # what plugins and skills print goes to stderr
        assistant = Assistant(config, announce=lambda msg: err.print(msg))
        try:
            for line in sys.stdin:
                text = line.strip()
                if text:
                    emit(assistant.turn(text).as_dict())
        finally:
            assistant.close()
    _report_plugin_errors(assistant, err)
    return 0


def _report_plugin_errors(assistant: Assistant, console: Console) -> None:
    for problem in assistant.registry.errors:
        console.print(f"[yellow]skill skipped:[/] {problem}", highlight=False)
    if assistant.memory_error:
        console.print(f"[yellow]memory off:[/] {assistant.memory_error}", highlight=False)


def _setup_readline(config: Config) -> None:
    try:
        import readline
    except ImportError:  # not on every platform; line editing is a nicety
        return
    history = config.paths.data / "chat_history"
    history.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)
    atexit.register(_save_history, readline, history)


def _save_history(readline: Any, path: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(path)


def _warm_up(assistant: Assistant, console: Console) -> None:
    try:
        assistant.warm_up()
    except AssistantError as exc:  # commands still work by the fast path
        console.print(f"[yellow]LLM unavailable:[/] {exc}", highlight=False)


def _footer(result: TurnResult) -> str:
    m = result.metrics
    tools = ", ".join(f"{c.name}({json.dumps(c.arguments)})" + ("" if c.ok else " failed")
                      for c in result.tool_calls)
    parts = [result.kind if result.kind != "chat" else m.path, f"{m.total_ms:.0f} ms"]
    if m.path == "llm":
        parts += [f"first text {m.ttft_ms:.0f} ms", f"{m.tokens_per_s:.0f} tok/s",
                  f"cache {m.cached_tokens}/{m.prompt_tokens}"]
    if tools:
        parts.append(tools)
    if result.sources:
        parts.append(f"memory: {', '.join(result.sources)} ({m.retrieval_ms:.0f} ms)")
    return " · ".join(parts)


def run_repl(config: Config) -> int:
    console = Console()
    _setup_readline(config)
    # A call that needs a yes is asked as the reply, and the next line answers it, as in
    # speech ("Clear your shopping list (3 items: ...)?" → "yes").
    assistant = Assistant(config,
                          announce=lambda msg: console.print(f"\n[bold magenta]⏰ {msg}[/]"))
    _report_plugin_errors(assistant, console)
    threading.Thread(target=_warm_up, args=(assistant, console), daemon=True).start()
    console.print("[bold]Offline assistant[/] — type a message; /quit to leave. "
                  "Try: 'what can you do', 'set a timer for five minutes', "
                  "'what's fifteen percent of eighty', 'remember that my bike is in the shed'.")
    try:
        _repl_loop(assistant, console)
    finally:
        assistant.close()
    return 0


def _repl_loop(assistant: Assistant, console: Console) -> None:
    memory_reported = False
    while True:
        try:
            text = input("you> ")
        except EOFError:
            console.print()
            return
        if text.strip().lower() in _QUIT:
            return
        if not text.strip():
            continue
        sys.stdout.write("assistant> ")
        try:
            result = assistant.turn(text, on_text=lambda p: (sys.stdout.write(p),
                                                             sys.stdout.flush()))
        except KeyboardInterrupt:
            assistant.cancel.set()
            console.print(" [dim](interrupted)[/]")
            continue
        sys.stdout.write("\n")
        console.print(f"[dim]{_footer(result)}[/]", highlight=False)
        if assistant.memory_error and not memory_reported:
            console.print(f"[yellow]memory off:[/] {assistant.memory_error}", highlight=False)
            memory_reported = True
