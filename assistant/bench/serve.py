"""``assistant bench serve``: our Wyoming server (``assistant serve``) side by side with the
servers Home Assistant users run, in one run, on the same model files and the same machine.

This module owns:

* the peers' installation: ``wyoming-faster-whisper``, ``wyoming-piper`` and the public
  ``wyoming-bench`` tool, each in a virtual environment of its own under the cache folder
  (their pins differ from ours), made once and reused;
* the servers' lives: each a subprocess on 127.0.0.1, ready when it answers ``Describe``,
  stopped at the end whatever happens (an error, Ctrl-C);
* our own client, on the real ``wyoming`` library, driving each server the way Home Assistant
  does, for what ``wyoming-bench`` does not measure: AudioStop → Transcript and end of speech →
  Transcript with audio paced in real time, and first audio after ``Synthesize`` and after the
  first ``SynthesizeChunk``;
* the side-by-side table (median / p95, ours / peer, target) and ``wyoming-bench``'s own
  report, or why it could not run.

Then the rooms (:mod:`assistant.bench.rooms`): 1, 2, 4 and 8 satellites at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import deque
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from assistant import AssistantError
from assistant.bench.common import ROOT, cell, step
from assistant.config import Config
from assistant.models import resolve
from assistant.speech.audio import RATE
from assistant.voice.app import build_recognizer

T = TypeVar("T")

HOST = "127.0.0.1"
"""Every server of this benchmark listens here only."""

WIDTH = 2
"""Bytes per sample on the wire: 16-bit PCM, as Home Assistant sends it."""
CHUNK = 1024
"""Samples per AudioChunk: wyoming-bench's default."""
HA_VAD_SILENCE_S = 0.7
"""Home Assistant's VAD ends a command after this much silence (``VadSensitivity.DEFAULT``):
the client here sends AudioStop that long after the end of speech, as Home Assistant would."""

PEERS = {
    "wyoming-faster-whisper": "wyoming-faster-whisper>=3.8,<3.9",
    "wyoming-piper": "wyoming-piper>=2.5,<2.6",
    "wyoming-bench": "wyoming-bench>=2026.10",
}
"""Each peer's virtual environment (and console script) name → what pip installs there."""

SENTENCES = [
    "Timer set for five minutes.",
    "Seventeen times twenty three is three hundred and ninety one.",
    "Hamlet is a tragedy written by William Shakespeare sometime between fifteen ninety nine "
    "and sixteen hundred and one.",
    "The moon is about three hundred and eighty four thousand kilometres away. Light takes "
    "just over a second to travel that far.",
]
"""Replies of different lengths, the last in two sentences; numbers in words so that both
servers' text normalisation has nothing to do."""

READY_S = 180.0
"""Most seconds a server may take to answer Describe, and then its warm-up request."""
REQUEST_S = 60.0
"""Most seconds one request may take before the run gives up on that server."""


class BenchError(AssistantError):
    """Something this benchmark needs (a peer's install, a server's start) went wrong."""


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    return bench_serve(config, console, runs=max(1, args.runs),
                       config_file=getattr(args, "config", None))


# --- audio on the wire -------------------------------------------------------------------


