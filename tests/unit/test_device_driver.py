"""The sound-card path with a fake PortAudio: DeviceDriver must hand the loop 16 kHz microphone
frames and play what the loop returns, whatever rate the device runs at, with the microphone
and the speaker as two streams."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pytest

from assistant.speech.audio import FRAME, RATE, AudioError, Clock, DeviceDriver


class FakeOutput:
    """A speaker: records what its callback fills, one block per microphone block."""

    last: ClassVar[FakeOutput]

    def __init__(self, *, samplerate, blocksize, channels, dtype, device, callback):
        self.kwargs = {"samplerate": samplerate, "blocksize": blocksize, "channels": channels,
                       "dtype": dtype, "device": device}
        self.callback = callback
        self.played: list[np.ndarray] = []
        self.active = True
        FakeOutput.last = self

    def pull(self) -> None:
        outdata = np.zeros((self.kwargs["blocksize"], 1), np.float32)
        self.callback(outdata, len(outdata), None, None)
        self.played.append(outdata[:, 0].copy())

    def __enter__(self) -> FakeOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeInput:
    """A microphone: calls its callback like PortAudio would, from its own thread, with
    ``signal(i, blocksize)`` for block i, has the speaker pull a block after each, then stops
    the driver (or dies after the first block, as a failing back end does)."""

    last: ClassVar[FakeInput]
    driver: ClassVar[DeviceDriver]
    blocks = 10
    dies = False
    signal: Callable[[int, int], np.ndarray] = staticmethod(
        lambda i, n: np.full(n, i / 100, np.float32))

    def __init__(self, *, samplerate, blocksize, channels, dtype, device, callback):
        self.kwargs = {"samplerate": samplerate, "blocksize": blocksize, "channels": channels,
                       "dtype": dtype, "device": device}
        self.callback = callback
        self.active = True
        FakeInput.last = self

    def __enter__(self) -> FakeInput:
        def pump() -> None:
            n = self.kwargs["blocksize"]
            for i in range(self.blocks):
                self.callback(self.signal(i, n)[:, None], n, None, None)
                FakeOutput.last.pull()
                if self.dies:
                    self.active = False
                    return
            FakeInput.driver.stopped.set()

        self.thread = threading.Thread(target=pump)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join()


def fake_sounddevice(fail: bool = False, only_rate: int | None = None) -> types.ModuleType:
    sd = types.ModuleType("sounddevice")

    def check(device=None, channels=None, samplerate=None):
        if fail:
            raise ValueError("No input device matching 'usb'")
        if only_rate and samplerate != only_rate:
            raise ValueError("Invalid sample rate")

    sd.check_input_settings = check
    sd.check_output_settings = check
    if only_rate:
        sd.query_devices = lambda device, kind: {"default_samplerate": float(only_rate)}
    sd.InputStream = FakeInput
    sd.OutputStream = FakeOutput
    return sd


def _driver(monkeypatch: pytest.MonkeyPatch, sd: types.ModuleType, *device) -> DeviceDriver:
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    driver = DeviceDriver(*device)
    FakeInput.driver = driver
    return driver


def test_device_driver_runs_the_loop_on_two_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = _driver(monkeypatch, fake_sounddevice(), "usb mic", 3)
    heard: list[float] = []

    def tick(mic: np.ndarray) -> np.ndarray:
        heard.append(float(mic[0]))
        return np.full(FRAME, 0.25, np.float32)

    clock = Clock()
    driver.run(tick, clock)
    common = {"samplerate": RATE, "blocksize": FRAME, "channels": 1, "dtype": "float32"}
    assert FakeInput.last.kwargs == {**common, "device": "usb mic"}
    assert FakeOutput.last.kwargs == {**common, "device": 3}
    assert heard == pytest.approx([i / 100 for i in range(10)])
    assert all(np.allclose(block, 0.25) for block in FakeOutput.last.played)
    assert clock.frames == 10


def test_missing_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(fail=True))
    with pytest.raises(AudioError, match=r"no usable microphone/speaker.*assistant chat"):
        DeviceDriver("usb", None)


def test_a_stream_that_dies_is_a_clear_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = _driver(monkeypatch, fake_sounddevice())
    monkeypatch.setattr(FakeInput, "dies", True)
    with pytest.raises(AudioError, match="stopped delivering audio"):
        driver.run(lambda mic: np.zeros(FRAME, np.float32), Clock())


def _dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_a_48_khz_only_device_is_resampled_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that refuses 16 kHz is opened at its own rate; the loop still gets 16 kHz
    frames of what the microphone heard, and the speaker gets what the loop said."""
    rate, blocks = 48000, 50
    driver = _driver(monkeypatch, fake_sounddevice(only_rate=rate))
    assert driver.rate == rate
    t48 = np.arange(blocks * 960) / rate
    mic = (0.5 * np.sin(2 * np.pi * 440 * t48)).astype(np.float32)
    monkeypatch.setattr(FakeInput, "blocks", blocks)
    monkeypatch.setattr(FakeInput, "signal", staticmethod(lambda i, n: mic[i * n:(i + 1) * n]))
    heard: list[np.ndarray] = []
    t16 = np.arange(FRAME) / RATE

    def tick(frame: np.ndarray) -> np.ndarray:
        assert frame.shape == (FRAME,)
        heard.append(frame)
        return (0.5 * np.sin(2 * np.pi * 1000 * (t16 + len(heard) * FRAME / RATE))).astype(
            np.float32)

    clock = Clock()
    driver.run(tick, clock)
    assert FakeInput.last.kwargs["blocksize"] == 960
    assert blocks - 2 <= clock.frames <= blocks  # the resampler holds back a few ms
    assert _dominant_hz(np.concatenate(heard)[FRAME * 5:], RATE) == pytest.approx(440, abs=5)
    speaker = np.concatenate(FakeOutput.last.played)[960 * 5:]
    assert _dominant_hz(speaker, rate) == pytest.approx(1000, abs=10)
    assert 0.3 < np.abs(speaker).max() < 0.6
