"""assistant.speech.noise: the speech-to-noise estimate of an utterance, on a speech-like
signal (syllables of a voiced tone with pauses, between stretches of the room alone)."""

import numpy as np
import pytest

from assistant.speech.audio import RATE
from assistant.speech.noise import CEILING_DB, snr_db


def utterance(seconds: float = 2.0) -> np.ndarray:
    """0.3 s of nothing, syllables (0.2 s of a 150 Hz voice with harmonics, 0.1 s pause),
    then 0.5 s of nothing: how the voice loop keeps an utterance."""
    t = np.arange(int(0.2 * RATE)) / RATE
    syllable = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    syllable *= np.hanning(len(syllable))
    pause = np.zeros(int(0.1 * RATE))
    words = np.concatenate([np.concatenate([syllable, pause])
                            for _ in range(int(seconds / 0.3))])
    return np.concatenate([np.zeros(int(0.3 * RATE)), words,
                           np.zeros(int(0.5 * RATE))]).astype(np.float32)


@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0])
def test_white_noise_at_a_known_ratio_reads_close_to_it(snr: float) -> None:
    speech = utterance()
    voiced = speech[np.abs(speech) > 1e-3]
    noise = np.random.default_rng(1).standard_normal(len(speech))
    noise *= np.sqrt(np.mean(voiced ** 2) / (np.mean(noise ** 2) * 10 ** (snr / 10)))
    estimate = snr_db((speech + noise).astype(np.float32))
    assert estimate is not None and abs(estimate - snr) < 3


def test_the_estimate_orders_rooms_by_their_noise() -> None:
    speech = utterance()
    noise = np.random.default_rng(2).standard_normal(len(speech)).astype(np.float32)
    estimates = [snr_db(speech + noise * level) for level in (0.01, 0.05, 0.2, 0.5)]
    assert estimates == sorted(estimates, reverse=True)


def test_digital_silence_around_the_words_is_the_ceiling() -> None:
    assert snr_db(utterance()) == CEILING_DB


def test_noise_alone_has_no_speech_above_it() -> None:
    noise = np.random.default_rng(3).standard_normal(2 * RATE).astype(np.float32)
    assert snr_db(noise) < 3


def test_too_short_or_empty_audio_tells_nothing() -> None:
    assert snr_db(np.zeros(int(0.3 * RATE), np.float32)) is None
    assert snr_db(np.zeros(0, np.float32)) is None
