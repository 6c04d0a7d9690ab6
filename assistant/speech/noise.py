"""How loud the room is under the user's words: a signal-to-noise estimate of one utterance.

Whisper tiny.en's word probabilities mean less in a noisy room: in babble at 5 dB it heard
"two minutes and ten seconds" as "15 minutes and 10 seconds" with "15" at 0.62, and its beam
search agreed, so neither the probabilities nor a second decode could tell. The turn asks
back a command's values in such a room unless it heard them very surely
(:mod:`assistant.understand.hearing`), and this module says when the room is such a room.

An utterance as the voice loop keeps it starts with the VAD's pre-roll and ends with the
silence that ended it, and speech has pauses between words: its quietest tenth-seconds are
the room alone. The estimate is the power of the loudest half over that of the quietest
fifth (the speech's own power, less the noise under it). Measured on the trust cases' audio
(espeak-ng and Piper, 0.3 s of noise either side): white noise at 20, 10 and 5 dB reads
20-22, 10-12 and 5-7 dB; talkers' babble, whose own pauses let some frames through, reads
about 3 dB high (20-24, 11-14 and 6-10 dB).
"""

from __future__ import annotations

import math

import numpy as np

from assistant.speech.audio import RATE

FRAME_S = 0.1
"""Frames this long: long enough that babble's power in them is steady, short enough that
the pauses between words are frames of their own."""
QUIET_SHARE = 0.2
"""The share of the frames, the quietest, taken as the room without the speaker."""
MIN_FRAMES = 5
CEILING_DB = 60.0
"""Digital silence has no noise: the estimate stops here."""


def snr_db(audio: np.ndarray, rate: int = RATE) -> float | None:
    """The estimated speech-to-noise ratio of ``audio`` (mono float) in dB, at most
    :data:`CEILING_DB`; None when it is too short to tell (under half a second)."""
    size = int(FRAME_S * rate)
    n = len(audio) // size
    if n < MIN_FRAMES:
        return None
    frames = np.asarray(audio[: n * size], np.float64).reshape(n, size)
    power = np.sort((frames ** 2).mean(axis=1))
    noise = float(power[: max(1, int(n * QUIET_SHARE))].mean())
    speech = float(power[n // 2:].mean()) - noise
    if speech <= 0:
        return 0.0
    if noise <= speech * 10 ** (-CEILING_DB / 10):
        return CEILING_DB
    return round(10 * math.log10(speech / noise), 1)
