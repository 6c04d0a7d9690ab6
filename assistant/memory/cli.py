"""The actions behind ``assistant memory ...`` (the arguments are parsed in assistant.cli).

Output for people goes through rich; ``search --json`` and ``export`` print plain JSON for
scripts. Every command opens the store, does its work and closes it, so it never holds the
store longer than it needs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from assistant.config import Config
from assistant.memory import MemoryStore, embedding_model, open_store
from assistant.memory.ingest import ingest
from assistant.memory.integrity import integrity, repair
from assistant.memory.records import StoreDamaged
from assistant.memory.salvage import rebuild


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _ingest(store: MemoryStore, args: argparse.Namespace, config: Config,
            console: Console) -> int:
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True) as progress:
        task = progress.add_task("reading", total=None)

        def on_file(path: Path, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done,
                            description=path.name[:40] or "done")

        report = ingest(store, [Path(p) for p in args.paths],
                        chunk_words=config.memory.chunk_words,
                        overlap_words=config.memory.chunk_overlap_words, on_file=on_file)
    for path, reason in report.failed:
        console.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False, soft_wrap=True)
    console.print(f"ingest: {report.summary()}", highlight=False, soft_wrap=True)
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) \
        else 0


def _add(store: MemoryStore, args: argparse.Namespace, config: Config,
         console: Console) -> int:
    record, replaced = store.add_fact(" ".join(args.text), source="cli")
    if replaced is not None:
        console.print(f"updated {record.id}: {record.text!r} (was {replaced.text!r})",
                      highlight=False)
    else:
        console.print(f"added {record.id}: {record.text!r}", highlight=False)
    return 0


def _list(store: MemoryStore, args: argparse.Namespace, config: Config,
          console: Console) -> int:
    table = Table("id", "fact", "told", "via", "updated", title=f"Facts ({store.folder})")
    for r in store.facts():
        table.add_row(r.id, r.text, _when(r.created), r.source,
                      _when(r.updated) if r.updated != r.created else "")
    console.print(table)
    files = store.files()
    if files:
        console.print(f"{len(files)} ingested files, {store.count('documents')} chunks "
                      "(`assistant memory stats`; `assistant memory export` for all text)")
    return 0


def _search(store: MemoryStore, args: argparse.Namespace, config: Config,
            console: Console) -> int:
    hits = store.search(args.query, k=args.k, mode=args.mode or config.memory.search_mode,
                        fusion=config.memory.fusion)
    if args.json:
        print(json.dumps([h.as_dict() for h in hits]))
        return 0
    table = Table("score", "similarity", "id", "source", "text", title=f"“{args.query}”")
    for h in hits:
        text = h.record.text if len(h.record.text) <= 160 else h.record.text[:157] + "..."
        source = Path(h.record.source).name if h.record.collection == "documents" \
            else f"you ({h.record.source})"
        table.add_row(f"{h.score:.4f}", f"{h.similarity:.2f}", h.record.id, source, text)
    console.print(table)
    return 0


def _forget(store: MemoryStore, args: argparse.Namespace, config: Config,
            console: Console) -> int:
    target = " ".join(args.target)
    records = store.get([target])
    if not records:  # not an id: the facts and chunks that match the words
        hits = store.search(target, k=args.k)
        records = [h.record for h in hits if h.similarity >= config.memory.min_similarity]
    if not records:
        console.print(f"nothing matches {target!r}", highlight=False)
        return 1
    if len(records) > 1 and not args.yes:
        for r in records:
            console.print(f"  {r.id}  {r.text[:100]}", highlight=False)
        answer = console.input(f"Forget these {len(records)} records? [y/N] ").strip().lower()
        if answer not in {"y", "yes"}:
            console.print("kept everything")
            return 1
    removed = store.delete([r.id for r in records])
    console.print(f"forgot {removed} record{'s' if removed != 1 else ''}")
    return 0


def _export(store: MemoryStore, args: argparse.Namespace, config: Config,
            console: Console) -> int:
    for row in store.export():
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _stats(store: MemoryStore, args: argparse.Namespace, config: Config,
           console: Console) -> int:
    stats = store.stats()
    if args.json:
        print(json.dumps(stats))
        return 0
    table = Table("", "", title="Memory")
    for key, value in stats.items():
        shown = f"{value / 2**20:.1f} MB" if key == "disk_bytes" else str(value)
        table.add_row(key.replace("_", " "), shown)
    console.print(table)
    return 0


def _check(store: MemoryStore, args: argparse.Namespace, config: Config,
           console: Console) -> int:
    if args.repair:
        for fixed in repair(store):
            console.print(f"repaired {fixed.path}: {fixed.chunks} chunks of an interrupted "
                          "ingest removed (the next ingest adds the file again)",
                          highlight=False, soft_wrap=True)
    for path, _ in store.pending():
        console.print(f"unfinished: {path} (writing it was interrupted; the next ingest "
                      "puts it right)", highlight=False, soft_wrap=True)
    problems = integrity(store)
    for problem in problems:
        console.print(f"[red]problem[/] {problem}", highlight=False, soft_wrap=True)
    console.print(f"check: {len(store.files())} files, {store.count('documents')} chunks, "
                  f"{store.count('memory')} facts, {len(problems)} problems",
                  highlight=False, soft_wrap=True)
    return 1 if problems else 0


ACTIONS = {"ingest": _ingest, "add": _add, "list": _list, "search": _search,
           "forget": _forget, "export": _export, "stats": _stats, "check": _check}


def run(args: argparse.Namespace, config: Config, console: Console) -> int:
    try:
        with open_store(config) as store:
            return ACTIONS[args.action](store, args, config, console)
    except StoreDamaged as exc:  # on opening, or on the first read chromadb cannot do
        if not (args.action == "check" and args.repair):
            raise
        console.print(f"[yellow]{exc}[/]", highlight=False, soft_wrap=True)
    _rebuild(config, console)
    with open_store(config) as store:
        return ACTIONS[args.action](store, args, config, console)


def _rebuild(config: Config, console: Console) -> None:
    with console.status("rebuilding the store from what its files still hold"):
        salvaged = rebuild(config.memory.folder(config.paths.data), embedding_model(config))
    lost = f"; {salvaged.unreadable} unreadable rows lost" if salvaged.unreadable else ""
    console.print(f"rebuilt: {salvaged.count('memory')} facts and {salvaged.count('documents')} "
                  f"chunks restored{lost}; the damaged files are kept in {salvaged.aside}",
                  highlight=False, soft_wrap=True)
