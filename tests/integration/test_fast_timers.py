"""`voice --input X --fast`: a timer set during the run goes off at its point of the input's
timeline, as it would live (it followed the wall clock, which --fast outruns, and was never
heard)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.speech.audio import RATE
from tests.fixtures.speech import espeak, silence

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fast", [True, False])
def test_a_timer_set_in_a_file_run_announces_itself_on_the_timeline(
        tmp_path: Path, cli_env: dict[str, str], fast: bool) -> None:
    src, events = tmp_path / "in.wav", tmp_path / "events.jsonl"
    sf.write(src, np.concatenate([silence(0.5), espeak("set a timer for five seconds"),
                                  silence(12)]), RATE)
    proc = subprocess.run([sys.executable, "-m", "assistant", "voice", "--input", str(src),
                           "--events", str(events), *(["--fast"] if fast else [])],
                          capture_output=True, text=True, env=cli_env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    log = [json.loads(line) for line in events.read_text().splitlines()]
    (call,) = [e for e in log if e["type"] == "tool_call"]
    assert call["name"] == "set_timer" and call["arguments"]["seconds"] == 5
    done = [e for e in log if e["type"] == "tts_chunk" and "is done" in e["text"]]
    assert len(done) == 1, [e for e in log if e["type"] == "tts_chunk"]
    assert any(e["type"] == "audio_out_start" and e["t"] >= done[0]["t"] for e in log)
    # On the input's timeline (not the wall clock): five seconds after it was set.
    assert call["t"] + 5 <= done[0]["t"] < call["t"] + 6.5
