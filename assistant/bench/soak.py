"""The soak: the voice loop talked to for a long time, watched for growth and drift.

One conversation (one :class:`~assistant.agent.Assistant`, its history, timers and memory)
goes on in ``--fast`` file mode, one scene after another: commands, LLM questions, a fact
told and asked back, a timer that fires during the run, and a question talked over with
"stop". The loop is made afresh for each scene, as a new utterance from the microphone
would find it, around the same loaded models and the same conversation. Every
``sample_s`` of wall time the process's RSS, threads and open files are sampled, with the
voice-to-voice latency of the turns since the last sample.

Target (issue 16): after the first ``warm_s``, no growth beyond 5% and latency flat.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import psutil

from assistant.agent import Assistant
from assistant.config import Config
from assistant.voice.events import TurnEnd
from tests.fixtures.loop import Models, run_loop
from tests.fixtures.speech import silence, trim

SCENES: tuple[tuple[str, ...], ...] = (
    ("what time is it",),
    ("why is the sky blue",),
    ("remember that my bike is in the shed", "where is my bike"),
    ("set a timer for two seconds",),
    ("what's seventeen times twenty three", "cancel that"),
    ("tell me something about the moon", "stop"),  # the second talks over the first answer
    ("who wrote hamlet",),
    ("how many kilometres in ten miles", "what can you do"),
)
"""Each scene is one file: its utterances with silence between them."""
GAP_S = 2.5
"""Silence after each utterance: time for its answer (a talked-over answer is cut)."""
OVER_S = 1.2
"""How far into the previous answer a talked-over utterance ("stop") starts."""


@dataclass(frozen=True)
class Sample:
    at_s: float
    rss_mb: float
    threads: int
    files: int
    latencies_ms: tuple[float, ...]
    """voice-to-voice of the turns since the previous sample."""


@dataclass
class Soak:
    samples: list[Sample] = field(default_factory=list)
    scenes: int = 0
    turns: int = 0
    errors: list[str] = field(default_factory=list)
    """Runs that raised (each one line)."""

    def settled(self, warm_s: float) -> list[Sample]:
        """The samples from ``warm_s`` on (the last one if none is that late)."""
        return [s for s in self.samples if s.at_s >= warm_s] or self.samples[-1:]

    def growth(self, warm_s: float) -> dict[str, float]:
        """Relative growth of RSS, threads and open files over :meth:`settled`, first to
        last; and latency drift (median of its last third over that of its first third)."""
        after = self.settled(warm_s)
        first, last = after[0], after[-1]
        third = max(1, len(after) // 3)

        def median(samples: list[Sample]) -> float:
            values = [v for s in samples for v in s.latencies_ms]
            return statistics.median(values) if values else float("nan")

        return {"rss": last.rss_mb / first.rss_mb - 1,
                "threads": last.threads / first.threads - 1,
                "files": last.files / max(first.files, 1) - 1,
                "latency": median(after[-third:]) / median(after[:third]) - 1}


def _scene_audio(say: Callable[[str], np.ndarray], scene: tuple[str, ...]) -> np.ndarray:
    parts = [silence(0.5)]
    for i, text in enumerate(scene):
        if text == "stop" and i > 0:  # said during the previous answer, not after it
            parts[-1] = silence(OVER_S)
        parts += [say(text), silence(GAP_S)]
    return np.concatenate(parts)


def soak(config: Config, duration_s: float, sample_s: float = 60.0,
         progress: Callable[[Sample], None] | None = None, models: Models | None = None) -> Soak:
    """Talk to one conversation for ``duration_s`` of wall time; see the module docstring."""
    models = models or Models.load(config)
    say = lambda text: trim(models.synth.synthesize(text)[0])  # noqa: E731
    files = [_scene_audio(say, scene) for scene in SCENES]
    process = psutil.Process()
    memory = None if models.assistant.memory_error else models.assistant.memory()
    assistant = Assistant(config, registry=models.assistant.registry,
                          engine=models.assistant.engine, announce=lambda _text: None,
                          memory=memory)
    result = Soak()
    start = time.perf_counter()
    next_sample = 0.0
    latencies: list[float] = []
    while True:
        now = time.perf_counter() - start
        if now >= next_sample:
            sample = Sample(now, process.memory_info().rss / 2**20, threading.active_count(),
                            process.num_fds(), tuple(latencies))
            result.samples.append(sample)
            latencies = []
            if progress:
                progress(sample)
            next_sample += sample_s
        if now >= duration_s:
            break
        audio = files[result.scenes % len(files)]
        try:
            run = run_loop(models, audio, assistant=assistant)
        except Exception as exc:  # a soak reports what breaks and goes on
            result.errors.append(f"scene {result.scenes}: {type(exc).__name__}: {exc}")
        else:
            ends = run.of(TurnEnd)
            result.turns += len(ends)
            latencies += [v for e in ends if (v := e.latency_ms.get("voice_to_voice"))]
        result.scenes += 1
    return result


def describe(result: Soak, warm_s: float) -> list[tuple[str, str, str]]:
    """(measure, value, target) rows for a table."""
    g = result.growth(warm_s)
    settled = result.settled(warm_s)
    first, last = settled[0], settled[-1]  # what the growth is counted between
    return [
        ("scenes / turns answered / runs that failed",
         f"{result.scenes} / {result.turns} / {len(result.errors)}", "- / - / 0"),
        (f"RSS growth after {warm_s:.0f} s (MB: {first.rss_mb:.0f} → {last.rss_mb:.0f})",
         f"{g['rss']:+.1%}", "<= +5%"),
        (f"threads growth ({first.threads} → {last.threads})", f"{g['threads']:+.1%}", "<= +5%"),
        (f"open files growth ({first.files} → {last.files})", f"{g['files']:+.1%}", "<= +5%"),
        ("voice-to-voice drift (last third / first third, medians)", f"{g['latency']:+.1%}",
         "flat (within ±10%)"),
    ]

