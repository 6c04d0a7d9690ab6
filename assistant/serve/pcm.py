"""Raw PCM as Wyoming carries it, to and from the 16 kHz float32 frames the models use."""

from __future__ import annotations

import numpy as np
import soxr

from assistant.speech.audio import FRAME, RATE

WIDTHS = {1: np.uint8, 2: np.int16, 4: np.int32}
"""Sample width in bytes → its PCM type (8-bit PCM is unsigned, as in WAV)."""


class FormatError(ValueError):
    """An audio format this server cannot take."""


def check_format(rate: object, width: object, channels: object) -> tuple[int, int, int]:
    """The format as ints, or a :class:`FormatError` that says what is wrong."""
    if not isinstance(rate, int) or not 8000 <= rate <= 96000:
        raise FormatError(f"sample rate {rate!r} is not supported (8000-96000 Hz)")
    if width not in WIDTHS:
        raise FormatError(f"sample width {width!r} is not supported (1, 2 or 4 bytes)")
    if not isinstance(channels, int) or not 1 <= channels <= 8:
        raise FormatError(f"{channels!r} channels is not supported (1-8)")
    return rate, width, channels


class Incoming:
    """Chunks of one format in, whole 20 ms frames at 16 kHz mono out (channels averaged,
    resampled by soxr as a stream, so chunk edges leave no clicks)."""

    def __init__(self, rate: int, width: int, channels: int) -> None:
        self.rate, self.width, self.channels = check_format(rate, width, channels)
        self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="float32") \
            if rate != RATE else None
        self._rest = np.zeros(0, np.float32)
        self._odd = b""
        """Bytes of a sample split across chunks."""
        self.seconds = 0.0
        """Audio taken in so far."""

    def frames(self, pcm: bytes, last: bool = False) -> list[np.ndarray]:
        step = self.width * self.channels
        pcm = self._odd + pcm
        whole = len(pcm) - len(pcm) % step
        pcm, self._odd = pcm[:whole], pcm[whole:]
        samples = np.frombuffer(pcm, WIDTHS[self.width]).astype(np.float32)
        if self.width == 1:
            samples = (samples - 128.0) / 128.0
        else:
            samples /= float(2 ** (8 * self.width - 1))
        mono = samples.reshape(-1, self.channels).mean(axis=1)
        self.seconds += len(mono) / self.rate
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono, last=last)
        audio = np.concatenate([self._rest, mono.astype(np.float32)])
        n = len(audio) // FRAME
        self._rest = audio[n * FRAME:]
        return [audio[i * FRAME:(i + 1) * FRAME] for i in range(n)]