def pcm16(audio: np.ndarray) -> bytes:
    """Float samples in [-1, 1] → little-endian 16-bit PCM."""
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def audio_chunks(pcm: bytes, rate: int = RATE, samples: int = CHUNK) -> list[AudioChunk]:
    """Mono 16-bit PCM as AudioChunk events of ``samples`` each (the last may be shorter),
    stamped with their start in ms."""
    size = samples * WIDTH
    return [AudioChunk(rate=rate, width=WIDTH, channels=1, audio=pcm[i:i + size],
                       timestamp=i // WIDTH * 1000 // rate) for i in range(0, len(pcm), size)]


def speech_end(audio: np.ndarray, rate: int = RATE, frame_s: float = 0.02,
               floor: float = 0.05) -> float:
    """Seconds into ``audio`` where speech ends: the end of the last 20 ms frame louder than
    ``floor`` x the loudest frame (RMS; 0.05 is -26 dB). Relative, because the recordings'
    noise floors differ (up to -27 dB in pocketsphinx's clips); a word's quiet last sound
    (the "s" of "himself") sits just above that, so the estimate is good to ~0.1 s."""
    frame = int(frame_s * rate)
    frames = len(audio) // frame
    if frames == 0:
        return len(audio) / rate
    rms = np.sqrt(np.mean(audio[:frames * frame].reshape(frames, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > floor * rms.max())
    return (loud[-1] + 1) * frame / rate if len(loud) else len(audio) / rate


def as_home_assistant_sends(audio: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, float]:
    """The utterance as a Home Assistant client streams it: cut (or padded with silence)
    ``HA_VAD_SILENCE_S`` after the end of speech, where its VAD sends AudioStop; and that end
    of speech, in seconds."""
    end = speech_end(audio, rate)
    length = round((end + HA_VAD_SILENCE_S) * rate)
    out = np.zeros(length, np.float32)
    kept = audio[:length]
    out[:len(kept)] = kept
    return out, end


# --- the table's arithmetic ----------------------------------------------------------------


def ratio_cell(ours: Sequence[float], peer: Sequence[float], target: float) -> str:
    """``ours / peer`` of the medians, and whether it meets ``target`` (at most)."""
    if not ours or not peer:
        return "-"
    a, b = statistics.median(ours), statistics.median(peer)
    if a <= 0:
        return "< 0 met"
    if b <= 0:
        return "- (peer <= 0)"
    r = a / b
    return f"{r:.2f} {'met' if r <= target else 'missed'}"


def cpu_model() -> str:
    """The processor's name, as the kernel reports it."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- the peers' virtual environments --------------------------------------------------------


def venv_ready(venv: Path, requirement: str) -> bool:
    """``venv`` has the peer's console script and was made for this ``requirement``."""
    marker = venv / "bench-requirement.txt"
    return (venv / "bin" / venv.name).exists() and marker.is_file() and \
        marker.read_text().strip() == requirement


def ensure_venv(name: str, root: Path, console: Console) -> Path:
    """The console script ``name`` from its own virtual environment ``root/name``, installing
    it from PyPI the first time (progress as plain lines). Raises BenchError in one line."""
    requirement = PEERS[name]
    venv = root / name
    if venv_ready(venv, requirement):
        return venv / "bin" / name
    step(console, f"installing {requirement} into {venv} (once; later runs reuse it)...")
    if venv.exists():  # half made by an interrupted install, or for another requirement
        shutil.rmtree(venv)
    root.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                          text=True)
    if made.returncode != 0:
        raise BenchError(f"could not create a virtual environment at {venv}: "
                         f"{_last_line(made.stderr)}")
    tail: deque[str] = deque(maxlen=20)
    with subprocess.Popen([str(venv / "bin" / "python"), "-m", "pip", "install",
                           "--progress-bar", "off", requirement], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as pip:
        assert pip.stdout is not None
        for line in pip.stdout:
            line = line.rstrip()
            if line.startswith("WARNING: Location"):  # pip's noise about unused local indexes
                continue
            tail.append(line)
            if line.startswith("Collecting") and "(from" not in line:  # what was asked for
                step(console, f"  {line}")
            elif line.startswith("Successfully installed"):
                step(console, f"  installed {len(line.split()) - 2} packages")
    if pip.returncode != 0:
        errors = [t for t in tail if t.startswith("ERROR")] or list(tail) or ["no output"]
        raise BenchError(f"installing {requirement} into {venv} failed: {errors[-1]}")
    (venv / "bench-requirement.txt").write_text(requirement + "\n")
    return venv / "bin" / name


def _last_line(text: str) -> str:
    lines = [t for t in text.strip().splitlines() if t.strip()]
    return lines[-1] if lines else "no output"


# --- servers as subprocesses -----------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM it when the benchmark dies, even by
    SIGKILL, so that no server outlives the run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def _terminated_cleanly() -> Iterator[None]:
    """SIGTERM (a killed run, a timeout) unwinds like Ctrl-C, so the servers are stopped."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@dataclass
class Server:
    """One Wyoming server under test, started as its own process group on 127.0.0.1."""

    name: str
    argv: list[str]
    port: int
    log: Path
    cwd: Path | None = None
    info: Info | None = None
    described_s: float | None = None
    """Start → first answer to Describe, seconds."""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _started: float = 0.0

    def start(self) -> None:
        with self.log.open("wb") as log:
            # its own session: the terminal's Ctrl-C reaches only us, and we stop it in order
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.cwd,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        self._started = time.perf_counter()

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 3) -> str:
        with contextlib.suppress(OSError):
            text = self.log.read_text(errors="replace").strip().splitlines()
            return " | ".join(t.strip() for t in text[-lines:])
        return ""

    async def wait_ready(self, timeout: float = READY_S) -> Info:
        """Send Describe until the server answers with Info (bounded by ``timeout``)."""
        assert self.proc is not None
        deadline = time.perf_counter() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.proc.returncode}) before it "
                                 f"answered Describe: {self.log_tail()}")
            with contextlib.suppress(OSError, TimeoutError):
                async with AsyncTcpClient(HOST, self.port, connect_timeout=1,
                                          read_timeout=2) as client:
                    await client.write_event(Describe().event())
                    while (event := await client.read_event()) is not None:
                        if Info.is_type(event.type):
                            self.described_s = time.perf_counter() - self._started
                            self.info = Info.from_event(event)
                            return self.info
            if time.perf_counter() > deadline:
                raise BenchError(f"{self.name} did not answer Describe within {timeout:.0f} s: "
                                 f"{self.log_tail()}")
            await asyncio.sleep(0.25)

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server and its children (0 once it is gone)."""
        with contextlib.suppress(psutil.Error, AssertionError):
            assert self.proc is not None
            root = psutil.Process(self.proc.pid)
            return sum(sum(p.cpu_times()[:2]) for p in (root, *root.children(recursive=True)))
        return 0.0


def wait_quiet(servers: Sequence[Server], timeout: float = 10.0, window: float = 0.25,
               busy: float = 0.1) -> bool:
    """Wait (bounded) until every server idles below ``busy`` of a core over ``window``:
    two cores are shared, and what one server still does after answering (our LLM's prompt
    prefill after start, a decode finished after an early Transcript) must not be timed
    against the next one. False if one was still busy at ``timeout``."""
    deadline = time.perf_counter() + timeout
    while True:
        before = sum(s.cpu_s() for s in servers)
        time.sleep(window)
        if sum(s.cpu_s() for s in servers) - before < busy * window:
            return True
        if time.perf_counter() > deadline:
            return False


# --- our Wyoming client ----------------------------------------------------------------------


@dataclass
class Heard:
    """One utterance sent to a speech-to-text server."""

    text: str
    stop_ms: float
    """The client's AudioStop → the Transcript; negative when it came before AudioStop."""
    speech_ms: float
    """True end of speech → the Transcript."""


async def _next(client: AsyncTcpClient) -> Event:
    """The server's next event; its closing the connection or an Error is raised."""
    event = await client.read_event()
    if event is None:
        raise BenchError("the server closed the connection")
    if Error.is_type(event.type):
        raise BenchError(f"the server answered Error: {Error.from_event(event).text}")
    return event


async def _first(client: AsyncTcpClient, kinds: tuple[str, ...]) -> tuple[Event, float]:
    """The first event of one of ``kinds`` (or an Error, raised), and when it arrived."""
    while True:
        event = await _next(client)
        if event.type in kinds:
            return event, time.perf_counter()


async def transcribe(port: int, audio: np.ndarray) -> Heard:
    """Send ``audio`` in 1024-sample chunks paced in real time (each once its last sample
    would have been recorded), ending it as Home Assistant's VAD would; keep reading
    meanwhile, since a server that ends the command itself answers before AudioStop; the
    first Transcript is the answer."""
    sent, end_s = as_home_assistant_sends(audio)
    chunks = audio_chunks(pcm16(sent))
    async with AsyncTcpClient(HOST, port, connect_timeout=5, read_timeout=REQUEST_S) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=RATE, width=WIDTH, channels=1).event())
        answer = asyncio.create_task(_first(client, (Transcript(text="").event().type,)))
        try:
            start = time.perf_counter()
            done_samples = 0
            for chunk in chunks:
                if answer.done():  # answered already: the rest of the audio is not needed
                    break
                done_samples += len(chunk.audio) // WIDTH
                await asyncio.sleep(max(0.0, start + done_samples / RATE - time.perf_counter()))
                await client.write_event(chunk.event())
            stop_at = start + len(sent) / RATE
            await client.write_event(AudioStop().event())
            event, heard_at = await asyncio.wait_for(answer, REQUEST_S)
        finally:
            answer.cancel()
    return Heard(Transcript.from_event(event).text, (heard_at - stop_at) * 1000,
                 (heard_at - (start + end_s)) * 1000)


@dataclass
class Spoken:
    """One reply sent to a text-to-speech server."""

    first_ms: float
    """The request (Synthesize, or the first SynthesizeChunk) → the first AudioChunk."""
    total_ms: float
    audio_s: float
    cycles: int
    """AudioStart…AudioStop cycles in the answer."""


async def _collect(client: AsyncTcpClient, end_type: str) -> tuple[float | None, float,
                                                                   float, int]:
    """Read audio until an ``end_type`` event: when the first AudioChunk came, when the end
    came, seconds of audio, AudioStart count."""
    first, seconds, cycles = None, 0.0, 0
    while True:
        event = await _next(client)
        if AudioStart.is_type(event.type):
            cycles += 1
        elif AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            if first is None:
                first = time.perf_counter()
            seconds += len(chunk.audio) / (chunk.width * chunk.channels * chunk.rate)
        if event.type == end_type:
            return first, time.perf_counter(), seconds, cycles


async def synthesize(port: int, text: str) -> Spoken:
    """One-shot: Synthesize → AudioStart, AudioChunk…, AudioStop."""
    async with AsyncTcpClient(HOST, port, connect_timeout=5, read_timeout=REQUEST_S) as client:
        start = time.perf_counter()
        await client.write_event(Synthesize(text=text).event())
        received = await _collect(client, AudioStop().event().type)
    return _spoken(start, *received)


def words_as_chunks(text: str) -> list[str]:
    """``text`` as an LLM streams it: one piece per word, each with its leading space."""
    words = text.split()
    return [w if i == 0 else f" {w}" for i, w in enumerate(words)]


async def synthesize_streaming(port: int, text: str) -> Spoken:
    """Streaming as Home Assistant does it with an LLM: SynthesizeStart, one SynthesizeChunk a
    word (written back to back: the server's speed, not an LLM's, is measured), the
    compatibility Synthesize with the whole text, SynthesizeStop; the answer is a cycle per
    sentence, then SynthesizeStopped."""
    async with AsyncTcpClient(HOST, port, connect_timeout=5, read_timeout=REQUEST_S) as client:
        await client.write_event(SynthesizeStart().event())
        reading = asyncio.create_task(_collect(client, SynthesizeStopped().event().type))
        try:
            start = time.perf_counter()
            for piece in words_as_chunks(text):
                await client.write_event(SynthesizeChunk(text=piece).event())
            await client.write_event(Synthesize(text=text).event())
            await client.write_event(SynthesizeStop().event())
            received = await asyncio.wait_for(reading, REQUEST_S)
        finally:
            reading.cancel()
    return _spoken(start, *received)


def _spoken(start: float, first: float | None, end: float, seconds: float,
            cycles: int) -> Spoken:
    if first is None:
        raise BenchError("the server sent no audio")
    return Spoken((first - start) * 1000, (end - start) * 1000, seconds, cycles)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Side:
    """What one server measured."""

    server: Server
    heard: list[Heard] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    oneshot: list[Spoken] = field(default_factory=list)
    streamed: list[Spoken] = field(default_factory=list)
    asr_cpu: list[float] = field(default_factory=list)
    """CPU seconds the server spent on each clip."""
    tts_cpu: list[float] = field(default_factory=list)
    """CPU seconds the server spent on each one-shot reply."""
    failure: str = ""

    def fail(self, what: str, exc: Exception) -> None:
        """Stop measuring this server, saying why (and how its process ended, if it did)."""
        proc = self.server.proc
        ended = "" if proc is None or proc.poll() is None else \
            f"; the server exited ({proc.returncode}): {self.server.log_tail()}"
        self.failure = f"{what}: {exc or type(exc).__name__}{ended}"

    @property
    def asr(self) -> bool:
        return bool(self.server.info and self.server.info.asr)

    @property
    def tts(self) -> bool:
        return bool(self.server.info and self.server.info.tts)

    @property
    def tts_streaming(self) -> bool:
        info = self.server.info
        return bool(info and any(p.supports_synthesize_streaming for p in info.tts))

    def wer(self) -> float | None:
        import jiwer

        from tests.fixtures.speech import normalise_words

        if not self.heard:
            return None
        return jiwer.wer([normalise_words(r) for r in self.refs],
                         [normalise_words(h.text) for h in self.heard])


def ours_available() -> bool:
    """This checkout has ``assistant serve``."""
    probe = subprocess.run([sys.executable, "-m", "assistant", "serve", "--help"],
                           capture_output=True, cwd=ROOT, timeout=60)
    return probe.returncode == 0


def _servers(config: Config, tmp: Path, logs: Path, scripts: dict[str, Path], ours: bool,
             config_file: str | None) -> tuple[Server | None, Server, Server]:
    """Ours (when this checkout has it) and the two peers, on the same model files; each
    one's output goes to ``logs``."""
    whisper = resolve(config.asr.model, "asr", config.paths.cache)
    voice = resolve(config.tts.voice, "tts", config.paths.cache)
    # the same CPU threads as our recogniser (faster-whisper's 4 oversubscribe 2 cores)
    threads = build_recognizer(config).threads
    port = free_port()
    fw = Server("wyoming-faster-whisper", [
        str(scripts["wyoming-faster-whisper"]), "--model", str(whisper),
        "--data-dir", str(tmp / "whisper-data"), "--local-files-only",
        "--stt-library", "faster-whisper", "--beam-size", "1", "--compute-type", "int8",
        "--cpu-threads", str(threads), "--language", "en", "--uri", f"tcp://{HOST}:{port}"],
        port, logs / "wyoming-faster-whisper.log")
    port = free_port()
    piper = Server("wyoming-piper", [
        str(scripts["wyoming-piper"]), "--voice", voice.name.removesuffix(".onnx"),
        "--data-dir", str(voice.parent), "--local-files-only", "--uri", f"tcp://{HOST}:{port}"],
        port, logs / "wyoming-piper.log")
    (tmp / "whisper-data").mkdir()
    if not ours:
        return None, fw, piper
    port = free_port()
    argv = [sys.executable, "-m", "assistant"]
    if config_file:
        argv += ["--config", config_file]
    return (Server("ours (assistant serve)", [*argv, "serve", "--host", HOST, "--port",
                                              str(port)], port, logs / "ours.log", cwd=ROOT),
            fw, piper)


async def _start(servers: list[Server], warm_clip: np.ndarray, console: Console) -> None:
    """One at a time (two cores: a server loading beside another would slow both): start,
    Describe until it answers, one untimed request of each kind it offers."""
    for server in servers:
        step(console, f"starting {server.name}...")
        server.start()
        info = await server.wait_ready()
        if info.asr:
            await asyncio.wait_for(transcribe(server.port, warm_clip), READY_S)
        if info.tts:
            await asyncio.wait_for(synthesize(server.port, SENTENCES[0]), READY_S)
    wait_quiet(servers, timeout=60)


def _machine_cpu_s() -> float:
    """CPU seconds the whole machine has spent so far, all cores."""
    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def _own_cpu_s() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


class _Run:
    """Requests sent one at a time, each once all servers are idle, with the CPU that the
    server spent on it (until it is idle again: work after an early answer counts too)."""

    def __init__(self, servers: Sequence[Server]) -> None:
        self.servers = servers
        self.busy = 0
        """Requests that started with a server still busy after waiting 10 s."""
        self.disturbed = 0
        """Requests during which other processes (not the servers, not this benchmark) used
        more than a quarter of a core: on 2 cores, their times are not clean."""

    async def __call__(self, side: Side, what: str, request: Awaitable[T],
                       cpu: list[float]) -> T | None:
        self.busy += not wait_quiet(self.servers)
        before = side.server.cpu_s()
        others = _machine_cpu_s() - sum(s.cpu_s() for s in self.servers) - _own_cpu_s()
        start = time.perf_counter()
        try:
            result = await request
        except (BenchError, OSError, TimeoutError) as exc:
            side.fail(what, exc)
            return None
        others = _machine_cpu_s() - sum(s.cpu_s() for s in self.servers) - _own_cpu_s() - others
        self.disturbed += others > 0.25 * (time.perf_counter() - start)
        wait_quiet([side.server])
        cpu.append(side.server.cpu_s() - before)
        return result


async def _measure(sides: list[Side], clips: list, runs: int, console: Console) -> _Run:
    """Interleaved (each clip and sentence goes to every server in turn), so that any drift
    of the machine falls on all of them alike. Returns the run's counts of disturbed
    requests."""
    send = _Run([side.server for side in sides])
    for n in range(runs):
        step(console, f"recognition, pass {n + 1}/{runs}: {len(clips)} clips in real time...")
        for clip in clips:
            for side in (s for s in sides if s.asr and not s.failure):
                heard = await send(side, "recognition", transcribe(side.server.port,
                                                                   clip.audio), side.asr_cpu)
                if heard is not None:
                    side.heard.append(heard)
                    side.refs.append(clip.text)
    step(console, f"synthesis: {len(SENTENCES)} replies x {runs}, one-shot and streaming...")
    for _ in range(runs):
        for text in SENTENCES:
            for side in (s for s in sides if s.tts and not s.failure):
                spoken = await send(side, "synthesis", synthesize(side.server.port, text),
                                    side.tts_cpu)
                if spoken is not None:
                    side.oneshot.append(spoken)
                if side.tts_streaming and not side.failure:
                    spoken = await send(side, "streaming synthesis", synthesize_streaming(
                        side.server.port, text), [])
                    if spoken is not None:
                        side.streamed.append(spoken)
    return send


def bench_serve(config: Config, console: Console, runs: int = 5,
                config_file: str | None = None) -> int:
    from tests.fixtures.speech import real_speech_clips

    clips = real_speech_clips()
    if not clips:
        raise BenchError("no real speech clips: install Debian's pocketsphinx-testdata "
                         "(scripts/setup.sh does)")
    root = config.paths.cache / "bench-venvs"
    scripts = {name: ensure_venv(name, root, console) for name in PEERS}
    ours = ours_available()
    if not ours:
        step(console, "this checkout has no `assistant serve` yet: measuring the peers only")
    with _terminated_cleanly(), tempfile.TemporaryDirectory(prefix="bench-serve-") as folder, \
            contextlib.ExitStack() as stack:
        tmp = Path(folder)
        logs = config.paths.cache / "bench-serve-logs"  # kept after the run, for a failure
        logs.mkdir(parents=True, exist_ok=True)
        mine, fw, piper = _servers(config, tmp, logs, scripts, ours, config_file)
        servers = [s for s in (mine, fw, piper) if s is not None]
        for server in servers:
            stack.callback(server.stop)
        sides = [Side(s) for s in servers]
        asyncio.run(_start(servers, clips[0].audio, console))
        done = asyncio.run(_measure(sides, clips, runs, console))
        report = _wyoming_bench(scripts["wyoming-bench"], servers, clips, tmp, logs, runs,
                                console)
    _print(console, config, sides, runs, clips)
    if done.busy:
        console.print(f"[yellow]{done.busy} request(s) started while a server was still busy "
                      "after 10 s of waiting: their times include that load")
    if done.disturbed:
        console.print(f"[yellow]{done.disturbed} request(s) ran while other processes on this "
                      "machine used more than a quarter of a core: their times include that "
                      "load")
    console.rule("wyoming-bench, the public tool: audio sent as fast as it can, STT Total "
                 "counted from Transcribe (its whole reports are in the logs folder)")
    console.print(report, markup=False, highlight=False)
    step(console, f"the servers' own output: {logs}")
    if ours:  # after the peers are stopped: the rooms have the machine to themselves
        from assistant.bench.rooms import bench_rooms

        port = free_port()
        console.print(bench_rooms(config, console, [sys.executable, "-m", "assistant.cli",
                                                    "serve", "--port", str(port)], port))
    return 0


# --- wyoming-bench -----------------------------------------------------------------------------


def write_corpus(clips: list, folder: Path) -> Path:
    """The clips as wyoming-bench's corpus: ``NN.wav`` (16 kHz mono 16-bit) + ``NN.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, clip in enumerate(clips):
        with wave.open(str(folder / f"{i:02d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(WIDTH)
            w.setframerate(RATE)
            w.writeframes(pcm16(clip.audio))
        (folder / f"{i:02d}.txt").write_text(clip.text + "\n")
    return folder


def bench_summary(report: str) -> str:
    """The part of a wyoming-bench report worth printing beside our table: its summary
    tables, and every line that says a server or a mode was skipped or failed."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Summary")), len(lines))
    notes = [line for line in lines[:start] if re.search(
        r"NOT SUPPORTED|unavailable|skipping|fail=[1-9]|error", line, re.IGNORECASE)]
    summary = [line for line in lines[start + 1:] if line.strip() and not line.startswith("==")]
    return "\n".join(notes + summary)


