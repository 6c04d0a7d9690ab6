"""`assistant transcribe` on what is not speech and on what is very long: the VAD decides
before Whisper is believed, bad samples are cleaned, and the file is streamed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.speech.audio import RATE, AudioWriter
from tests.fixtures.peak import MEASURED, peak_mb
from tests.fixtures.speech import espeak, silence

pytestmark = pytest.mark.slow

def transcribe(path: Path, env: dict[str, str]) -> tuple[dict, int]:
    """The --json object, and the process's peak memory in MB."""
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", MEASURED,
                           "transcribe", str(path), "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr
    return json.loads(proc.stdout), int(peak_mb(proc.stderr))


def noise(seconds: float, level: float = 0.3) -> np.ndarray:
    return np.random.default_rng(16).normal(0, level, int(seconds * RATE)).astype(np.float32)


@pytest.mark.parametrize(("name", "audio"), [
    ("digital silence, 1 s", silence(1)),  # Whisper: "you"
    ("digital silence, 5 s", silence(5)),
    ("white noise, 5 s", noise(5)),  # Whisper: "I'm going to go to the ground."
    ("NaN samples", np.full(2 * RATE, np.nan, np.float32)),  # Whisper: "!", a numpy warning
    ("infinities and huge floats", np.resize(np.array([np.inf, -np.inf, 1e30, -1e30],
                                                      np.float32), 2 * RATE)),
])
def test_what_is_not_speech_transcribes_to_nothing(tmp_path: Path, cli_env: dict[str, str],
                                                   name: str, audio: np.ndarray) -> None:
    path = tmp_path / "in.wav"
    sf.write(path, audio, RATE, subtype="FLOAT")  # float WAV keeps NaN and out-of-range values
    out, _ = transcribe(path, cli_env)
    assert out["text"] == "" and out["segments"] == [], name
    assert out["duration_s"] == pytest.approx(len(audio) / RATE, abs=0.01)


def test_speech_far_beyond_full_scale_is_clipped_and_heard(tmp_path: Path,
                                                          cli_env: dict[str, str]) -> None:
    words = espeak("set a timer for five minutes")
    path = tmp_path / "loud.wav"
    sf.write(path, np.concatenate([silence(0.5), words * 1000, silence(0.5)]), RATE,
             subtype="FLOAT")
    out, _ = transcribe(path, cli_env)
    assert "timer" in out["text"].lower()


def test_twenty_minutes_are_streamed_in_the_memory_of_one(tmp_path: Path,
                                                          cli_env: dict[str, str]) -> None:
    """Speech at the start, the middle and the end of 20 minutes of quiet: every piece is
    found at its time, and the peak memory is that of a one-minute file (2 h took 1.8 GB)."""
    said = ["set a timer for five minutes", "what is the weather like today",
            "remind me to call my mother tomorrow"]
    rng = np.random.default_rng(0)

    def write(path: Path, minutes: float) -> list[float]:
        at, gap = [], (minutes * 60 - 9) / 2
        with AudioWriter(path) as out:
            for i, text in enumerate(said):
                at.append(out.seconds + 0.5)
                out.write(np.concatenate([silence(0.5), espeak(text), silence(0.5)]))
                if i < 2:  # quiet with a little hiss, written a minute at a time
                    for _ in range(int(gap // 60)):
                        out.write(rng.normal(0, 0.001, 60 * RATE).astype(np.float32))
                    out.write(silence(gap % 60))
        return at

    long_at = write(tmp_path / "long.wav", 20)
    write(tmp_path / "short.wav", 1)
    long_out, long_mb = transcribe(tmp_path / "long.wav", cli_env)
    _, short_mb = transcribe(tmp_path / "short.wav", cli_env)
    assert long_out["duration_s"] > 20 * 60 - 10
    heard = [s["text"].lower() for s in long_out["segments"]]
    assert [w in h for w, h in zip(("timer", "weather", "mother"), heard, strict=True)] == \
        [True] * 3
    for segment, at in zip(long_out["segments"], long_at, strict=True):
        assert segment["start"] <= at + 0.5 and segment["end"] >= at + 1
    assert long_mb < short_mb + 60, (long_mb, short_mb)
