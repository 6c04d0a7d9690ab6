"""Rooms: ``assistant satellite`` processes on audio files talking to an ``assistant serve``
hub process over Wyoming, with the real models on the hub."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Config, load_config
from assistant.speech.audio import load_audio, save_wav
from assistant.voice.app import build_recognizer, build_synthesizer
from tests.fixtures.speech import normalise_words, silence, trim

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "assistant.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(overrides={"paths.data_dir": str(tmp_path_factory.mktemp("d"))},
                       env={}).config


@pytest.fixture(scope="module")
def speak(voice: Config, tmp_path_factory: pytest.TempPathFactory):
    synth = build_synthesizer(voice)
    folder = tmp_path_factory.mktemp("speech")

    def make(text: str, after_s: float = 4.0) -> Path:
        path = folder / f"{abs(hash((text, after_s)))}.wav"
        audio = trim(synth.synthesize(text)[0])
        save_wav(path, np.concatenate([silence(1.0), audio, silence(after_s)]))
        return path

    return make


class Hub:
    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env["ASSISTANT_PATHS__DATA_DIR"] = str(data)
        self.env = env
        data.mkdir(parents=True, exist_ok=True)
        with (data / "hub.log").open("a") as log:  # read it when a test fails
            self.process = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    running = Hub(tmp_path / "hub-data", free_port())
    try:
        yield running
    finally:
        running.stop()


def satellite(hub: Hub, room: str, audio: Path, out: Path, fast: bool = True,
              **env: str) -> subprocess.Popen:
    args = [*CLI, "satellite", "--hub", f"127.0.0.1:{hub.port}", "--name", room,
            "--input", str(audio), "--output", str(out / f"{room}.wav"),
            "--events", str(out / f"{room}.jsonl")]
    return subprocess.Popen(args + (["--fast"] if fast else []), env={**hub.env, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(process: subprocess.Popen, timeout: float = 240) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


def events(out: Path, room: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{room}.jsonl").read_text().splitlines()]


def tool_calls(out: Path, room: str) -> list[tuple[str, dict]]:
    return [(e["name"], e["arguments"]) for e in events(out, room) if e["type"] == "tool_call"]


def heard(voice: Config, out: Path, room: str) -> str:
    return normalise_words(build_recognizer(voice).transcribe_offline(
        load_audio(out / f"{room}.wav")).text)


def test_a_satellite_on_a_file_gets_its_answer_and_the_tool_call(
        hub: Hub, speak, voice: Config, tmp_path: Path) -> None:
    finished(satellite(hub, "kitchen", speak("Set a timer for five minutes."), tmp_path))
    assert tool_calls(tmp_path, "kitchen") == [("set_timer", {"seconds": 300, "label": None})]
    assert "five minutes" in heard(voice, tmp_path, "kitchen")
    turn = next(e for e in events(tmp_path, "kitchen") if e["type"] == "turn_end")
    assert turn["latency_ms"]["voice_to_voice"] > 0


def test_two_satellites_at_once_each_hold_their_own_conversation(
        hub: Hub, speak, tmp_path: Path) -> None:
    kitchen = satellite(hub, "kitchen", speak("Set a timer for two minutes."), tmp_path)
    hall = satellite(hub, "hall", speak("Add bread to my shopping list."), tmp_path)
    finished(kitchen)
    finished(hall)
    assert [n for n, _ in tool_calls(tmp_path, "kitchen")] == ["set_timer"]
    assert [n for n, _ in tool_calls(tmp_path, "hall")] == ["add_to_list"]
    # Each room's next question is answered in its own conversation.
    finished(satellite(hub, "hall", speak("What timers do I have?"), tmp_path))
    listed = [e for e in events(tmp_path, "hall") if e["type"] == "tool_call"]
    assert listed and listed[0]["name"] == "list_timers"
    assert "no timers" in listed[0]["result"].lower() or "two" not in listed[0]["result"]


def test_a_satellite_killed_mid_utterance_leaves_the_hub_serving(
        hub: Hub, speak, tmp_path: Path) -> None:
    long = speak("Remember that the spare key is under the blue flower pot by the back door "
                 "and that the garage code is one two three four.", after_s=1.0)
    doomed = satellite(hub, "attic", long, tmp_path, fast=False)
    for line in doomed.stdout:  # events are printed as they happen
        if '"speech_start"' in line:
            break
    time.sleep(1.0)  # mid-utterance: audio is streaming to the hub
    doomed.kill()
    doomed.wait(10)
    finished(satellite(hub, "kitchen", speak("What time is it?"), tmp_path))
    assert [n for n, _ in tool_calls(tmp_path, "kitchen")] == ["get_time"]


def test_a_hub_restart_loses_no_timer_and_the_satellite_reconnects(
        hub: Hub, speak, tmp_path: Path) -> None:
    command = speak("Set a timer for twenty seconds.", after_s=34.0)
    room = satellite(hub, "kitchen", command, tmp_path, fast=False)
    timers = hub.data / "timers.json"
    deadline = time.monotonic() + 120
    while not (timers.exists() and "kitchen" in timers.read_text()):
        assert time.monotonic() < deadline and room.poll() is None, "no timer was set"
        time.sleep(0.2)
    hub.kill()
    restarted = Hub(hub.data, hub.port)
    try:
        output = finished(room)
    finally:
        restarted.stop()
    log = events(tmp_path, "kitchen")
    links = [e["connected"] for e in log if e["type"] == "hub"]
    links = links[links.index(True):]  # (the hub may not have been listening yet at first)
    assert links[:3] == [True, False, True], output
    spoken = [e["text"].lower() for e in log if e["type"] == "audio_out_start"]
    assert any("timer" in s and "is done" in s for s in spoken), spoken
    assert output.count("lost the hub") == 1


def test_a_satellite_without_a_hub_says_so_in_one_line(tmp_path: Path, speak) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_PATHS__DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([*CLI, "satellite", "--hub", f"127.0.0.1:{port}", "--input",
                             str(speak("Hello.")), "--name", "x"], env=env, text=True,
                            capture_output=True, timeout=200)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: satellite: no hub")
    bad = subprocess.run([*CLI, "satellite", "--hub", "nowhere"], env=env, text=True,
                         capture_output=True, timeout=60)
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr



def test_speech_over_the_answer_stops_it_in_that_room_only(
        hub: Hub, speak, tmp_path: Path) -> None:
    """The satellite pauses at once and, when the speech lasts, drops the answer and tells
    the hub, which stops generating it; the new request is then answered. The file has no
    echo of the answer in it, as with headphones (``voice.echo = "off"``): AEC3 with no echo
    to cancel eats the first half second of speech over the answer (the README's known
    limit)."""
    story = speak("Tell me a long story about a dragon and a knight.", after_s=3.5)
    then = speak("What time is it?", after_s=4.0)
    audio = np.concatenate([load_audio(story), load_audio(then)])
    save_wav(tmp_path / "both.wav", audio)
    finished(satellite(hub, "kitchen", tmp_path / "both.wav", tmp_path, fast=False,
                       ASSISTANT_VOICE__ECHO="off"))
    log = events(tmp_path, "kitchen")
    kinds = [e["type"] for e in log]
    assert "barge_in" in kinds, kinds
    stops = [e["reason"] for e in log if e["type"] == "audio_out_stop"]
    assert stops[0] == "interrupted", stops
    assert [n for n, _ in tool_calls(tmp_path, "kitchen")] == ["get_time"]
    after = log[kinds.index("barge_in"):]
    said = [e["text"] for e in after if e["type"] == "audio_out_start"]
    assert said and re.search(r"\d|o'clock|time", said[0], re.IGNORECASE), said
