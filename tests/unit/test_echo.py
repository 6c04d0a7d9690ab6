"""assistant.speech.echo: the echo canceller runs only while our voice may be in the microphone."""

from __future__ import annotations

import itertools

import numpy as np

from assistant.speech.audio import FRAME, FRAME_S
from assistant.speech.echo import EchoCanceller


def test_echo_canceller_runs_only_while_our_voice_may_be_heard() -> None:
    aec = EchoCanceller(tail_s=1.0)
    mic = np.full(FRAME, 0.01, np.float32)
    frames = itertools.count()

    def cancelled(played: float, n: int) -> list[bool]:
        out = np.full(FRAME, played, np.float32)
        return [aec.process(next(frames), mic, out) is not mic for _ in range(n)]

    assert cancelled(0.0, 10) == [False] * 10  # listening to silence: nothing to cancel
    assert cancelled(0.1, 5) == [True] * 5
    tail = round(1.0 / FRAME_S)
    assert cancelled(0.0, tail + 10) == [True] * (tail - 1) + [False] * 11  # the echo's tail
