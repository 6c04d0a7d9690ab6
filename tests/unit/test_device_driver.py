"""The sound-card path with a fake PortAudio: DeviceDriver must hand the loop microphone
blocks and play what the loop returns, in 20 ms blocks at 16 kHz, full duplex."""

from __future__ import annotations

import sys
import threading
import types
from typing import ClassVar

import numpy as np
import pytest

from assistant.audio import FRAME, RATE, AudioError, Clock, DeviceDriver


class FakeStream:
    """Calls the callback like PortAudio would, from its own thread, then stops the driver."""

    instances: ClassVar[list[FakeStream]] = []
    driver: ClassVar[DeviceDriver]

    dies = False
    """Stop after the first block, as a failing PortAudio back end does."""

    def __init__(self, *, samplerate, blocksize, channels, dtype, device, callback):
        self.kwargs = {"samplerate": samplerate, "blocksize": blocksize, "channels": channels,
                       "dtype": dtype, "device": device}
        self.callback = callback
        self.played: list[np.ndarray] = []
        self.active = True
        FakeStream.instances.append(self)

    def __enter__(self) -> FakeStream:
        def pump() -> None:
            for i in range(10):
                indata = np.full((FRAME, 1), i / 100, np.float32)
                outdata = np.zeros((FRAME, 1), np.float32)
                self.callback(indata, outdata, FRAME, None, None)
                self.played.append(outdata.copy())
                if FakeStream.dies:
                    self.active = False
                    return
            FakeStream.driver.stopped.set()

        self.thread = threading.Thread(target=pump)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join()


def fake_sounddevice(fail: bool = False) -> types.ModuleType:
    sd = types.ModuleType("sounddevice")

    def check(device=None, channels=None, samplerate=None):
        if fail:
            raise ValueError("No input device matching 'usb'")

    sd.check_input_settings = check
    sd.check_output_settings = check
    sd.Stream = FakeStream
    return sd


def test_device_driver_runs_the_loop_full_duplex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())
    driver = DeviceDriver("usb mic", 3)
    FakeStream.driver = driver
    heard: list[float] = []

    def tick(mic: np.ndarray) -> np.ndarray:
        heard.append(float(mic[0]))
        return np.full(FRAME, 0.25, np.float32)

    clock = Clock()
    driver.run(tick, clock)
    stream = FakeStream.instances[-1]
    assert stream.kwargs == {"samplerate": RATE, "blocksize": FRAME, "channels": 1,
                             "dtype": "float32", "device": ("usb mic", 3)}
    assert heard == pytest.approx([i / 100 for i in range(10)])
    assert all(np.allclose(block, 0.25) for block in stream.played)
    assert clock.frames == 10


def test_missing_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(fail=True))
    with pytest.raises(AudioError, match=r"no usable microphone/speaker.*assistant chat"):
        DeviceDriver("usb", None)


def test_a_stream_that_dies_is_a_clear_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())
    monkeypatch.setattr(FakeStream, "dies", True)
    driver = DeviceDriver()
    FakeStream.driver = driver
    with pytest.raises(AudioError, match="stopped delivering audio"):
        driver.run(lambda mic: np.zeros(FRAME, np.float32), Clock())


def _dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_a_48_khz_only_device_is_resampled_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that refuses 16 kHz is opened at its own rate; the loop still gets 16 kHz
    frames of what the microphone heard, and the speaker gets what the loop said."""
    rate, blocks = 48000, 50
    sd = fake_sounddevice()

    def check(device=None, channels=None, samplerate=None):
        if samplerate != rate:
            raise ValueError("Invalid sample rate")

    sd.check_input_settings = sd.check_output_settings = check
    sd.query_devices = lambda device, kind: {"default_samplerate": float(rate)}
    played: list[np.ndarray] = []

    class Stream48:
        def __init__(self, *, samplerate, blocksize, channels, dtype, device, callback):
            assert (samplerate, blocksize) == (rate, 960)
            self.callback, self.active = callback, True

        def __enter__(self):
            t = np.arange(blocks * 960) / rate
            mic = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for i in range(blocks):
                out = np.zeros((960, 1), np.float32)
                self.callback(mic[i * 960:(i + 1) * 960, None], out, 960, None, None)
                played.append(out[:, 0].copy())
            driver.stopped.set()
            return self

        def __exit__(self, *exc):
            pass

    sd.Stream = Stream48
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    driver = DeviceDriver()
    assert driver.rate == rate
    heard: list[np.ndarray] = []
    t16 = np.arange(FRAME) / RATE

    def tick(frame: np.ndarray) -> np.ndarray:
        assert frame.shape == (FRAME,)
        heard.append(frame)
        return (0.5 * np.sin(2 * np.pi * 1000 * (t16 + len(heard) * FRAME / RATE))).astype(
            np.float32)

    clock = Clock()
    driver.run(tick, clock)
    assert blocks - 2 <= clock.frames <= blocks  # the resampler holds back a few ms
    mic16 = np.concatenate(heard)[FRAME * 5:]
    assert _dominant_hz(mic16, RATE) == pytest.approx(440, abs=5)
    speaker = np.concatenate(played)[960 * 5:]
    assert _dominant_hz(speaker, rate) == pytest.approx(1000, abs=10)
    assert 0.3 < np.abs(speaker).max() < 0.6
