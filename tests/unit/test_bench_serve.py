"""``assistant bench serve``'s pure helpers: audio on the wire, where speech ends, the table's
ratio cell, the peers' virtual environment check. No server, no install, no network."""

from pathlib import Path

import numpy as np
import pytest

from assistant.bench.serve import (
    CHUNK,
    HA_VAD_SILENCE_S,
    PEERS,
    as_home_assistant_sends,
    audio_chunks,
    bench_summary,
    pcm16,
    ratio_cell,
    speech_end,
    venv_ready,
    words_as_chunks,
)
from assistant.speech.audio import RATE


def test_pcm16_clips_and_scales():
    pcm = np.frombuffer(pcm16(np.array([0.0, 0.5, -1.0, 2.0], np.float32)), "<i2")
    assert pcm.tolist() == [0, 16383, -32767, 32767]


def test_audio_chunks_cover_the_audio_in_1024_samples_with_their_start():
    pcm = pcm16(np.zeros(2 * CHUNK + 100, np.float32))
    chunks = audio_chunks(pcm)
    assert [len(c.audio) // 2 for c in chunks] == [CHUNK, CHUNK, 100]
    assert b"".join(c.audio for c in chunks) == pcm
    assert [c.timestamp for c in chunks] == [0, 64, 128]  # ms at 16 kHz
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(RATE, 2, 1)}


def _speech(seconds: float, noise: float = 0.003) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (0.3 * np.sin(np.arange(int(seconds * RATE)) / 5)).astype(np.float32) + \
        rng.normal(0, noise, int(seconds * RATE)).astype(np.float32)


def test_speech_end_ignores_a_noise_floor():
    rng = np.random.default_rng(1)
    audio = np.concatenate([rng.normal(0, 0.004, RATE // 2).astype(np.float32),
                            _speech(1.0), rng.normal(0, 0.004, RATE).astype(np.float32)])
    assert speech_end(audio) == pytest.approx(1.5, abs=0.021)


def test_home_assistant_stream_ends_its_vad_silence_after_speech():
    long_tail = np.concatenate([_speech(1.0), np.zeros(2 * RATE, np.float32)])
    sent, end = as_home_assistant_sends(long_tail)
    assert end == pytest.approx(1.0, abs=0.021)
    assert len(sent) / RATE == pytest.approx(end + HA_VAD_SILENCE_S, abs=1e-3)
    # a clip that stops right after its speech is padded with silence
    sent, end = as_home_assistant_sends(_speech(1.0))
    assert len(sent) / RATE == pytest.approx(end + HA_VAD_SILENCE_S, abs=1e-3)
    assert not sent[-int(0.5 * RATE):].any()


def test_ratio_cell():
    assert ratio_cell([100, 110, 120], [400, 500, 600], 0.25) == "0.22 met"
    assert ratio_cell([300], [500], 0.5) == "0.60 missed"
    assert ratio_cell([-50, -20, 10], [400], 0.25) == "< 0 met"
    assert ratio_cell([], [400], 0.25) == "-"


def test_words_as_chunks_rebuild_the_text():
    text = "Timer set for five minutes. It is done."
    chunks = words_as_chunks(text)
    assert len(chunks) == 8 and "".join(chunks) == text


def test_venv_ready_wants_the_script_and_the_same_requirement(tmp_path: Path):
    name = "wyoming-piper"
    venv = tmp_path / name
    assert not venv_ready(venv, PEERS[name])
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / name).write_text("")
    assert not venv_ready(venv, PEERS[name])  # no marker: an install that did not finish
    (venv / "bench-requirement.txt").write_text(PEERS[name] + "\n")
    assert venv_ready(venv, PEERS[name])
    assert not venv_ready(venv, "wyoming-piper>=9")


REPORT = """wyoming-bench 2026.10.0 (stt)
  [preflight] 127.0.0.1:1 unavailable (ConnectionRefusedError); skipping server
=== 127.0.0.1:2 (faster-whisper) ===
  [streaming] NOT SUPPORTED by 127.0.0.1:2 (not advertised by server); skipping streaming mode
[non_streaming] ok=11 fail=0
  Total (ms)       405.7     470.7     459.6     574.5     597.5
==============================================================================
Summary (lower is better)
==============================================================================

[non_streaming]
  server                              ok      WER      CER     SAR  Total_mean
  127.0.0.1:2 (faster-whisper)        11    19.8%    11.4%    9.1%       470.7
"""


def test_bench_summary_keeps_the_summary_and_what_was_skipped():
    summary = bench_summary(REPORT).splitlines()
    assert summary[0].strip().startswith("[preflight]")
    assert "NOT SUPPORTED" in summary[1]
    assert summary[2:] == ["[non_streaming]",
                           "  server                              ok      WER      CER     SAR"
                           "  Total_mean",
                           "  127.0.0.1:2 (faster-whisper)        11    19.8%    11.4%    9.1%"
                           "       470.7"]
    assert not any("fail=0" in line or "Total (ms)" in line for line in summary)