def _wyoming_bench(script: Path, servers: list[Server], clips: list, tmp: Path, logs: Path,
                   runs: int, console: Console) -> str:
    """wyoming-bench's own summary on every server (STT on the same clips, TTS on the same
    replies), or why it could not run; its whole reports go to ``logs``."""
    corpus = write_corpus(clips, tmp / "corpus")
    rounds = str(max(1, min(3, runs)))
    asr = [f"{HOST}:{s.port}" for s in servers if s.info and s.info.asr]
    tts = [f"{HOST}:{s.port}" for s in servers if s.info and s.info.tts]
    names = "\n".join(f"  {HOST}:{s.port} = {s.name}" for s in servers)
    out = [f"servers:\n{names}"]
    for kind, argv in (
            ("stt", [str(script), "stt", "--corpus", str(corpus), "--config",
                     '{"language": "en"}', "--rounds", rounds, "--warmup", "1", *asr]),
            ("tts", [str(script), "tts", "--texts", *SENTENCES, "--rounds", rounds,
                     "--warmup", "1", *tts])):
        step(console, f"wyoming-bench {kind}...")
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            out.append(f"wyoming-bench {kind}: gave up after 900 s")
            continue
        (logs / f"wyoming-bench-{kind}.txt").write_text(done.stdout + done.stderr)
        text = f"wyoming-bench {kind}:\n{bench_summary(done.stdout)}"
        if done.returncode != 0:
            text += f"\nwyoming-bench {kind} failed ({done.returncode}): " \
                    f"{_last_line(done.stderr)}"
        out.append(text)
    return "\n\n".join(out)


