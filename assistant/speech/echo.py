"""Our own voice in the microphone, cancelled: WebRTC AEC3 (``aec-audio-processing``) with
what the speaker played as its reference.

It runs only while that voice may be in the microphone, that is while the assistant speaks
and for the echo's tail after it: with no echo to cancel it would only cost CPU, most of it
while listening to silence. What AEC leaves behind is the voice loop's echo gate's business
(:mod:`assistant.voice.listener`).
"""

from __future__ import annotations

import numpy as np

from assistant.speech.audio import FRAME, FRAME_S, RATE
from assistant.speech.vad import to_pcm16

_BLOCK = RATE // 100
"""WebRTC processes 10 ms at a time."""


class EchoCanceller:
    """Cancels the speaker's sound from the microphone, one 20 ms frame at a time."""

    def __init__(self, tail_s: float) -> None:
        import aec_audio_processing

        self._aec = aec_audio_processing.AudioProcessor(enable_aec=True, enable_ns=False,
                                                        enable_agc=False, enable_vad=False)
        self._aec.set_stream_format(RATE, 1)
        self._aec.set_reverse_stream_format(RATE, 1)
        self._tail_frames = round(tail_s / FRAME_S)
        self._until = 0
        """Frame index until which the microphone may hold our own voice."""

    def process(self, index: int, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Frame ``index`` of the microphone without what ``played`` (the speaker's frame at
        the same time) put into it; ``mic`` itself when our voice cannot be in it."""
        if played.any():
            self._until = index + self._tail_frames
        if index >= self._until:
            return mic
        cleaned = []
        for i in range(0, FRAME, _BLOCK):
            self._aec.process_reverse_stream(to_pcm16(played[i:i + _BLOCK]))
            cleaned.append(np.frombuffer(self._aec.process_stream(to_pcm16(mic[i:i + _BLOCK])),
                                         np.int16))
        return np.concatenate(cleaned).astype(np.float32) / 32767
