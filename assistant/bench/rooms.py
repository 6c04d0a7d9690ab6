"""``assistant bench serve``'s rooms: 1, 2, 4 and 8 satellites speaking at once to one hub.

The hub is ``assistant serve`` in its own process, on a private data folder. The satellites
are the product's own :class:`~assistant.satellite.loop.SatelliteLoop` and
:class:`~assistant.satellite.link.HubLink`, each on a file played in real time (one thread
each, in this process: a room's device costs the hub nothing, and eight extra Python
processes would only take the two cores from the hub). Every satellite says a command, then
an LLM question, at the same moments as the others. Its own ``turn_end`` events give
voice-to-voice: the end of its speech → the first sound of the answer in that room. The
satellites run without AEC: the files hold no echo, and on a real device AEC runs on the
room's own CPU.

Target: commands' p95 at 8 satellites <= 2 x one satellite's; 0 audio frames dropped.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

from assistant.bench.common import cell, p95, step
from assistant.config import Config
from assistant.satellite.link import HubLink
from assistant.satellite.loop import SatelliteLoop
from assistant.speech.audio import RATE, FileDriver
from assistant.voice.app import build_synthesizer
from assistant.voice.events import EventLog, Hub, TurnEnd
from tests.fixtures.speech import trim

LOADS = (1, 2, 4, 8)
COMMANDS = ("What time is it?", "Set a timer for three minutes.",
            "Add bread to my shopping list.", "What's the date today?",
            "What is seventeen times twenty three?", "Set a timer for ten minutes.",
            "Add eggs to the shopping list.", "How many kilometres in ten miles?")
QUESTIONS = ("Who wrote Hamlet?", "What is the capital of France?",
             "Why is the sky blue?", "Who painted the Mona Lisa?",
             "What do bees make?", "How many legs does a spider have?",
             "What is the tallest mountain?", "Who was Albert Einstein?")
LEAD_S, GAP_S, TAIL_S = 1.0, 6.0, 8.0
"""Silence before the command, between the command and the question, after the question."""
HUB_READY_S = 180.0


@dataclass
class Room:
    name: str
    audio: np.ndarray
    question_at: float
    """When the question starts in the file (turns ending before it answer the command)."""
    events: EventLog = field(default_factory=EventLog)
    dropped: int = 0

    def latencies(self) -> tuple[list[float], list[float]]:
        """Voice-to-voice of (the command, the question), ms."""
        command, question = [], []
        for e in self.events.of_type(TurnEnd):
            ms = e.latency_ms.get("voice_to_voice")
            if ms is not None:
                (command if e.t < self.question_at else question).append(ms)
        return command, question


def _files(config: Config, n: int) -> list[tuple[np.ndarray, float]]:
    """Each room's file: silence, a command, silence, an LLM question, silence."""
    synth = build_synthesizer(config)
    out = []
    for i in range(n):
        command = trim(synth.synthesize(COMMANDS[i % len(COMMANDS)])[0])
        question = trim(synth.synthesize(QUESTIONS[i % len(QUESTIONS)])[0])
        lead, gap, tail = (np.zeros(int(s * RATE), np.float32) for s in (LEAD_S, GAP_S, TAIL_S))
        at = (len(lead) + len(command) + len(gap)) / RATE
        out.append((np.concatenate([lead, command, gap, question, tail]), at))
    return out


def _room(config: Config, port: int, room: Room, ready: threading.Barrier,
          failures: list[str]) -> None:
    voice = config.voice.model_copy(update={"echo": "off"})
    loop = SatelliteLoop(voice, room.events, lambda e: link.send(e))
    link = HubLink("127.0.0.1", port, room.name, loop.on_hub, loop.on_link)
    link.start()
    try:
        if not loop.online.wait(HUB_READY_S):
            failures.append(f"{room.name}: the hub never got ready")
            return
        ready.wait(60)  # every room starts its file at the same moment
        driver = FileDriver(room.audio, realtime=True, busy=loop.busy)
        driver.run(loop.tick, loop.clock, until_idle=loop.idle)
    finally:
        room.dropped = link.dropped
        link.stop()


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in (root, *root.children(recursive=True))) / 2**20
    return 0.0


def bench_rooms(config: Config, console: Console, hub_argv: list[str], port: int,
                rounds: int = 1, loads: tuple[int, ...] = LOADS) -> Table:
    """The rooms table. ``hub_argv`` starts ``assistant serve`` on ``port``."""
    from assistant.bench.serve import Server  # the peers' subprocess helper, shared

    step(console, "rooms: making the satellites' speech...")
    files = _files(config, max(loads))
    table = Table("satellites", "command voice-to-voice ms (median / p95)",
                  "LLM question voice-to-voice ms (median / p95)", "answered",
                  "frames dropped", "hub RSS MB (peak)",
                  title="Rooms: satellites on files speaking at once to one hub "
                        f"({rounds} round{'s' if rounds > 1 else ''} per load)")
    with tempfile.TemporaryDirectory(prefix="bench-rooms-") as tmp:
        env = [f"ASSISTANT_PATHS__DATA_DIR={Path(tmp) / 'data'}",
               f"ASSISTANT_PATHS__CACHE_DIR={config.paths.cache}"]
        hub = Server("assistant serve (hub)", ["env", *env, *hub_argv], port,
                     Path(tmp) / "hub.log")
        hub.start()
        try:
            baseline: list[float] = []
            for n in loads:
                commands, questions, dropped, answered, lost, peak = [], [], 0, 0, 0, 0.0
                for r in range(rounds):
                    step(console, f"rooms: {n} satellite{'s' if n > 1 else ''} at once, "
                                  f"round {r + 1}/{rounds}...")
                    rooms = [Room(f"room{i}", *files[i]) for i in range(n)]
                    failures: list[str] = []
                    ready = threading.Barrier(n)
                    threads = [threading.Thread(target=_room, args=(config, port, room, ready,
                                                                    failures), daemon=True)
                               for room in rooms]
                    for t in threads:
                        t.start()
                    while any(t.is_alive() for t in threads):
                        peak = max(peak, _rss_mb(hub.proc.pid) if hub.proc else 0.0)
                        time.sleep(0.5)
                    if failures:
                        raise RuntimeError("; ".join(failures) + f" ({hub.log_tail()})")
                    for room in rooms:
                        c, q = room.latencies()
                        commands += c
                        questions += q
                        answered += bool(c) + bool(q)
                        dropped += room.dropped
                        links = [e.connected for e in room.events.of_type(Hub)]
                        # refusals before the hub listened are no loss
                        lost += links[links.index(True):].count(False) if True in links else 0
                if n == loads[0]:
                    baseline = commands
                ratio = ""
                if baseline and commands and n != loads[0]:
                    ratio = f" ({p95(commands) / p95(baseline):.2f}x)"
                table.add_row(str(n), cell(commands) + ratio, cell(questions),
                              f"{answered}/{2 * n * rounds}",
                              str(dropped) + (f" (link lost {lost}x)" if lost else ""),
                              f"{peak:.0f}")
        finally:
            hub.stop()
    table.caption = ("voice-to-voice: each room's end of speech → the first sound of the "
                     "answer in that room; (Nx): commands' p95 against one satellite's "
                     "(target <= 2x at 8); frames dropped: satellite audio that never left "
                     "(target 0)")
    return table