# --- the table -----------------------------------------------------------------------------------


def _version(side: Side) -> str:
    info = side.server.info
    programs = [*(info.asr + info.tts)] if info else []
    return f"{side.server.name} {programs[0].version}" if programs and programs[0].version \
        else side.server.name


def _print(console: Console, config: Config, sides: list[Side], runs: int, clips: list) -> None:
    ours = next((s for s in sides if s.server.name.startswith("ours")), None)
    speech_s = sum(len(c.audio) for c in clips) / RATE
    words = sorted(len(text.split()) for text in SENTENCES)
    table = Table("measure", "ours", "peer", "ours / peer", "target", title=(
        f"assistant serve against Home Assistant's usual Wyoming servers: "
        f"{psutil.cpu_count()} CPU threads ({cpu_model()}), models {config.asr.model} and "
        f"{config.tts.voice}, {runs} run(s); median / p95"), caption=(
        f"Speech: {len(clips)} real clips (pocketsphinx-testdata, {speech_s:.0f} s) x {runs}, "
        f"sent in {CHUNK}-sample chunks paced in real time; AudioStop {HA_VAD_SILENCE_S} s "
        "after the end of speech, as Home Assistant's VAD (default sensitivity) would; a "
        "negative time: the Transcript came before AudioStop. Word error rate with numbers "
        f"and punctuation normalised. Replies: {len(SENTENCES)} texts of {words[0]} to "
        f"{words[-1]} words x {runs}; streaming sends a SynthesizeChunk a word, back to back, "
        "then the compatibility Synthesize and SynthesizeStop. CPU: the server's, all its "
        "threads, until it is idle again."))
    for peer in sides:
        if peer is ours:
            continue
        table.add_section()
        if peer.asr:
            _asr_rows(table, ours if ours and ours.asr else None, peer)
        if peer.tts:
            _tts_rows(table, ours if ours and ours.tts else None, peer)
        table.add_row("  start → Describe answered, s", _described(ours), _described(peer),
                      "", "")
    console.print(table)
    asr = [s for s in sides if s.asr and s.heard]
    if asr:
        console.print(_per_clip(asr, clips))
    for side in sides:
        if side.failure:
            console.print(f"[red]{side.server.name} stopped being measured: {side.failure}",
                          highlight=False)
    if ours is None:
        console.print("ours: not measured, this checkout has no `assistant serve` yet")


