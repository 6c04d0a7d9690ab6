"""The ``assistant`` command: argument parsing and dispatch, nothing else.

Heavy modules (llama.cpp, the benchmarks) are imported inside the subcommands that need them,
so ``--help``, ``config`` and ``skills`` start instantly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant import AssistantError, __version__, heap
from assistant.config import LoadedConfig, describe, load_config
from assistant.voice.events import EVENT_TYPES

console = Console()
err_console = Console(stderr=True)


def _cmd_chat(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.chat import run_json_lines, run_once, run_repl

    if args.once is not None:
        return run_once(loaded.config, args.once, as_json=args.json, assume_yes=args.yes)
    if args.json:
        return run_json_lines(loaded.config)
    return run_repl(loaded.config)


def _cmd_skills_list(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.skills import build_registry

    cfg = loaded.config
    registry = build_registry(cfg.skills, cfg.paths.data, cfg.mcp)
    table = Table("skill", "risk", "arguments", "description", "from", title="Skills")
    for s in registry.skills.values():
        params = s.parameters.get("properties", {})
        table.add_row(s.name, s.risk, ", ".join(params) or "-", s.description, s.source)
    console.print(table)
    for problem in registry.errors:
        err_console.print(f"[yellow]skipped:[/] {problem}")
    return 0


def _cmd_models_list(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.models import load_catalog, locate

    cache = loaded.config.paths.cache
    table = Table("name", "role", "tier", "MB", "source", "status", "description",
                  title=f"Model catalogue (cache: {cache})")
    for spec in load_catalog().values():
        where = locate(spec, cache)
        status = "[green]ready[/]" if where else "[dim]not downloaded[/]"
        source = spec.package if spec.source == "pypi" else f"hf:{spec.repo}"
        table.add_row(spec.name, spec.role, spec.tier, str(spec.size_mb), source, status,
                      spec.description)
    console.print(table)
    return 0


def _cmd_models_fetch(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.models import ModelError, fetch, load_catalog

    catalog = load_catalog()
    names = list(args.names)
    if args.defaults:
        names += [n for n, s in catalog.items() if s.tier == "default"]
    if not names:
        raise AssistantError("name a model to fetch (see `assistant models list`) or --defaults")
    for name in names:
        spec = catalog.get(name)
        if spec is None:
            raise ModelError(f"unknown model '{name}'; see `assistant models list`")
        with console.status(f"fetching {name} ({spec.size_mb} MB)..."):
            path = fetch(spec, loaded.config.paths.cache)
        console.print(f"[green]ready[/] {name}: {path}")
    return 0


def _cmd_models_verify(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.models import load_catalog, locate, verify

    catalog = load_catalog()
    cache = loaded.config.paths.cache
    names = args.names or [n for n, s in catalog.items() if locate(s, cache)]
    bad = 0
    for name in names:
        if name not in catalog:
            raise AssistantError(f"unknown model '{name}'; see `assistant models list`")
        with console.status(f"checking {name}..."):
            problems = verify(catalog[name], cache)
        bad += bool(problems)
        console.print(f"[red]FAIL[/] {name}: " + "; ".join(problems) if problems
                      else f"[green]ok[/] {name}")
    return 1 if bad else 0


def _cmd_config_show(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    exists = "" if loaded.path.exists() else " (not present: all defaults)"
    table = Table("key", "value", "source", "meaning", title=f"Config file: {loaded.path}{exists}")
    for key, value, source, description in describe(loaded):
        table.add_row(key, repr(value), source, description)
    console.print(table)
    console.print("Override any key with ASSISTANT_<SECTION>__<KEY>, "
                  "e.g. ASSISTANT_LLM__N_THREADS=4")
    return 0


def _cmd_voice(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.speech.audio import AudioError
    from assistant.voice.app import run_voice

    try:
        return run_voice(loaded.config, input_path=args.input, output_path=args.output,
                         events_path=args.events, fast=args.fast, console=console)
    except AudioError as exc:
        if args.input:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 3


def _cmd_transcribe(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.voice.app import transcribe_file

    return transcribe_file(loaded.config, args.file, args.json)


def _cmd_say(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.voice.app import say_text

    return say_text(loaded.config, args.text, args.output)


def _cmd_serve(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    import asyncio
    import logging

    from assistant.serve.server import serve

    overrides = {f"serve.{key}": value for key, value in
                 (("host", args.host), ("port", args.port), ("zeroconf", args.zeroconf or None))
                 if value is not None}
    config = load_config(args.config, overrides=overrides).config
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def ready(host: str, port: int) -> None:
        err_console.print(f"serving Wyoming on {host}:{port} (speech to text, text to speech, "
                          "conversation); models load in the background. Ctrl-C stops.")

    asyncio.run(serve(config, on_ready=ready))
    return 0


def _cmd_satellite(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    import socket

    from assistant.satellite.app import run_satellite

    return run_satellite(loaded.config, hub=args.hub, room=args.name or socket.gethostname(),
                         input_path=args.input, output_path=args.output,
                         events_path=args.events, fast=args.fast, console=console)


def _cmd_skills_approve(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.mcp.cli import approve

    return approve(loaded.config, args.name, console)


def _cmd_mcp_list(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.mcp.cli import list_servers

    return list_servers(loaded.config, console)


def _cmd_mcp_serve(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    if args.http:
        from assistant.mcp.http import run_http

        return run_http(loaded.config, args.port)
    from assistant.mcp.server import run_stdio

    return run_stdio(loaded.config)


def _cmd_doctor(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.doctor import run_doctor

    return run_doctor(loaded, console)


def _cmd_memory(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from assistant.memory.cli import run

    return run(args, loaded.config, console)


BENCHMARKS = ("llm", "skills", "voice", "memory", "trust", "serve", "tools", "reliability")
"""``assistant bench`` choices, one module of :mod:`assistant.bench` each."""


def _cmd_bench(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    try:
        from assistant import bench
    except ModuleNotFoundError as exc:
        if exc.name != "assistant.bench":
            raise
        raise AssistantError("the benchmarks run from a source checkout; this installation "
                             "has none") from None
    return bench.run(args.what, loaded.config, args, console)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="An offline, on-device voice assistant. Nothing leaves this machine.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: XDG path)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = sub.add_parser("chat", help="talk to the assistant in text")
    chat.add_argument("--once", metavar="TEXT", help="answer one message and exit")
    chat.add_argument("--json", action="store_true",
                      help="print JSON: with --once one object; without it, read one message "
                      "per line from standard input and print one object per line, keeping "
                      "the conversation (a question asked is answered by the next line)")
    chat.add_argument("--yes", action="store_true",
                      help="with --once: approve skills that ask for confirmation")
    chat.set_defaults(func=_cmd_chat)

    voice = sub.add_parser("voice", help="talk to the assistant (microphone, or a file)")
    voice.add_argument("--input", metavar="IN.wav",
                       help="use this audio file as the microphone (any rate/channels)")
    voice.add_argument("--output", metavar="OUT.wav",
                       help="with --input: write what the assistant says, on the input's timeline")
    voice.add_argument("--events", metavar="EVENTS.jsonl",
                       help="write the event log here, one JSON object per line: "
                       + ", ".join(kind.type for kind in EVENT_TYPES))
    voice.add_argument("--fast", action="store_true",
                       help="with --input: skip idle time instead of pacing in real time")
    voice.set_defaults(func=_cmd_voice)

    transcribe = sub.add_parser("transcribe", help="speech to text for an audio file")
    transcribe.add_argument("file")
    transcribe.add_argument("--json", action="store_true", help="print one JSON object")
    transcribe.set_defaults(func=_cmd_transcribe)

    say = sub.add_parser("say", help="text to speech into a WAV file")
    say.add_argument("text")
    say.add_argument("-o", "--output", required=True, metavar="OUT.wav")
    say.set_defaults(func=_cmd_say)

    serve = sub.add_parser(
        "serve", help="Wyoming server for Home Assistant: speech to text, text to speech and "
        "a conversation agent on one port",
        description="Serve the assistant over the Wyoming protocol. In Home Assistant: "
        "Settings → Devices & services → Add integration → Wyoming Protocol, then this "
        "machine's address and port. Defaults come from the [serve] config section.")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine "
                       "only; 0.0.0.0 for the LAN)")
    serve.add_argument("--port", type=int, help="TCP port (default 10700)")
    serve.add_argument("--zeroconf", action="store_true",
                       help="advertise the service on the LAN for Home Assistant to discover")
    serve.set_defaults(func=_cmd_serve)

    satellite = sub.add_parser(
        "satellite", help="a room's microphone and speaker, with the models on a hub",
        description="Run this room's microphone, echo cancellation, VAD, barge-in and "
        "speaker here, and everything else on a hub (`assistant serve` on a stronger "
        "machine). Each room has its own conversation, timers and reminders.")
    satellite.add_argument("--hub", required=True, metavar="HOST:PORT",
                           help="the hub's `assistant serve` address, e.g. 192.168.1.20:10700")
    satellite.add_argument("--name", metavar="ROOM",
                           help="this room's name (default: the host name)")
    satellite.add_argument("--input", metavar="IN.wav",
                           help="use this audio file as the microphone (any rate/channels)")
    satellite.add_argument("--output", metavar="OUT.wav",
                           help="with --input: write what the room heard, on the input's "
                           "timeline")
    satellite.add_argument("--events", metavar="EVENTS.jsonl",
                           help="write the event log here (as `assistant voice --events`)")
    satellite.add_argument("--fast", action="store_true",
                           help="with --input: skip idle time instead of pacing in real time")
    satellite.set_defaults(func=_cmd_satellite)

    mcp = sub.add_parser("mcp", help="MCP (Model Context Protocol): our skills for other "
                         "programs")
    mcp_sub = mcp.add_subparsers(dest="action", metavar="ACTION", required=True)
    mcp_serve = mcp_sub.add_parser(
        "serve", help="offer our skills as MCP tools (stdio; --http for streamable HTTP)",
        description="Serve every skill as an MCP tool. Over stdio (the default) for a client "
        "that starts us, e.g. {\"command\": \"assistant\", \"args\": [\"mcp\", \"serve\"]}; "
        "with --http on 127.0.0.1 behind a bearer token (printed at start, kept in "
        "<data_dir>/mcp-token). A skill that deletes asks the client's user first (MCP "
        "elicitation).")
    mcp_serve.add_argument("--http", action="store_true",
                           help="streamable HTTP on 127.0.0.1 instead of stdio")
    mcp_serve.add_argument("--port", type=int,
                           help="with --http: the port (default mcp.http_port, 8765)")
    mcp_serve.set_defaults(func=_cmd_mcp_serve)
    mcp_sub.add_parser("list", help="the MCP servers whose tools we use ([mcp.servers]): "
                       "state (running, failed: why, disabled: definitions changed) and "
                       "their tools with risk").set_defaults(func=_cmd_mcp_list)

    skills = sub.add_parser("skills", help="the skills the assistant can use")
    skills_sub = skills.add_subparsers(dest="action", metavar="ACTION", required=True)
    skills_sub.add_parser("list", help="list loaded skills and plugins that failed"
                          ).set_defaults(func=_cmd_skills_list)
    approve = skills_sub.add_parser(
        "approve", help="accept an MCP server's changed tool definitions (its tools are "
        "disabled until then): shows what changed, then pins them")
    approve.add_argument("name", metavar="NAME", help="the server's name in [mcp.servers]")
    approve.set_defaults(func=_cmd_skills_approve)

    models = sub.add_parser("models", help="list, download and check models")
    models_sub = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    models_sub.add_parser("list", help="the model catalogue and what is downloaded"
                          ).set_defaults(func=_cmd_models_list)
    fetch = models_sub.add_parser("fetch", help="download models into the cache")
    fetch.add_argument("names", nargs="*", metavar="NAME")
    fetch.add_argument("--defaults", action="store_true", help="all default-tier models")
    fetch.set_defaults(func=_cmd_models_fetch)
    check = models_sub.add_parser("verify", help="check downloaded files against sha256")
    check.add_argument("names", nargs="*", metavar="NAME")
    check.set_defaults(func=_cmd_models_verify)

    config = sub.add_parser("config", help="show the effective configuration")
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_sub.add_parser("show", help="every key, its value, where it came from"
                          ).set_defaults(func=_cmd_config_show)

    sub.add_parser("doctor", help="check the installation and say how to fix what is missing"
                   ).set_defaults(func=_cmd_doctor)

    memory = sub.add_parser("memory", help="what the assistant remembers, and your documents")
    actions = memory.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("ingest", help="add or refresh files and folders (.txt .md .pdf "
                           ".html); unchanged files are skipped, deleted ones removed")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = actions.add_parser("add", help="remember a fact, e.g. 'my car is on level 3'")
    p.add_argument("text", nargs="+")
    actions.add_parser("list", help="the remembered facts")
    p = actions.add_parser("search", help="what the assistant would find for a question")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="how many results (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"],
                   help="ranking (default: memory.search_mode)")
    p.add_argument("--json", action="store_true",
                   help='print [{"id", "text", "source", "score"}, ...]')
    p = actions.add_parser("forget", help="delete a record by id, or the records matching "
                           "some words (asks before deleting more than one)")
    p.add_argument("target", nargs="+", metavar="ID|QUERY")
    p.add_argument("-k", type=int, default=5, help="most records a query may match")
    p.add_argument("--yes", action="store_true", help="do not ask")
    actions.add_parser("export", help="every fact and chunk as JSON lines on stdout")
    p = actions.add_parser("stats", help="counts and size on disk")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = actions.add_parser("check", help="check that every chunk belongs to an ingested file "
                           "and every file has all its chunks (exit 1 on a problem)")
    p.add_argument("--repair", action="store_true",
                   help="first remove what an interrupted ingest left")
    memory.set_defaults(func=_cmd_memory)

    bench = sub.add_parser("bench", help="measure speed and accuracy")
    bench.add_argument("what", choices=BENCHMARKS)
    bench.add_argument("--runs", type=int, default=5, help="repetitions (llm, voice, tools)")
    bench.add_argument("--soak-minutes", type=float, default=60.0,
                       help="length of the soak (reliability; 0 = skip)")
    bench.add_argument("--kills", type=int, default=100,
                       help="processes killed per fault target (reliability; 0 = skip)")
    bench.add_argument("--bfcl-limit", type=int, default=50,
                       help="BFCL questions per category (skills; 0 = all)")
    bench.add_argument("--llm-limit", type=int, default=0,
                       help="commands sent through the LLM path (skills; 0 = all)")
    bench.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",") if x],
                       default=[1000, 10000, 100000], metavar="N,N,...",
                       help='synthetic store sizes in chunks (memory; default 1000,10000,100000; '
                       '"" = none)')
    bench.add_argument("--turns", type=int, default=10,
                       help="questions answered with memory on and off (memory; 0 = skip)")
    bench.add_argument("--model", action="append", default=[], metavar="GGUF",
                       help="trust: also run the cases with this model (catalogue name or "
                       ".gguf path); repeatable")
    bench.add_argument("--show-wrong", action="store_true",
                       help="trust: list every case that went wrong, and why")
    bench.add_argument("--cases", type=Path, default=None, metavar="DIR",
                       help="trust: read the case files from DIR instead of tests/data/trust "
                       "(a set made with another --seed of scripts/make_trust_cases.py)")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    heap.configure()  # before any model makes its threads and buffers (assistant/heap.py)
    func: Callable[[argparse.Namespace, LoadedConfig], int] = args.func
    try:
        loaded = load_config(args.config)
        return func(args, loaded)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)  # one plain line, whatever the terminal width
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
