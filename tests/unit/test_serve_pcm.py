"""Wyoming PCM to 16 kHz frames (assistant.serve.pcm)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.serve.pcm import FormatError, Incoming
from assistant.speech.audio import FRAME, RATE


def tone(rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def frames_of(incoming: Incoming, pcm: bytes, chunk: int) -> np.ndarray:
    out = []
    for i in range(0, len(pcm), chunk):
        out += incoming.frames(pcm[i:i + chunk], last=i + chunk >= len(pcm))
    assert all(len(f) == FRAME for f in out)
    return np.concatenate(out)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_any_rate_becomes_16_khz_of_the_same_sound(rate: int) -> None:
    pcm = (tone(rate) * 32767).astype("<i2").tobytes()
    audio = frames_of(Incoming(rate, 2, 1), pcm, chunk=2047)  # odd: samples split across chunks
    assert abs(len(audio) - RATE) <= FRAME
    peak = np.abs(np.fft.rfft(audio[2000:14000])).argmax() * RATE / 12000
    assert abs(peak - 440) < 5
    assert 0.3 < np.sqrt(np.mean(audio[2000:14000] ** 2)) < 0.4


def test_channels_are_mixed_and_widths_scaled() -> None:
    left = tone(RATE)
    stereo = np.stack([left, -left * 0], axis=1).reshape(-1)
    pcm32 = (stereo * 2**31 * 0.99).astype("<i4").tobytes()
    audio = frames_of(Incoming(RATE, 4, 2), pcm32, chunk=4000)
    assert np.allclose(audio, left[:len(audio)] * 0.99 / 2, atol=1e-3)
    pcm8 = ((left * 127) + 128).astype(np.uint8).tobytes()
    audio8 = frames_of(Incoming(RATE, 1, 1), pcm8, chunk=1000)
    assert np.allclose(audio8, left[:len(audio8)], atol=0.02)


@pytest.mark.parametrize(("rate", "width", "channels", "words"), [
    (0, 2, 1, "sample rate"), (16000, 3, 1, "sample width"), (16000, 2, 0, "channels"),
    ("16000", 2, 1, "sample rate"), (16000, None, 1, "sample width"),
])
def test_a_bad_format_is_named(rate: object, width: object, channels: object,
                               words: str) -> None:
    with pytest.raises(FormatError, match=words):
        Incoming(rate, width, channels)