def _per_clip(sides: list[Side], clips: list) -> Table:
    """Each clip's end of speech → Transcript (median over the runs) and words wrong, per
    server: where a median hides a slow or a misheard clip."""
    import jiwer

    from tests.fixtures.speech import normalise_words

    table = Table("clip", "s", *(f"{s.server.name.split()[0]}: ms, wrong" for s in sides),
                  title="Speech to text per clip: end of speech → Transcript (median of the "
                  "runs), words wrong")
    for i, clip in enumerate(clips):
        row = [f"{clip.text[:32]}…" if len(clip.text) > 32 else clip.text,
               f"{len(clip.audio) / RATE:.1f}"]
        for side in sides:
            mine = side.heard[i::len(clips)]  # the clips went in order, runs times
            if not mine:
                row.append("-")
                continue
            ref = normalise_words(clip.text)
            wrong = jiwer.process_words(ref, normalise_words(mine[0].text))
            errors = wrong.substitutions + wrong.deletions + wrong.insertions
            row.append(f"{statistics.median(h.speech_ms for h in mine):.0f}, {errors}")
        table.add_row(*row)
    return table


def _described(side: Side | None) -> str:
    if side is None or side.server.described_s is None:
        return "-"
    return f"{side.server.described_s:.2f}"


def _asr_rows(table: Table, ours: Side | None, peer: Side) -> None:
    mine = ours.heard if ours else []
    stop = [h.stop_ms for h in mine], [h.stop_ms for h in peer.heard]
    end = [h.speech_ms for h in mine], [h.speech_ms for h in peer.heard]
    table.add_row(f"[bold]speech to text, vs {_version(peer)}")
    table.add_row("  AudioStop → Transcript, ms", cell(stop[0], 0), cell(stop[1], 0),
                  ratio_cell(*stop, 0.25), "<= 0.25")
    table.add_row("  end of speech → Transcript, ms", cell(end[0], 0), cell(end[1], 0),
                  ratio_cell(*end, 0.25), "<= 0.25")
    table.add_row("  Transcript before AudioStop",
                  f"{sum(h.stop_ms < 0 for h in mine)}/{len(mine)}" if ours else "-",
                  f"{sum(h.stop_ms < 0 for h in peer.heard)}/{len(peer.heard)}", "", "")
    table.add_row("  server CPU a clip, s", cell(ours.asr_cpu, 2) if ours else "-",
                  cell(peer.asr_cpu, 2), "", "")
    ours_wer, peer_wer = (ours.wer() if ours else None), peer.wer()
    verdict = "" if ours_wer is None or peer_wer is None else \
        ("met" if ours_wer <= peer_wer + 1e-9 else "missed")
    table.add_row("  word error rate", "-" if ours_wer is None else f"{ours_wer:.1%}",
                  "-" if peer_wer is None else f"{peer_wer:.1%}", verdict, "<= peer")


