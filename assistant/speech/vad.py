"""Voice activity detection: webrtcvad on 20 ms frames, turned into speech segments with a
pre-roll (so the first phoneme is not clipped) and an onset requirement (so a click is not
speech), and Silero VAD to confirm a finished utterance. End of speech is decided by the voice
loop, which knows the partial transcript."""

from __future__ import annotations

from collections import deque

import numpy as np
import webrtcvad

from assistant.config import VadConfig
from assistant.speech.audio import FRAME, FRAME_S, RATE


def to_pcm16(frame: np.ndarray) -> bytes:
    return (np.clip(frame, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


class VoiceDetector:
    """Per-frame voiced/unvoiced decisions plus an onset detector and a pre-roll buffer."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._vad = webrtcvad.Vad(self.config.aggressiveness)
        self._recent: deque[bool] = deque(maxlen=self.config.onset_window)
        self.pre_roll: deque[np.ndarray] = deque(maxlen=int(self.config.pre_roll_s / FRAME_S))

    def is_voiced(self, frame: np.ndarray) -> bool:
        if float(np.sqrt(np.mean(frame * frame))) < self.config.min_rms:
            return False
        return self._vad.is_speech(to_pcm16(frame), RATE)

    def onset_frames(self, over_playback: bool) -> int:
        c = self.config
        return c.barge_onset_frames if over_playback else c.onset_frames

    def push(self, frame: np.ndarray, allowed: bool = True,
             over_playback: bool = False) -> tuple[bool, bool]:
        """(this frame voiced, speech onset now). Keeps the pre-roll up to date.
        ``allowed=False`` vetoes the frame (the echo gate judged it the assistant's voice);
        ``over_playback``: the assistant is talking (a quicker onset, see
        ``VadConfig.barge_onset_frames``)."""
        voiced = allowed and self.is_voiced(frame)
        self._recent.append(voiced)
        self.pre_roll.append(frame)
        onset = voiced and sum(self._recent) >= self.onset_frames(over_playback)
        return voiced, onset

    def reset(self) -> None:
        self._recent.clear()


assert FRAME in (160, 320, 480), "webrtcvad takes 10, 20 or 30 ms frames"


def silero_confirms(audio: np.ndarray, threshold: float) -> bool:
    """Second opinion from Silero VAD (its ONNX model ships inside faster-whisper): does this
    utterance contain speech at all? webrtcvad fires on steady noise; Silero rarely does, and
    Whisper would happily 'transcribe' the noise."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_speech_duration_ms=120,
                         min_silence_duration_ms=100, speech_pad_ms=0)
    return bool(get_speech_timestamps(audio, vad_options=options, sampling_rate=RATE))
