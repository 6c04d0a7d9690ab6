"""`assistant say` on bad and unbounded input: a bounded result or a one-line error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.fixtures.peak import MEASURED, peak_mb

pytestmark = pytest.mark.slow


def say(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MEASURED, "say", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_three_kilobytes_without_a_full_stop_are_spoken_in_bounded_memory(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Piper was given this as one sentence and took 6.5 GB (10 KB: 24 GB, then the OOM
    killer)."""
    words = ("the quick brown fox jumps over the lazy dog " * 60).split()[:500]
    out = tmp_path / "long.wav"
    proc = say(" ".join(words), "-o", str(out), env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert peak_mb(proc.stderr) < 1500
    seconds = sf.info(out).duration
    assert seconds > 500 * 0.2  # every word is in it (~0.3 s a word)


def test_an_empty_text_is_a_one_line_error(tmp_path: Path, cli_env: dict[str, str]) -> None:
    for text in ("", "   ", "\x1b[31m\x1b[0m"):
        proc = say(text, "-o", str(tmp_path / "e.wav"), env=cli_env)
        assert proc.returncode != 0
        assert "nothing to say" in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "e.wav").exists()


def test_a_missing_folder_is_a_one_line_error_and_is_not_made(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.wav"
    proc = say("hello", "-o", str(target), env=cli_env)
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not target.parent.exists()


def test_escapes_are_not_read_out(tmp_path: Path, cli_env: dict[str, str]) -> None:
    plain, coloured = tmp_path / "plain.wav", tmp_path / "coloured.wav"
    assert say("five kilometres", "-o", str(plain), env=cli_env).returncode == 0
    proc = say("\x1b[31mfive kilometres\x1b[0m", "-o", str(coloured), env=cli_env)
    assert proc.returncode == 0, proc.stderr
    # "31 m" was read as "thirty one metres" (about a second more). Piper samples its
    # durations (noise_w), so the same two words vary by up to ~0.5 s from run to run.
    assert sf.info(coloured).duration < sf.info(plain).duration + 0.6