def _tts_rows(table: Table, ours: Side | None, peer: Side) -> None:
    mine = ours.oneshot if ours else []
    first = [s.first_ms for s in mine], [s.first_ms for s in peer.oneshot]
    table.add_row(f"[bold]text to speech, vs {_version(peer)}")
    table.add_row("  Synthesize → first audio, ms", cell(first[0], 0), cell(first[1], 0),
                  ratio_cell(*first, 0.5), "<= 0.5")
    mine_s = ours.streamed if ours else []
    streamed = [s.first_ms for s in mine_s], [s.first_ms for s in peer.streamed]
    offered = "" if ours is None or ours.tts_streaming else "not offered"
    table.add_row("  streamed: first chunk → audio, ms", offered or cell(streamed[0], 0),
                  cell(streamed[1], 0) if peer.tts_streaming else "not offered",
                  ratio_cell(*streamed, 0.5), "<= 0.5")
    table.add_row("  real-time factor, one-shot", _rtf(mine), _rtf(peer.oneshot), "", "")
    table.add_row("  server CPU a one-shot reply, s", cell(ours.tts_cpu, 2) if ours else "-",
                  cell(peer.tts_cpu, 2), "", "")
    sentences = ", ".join(str(t.count(".")) for t in SENTENCES)  # one full stop each
    table.add_row(f"  audio cycles, streaming ({sentences} sentences)", _cycles(mine_s),
                  _cycles(peer.streamed), "", "")


def _rtf(spoken: list[Spoken]) -> str:
    audio = sum(s.audio_s for s in spoken)
    return f"{sum(s.total_ms for s in spoken) / 1000 / audio:.3f}" if audio else "-"


def _cycles(spoken: list[Spoken]) -> str:
    return ", ".join(str(s.cycles) for s in spoken[:len(SENTENCES)]) if spoken else "-"
