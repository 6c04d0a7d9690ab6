"""assistant.speech.vad: voiced frames, the level gate, onsets (quicker over playback),
vetoed frames and the pre-roll."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import VadConfig
from assistant.speech.audio import FRAME, FRAME_S, RATE
from assistant.speech.vad import VoiceDetector, to_pcm16


def _voiced_frame(index: int = 0) -> np.ndarray:
    """A 200 Hz sawtooth (a buzz rich in harmonics, like a vowel) at 0.3: webrtcvad calls
    it speech in every mode."""
    t = (np.arange(FRAME) + index * FRAME) / RATE
    return (0.3 * (2 * ((200 * t) % 1) - 1)).astype(np.float32)


SILENCE = np.zeros(FRAME, np.float32)


def _noise(rms: float, frames: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, rms, FRAME).astype(np.float32) for _ in range(frames)]


def _pattern(detector: VoiceDetector, pattern: str) -> list[tuple[bool, bool]]:
    """Push 'V' (voiced) and '.' (silent) frames; return (voiced, onset) per frame."""
    return [detector.push(_voiced_frame(i) if c == "V" else SILENCE)
            for i, c in enumerate(pattern)]


def test_to_pcm16_scales_and_clips() -> None:
    pcm = np.frombuffer(to_pcm16(np.array([0.0, 0.5, 1.0, -1.0, 3.0, -3.0])), np.int16)
    assert pcm.tolist() == [0, 16383, 32767, -32767, 32767, -32767]
    assert len(to_pcm16(SILENCE)) == 2 * FRAME


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_test_signal_is_voiced(mode: int) -> None:
    detector = VoiceDetector(VadConfig(aggressiveness=mode))
    assert all(detector.is_voiced(_voiced_frame(i)) for i in range(20))


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_silence_is_never_voiced(mode: int) -> None:
    detector = VoiceDetector(VadConfig(aggressiveness=mode))
    results = [detector.push(SILENCE) for _ in range(50)]
    assert results == [(False, False)] * 50


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_vad_quiet_noise_is_never_voiced(mode: int) -> None:
    # Noise just under min_rms: webrtcvad alone calls some of these frames speech (checked
    # below), the level gate must not.
    frames = _noise(0.003, 60, seed=mode)
    detector = VoiceDetector(VadConfig(aggressiveness=mode, min_rms=0.004))
    assert not any(voiced for voiced, _ in (detector.push(f) for f in frames))
    ungated = VoiceDetector(VadConfig(aggressiveness=mode, min_rms=0.0))
    assert any(ungated.is_voiced(f) for f in frames), "test noise no longer fools webrtcvad"


def test_vad_allowed_false_vetoes() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    for i in range(10):
        assert detector.push(_voiced_frame(i), allowed=False) == (False, False)
    # Vetoed frames left nothing behind: onset still needs three voiced frames.
    assert detector.push(_voiced_frame(10)) == (True, False)
    assert detector.push(_voiced_frame(11)) == (True, False)
    assert detector.push(_voiced_frame(12)) == (True, True)


def test_vad_onset_needs_onset_frames_in_a_row() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    assert _pattern(detector, "VVV") == [(True, False), (True, False), (True, True)]


def test_vad_onset_over_playback_needs_only_barge_onset_frames() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, barge_onset_frames=2))
    voiced = [detector.push(_voiced_frame(i), over_playback=True) for i in range(2)]
    assert voiced == [(True, False), (True, True)]
    assert detector.onset_frames(over_playback=True) == 2
    assert detector.onset_frames(over_playback=False) == 3


def test_vad_onset_counts_voiced_frames_within_the_window() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    # V . . V V: three voiced frames within five -> onset on the fifth.
    assert [onset for _, onset in _pattern(detector, "V..VV")] == [False] * 4 + [True]

    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    # V . . . V V: the first V has left the window -> no onset yet; one more V gives it.
    assert [onset for _, onset in _pattern(detector, "V...VVV")] == [False] * 6 + [True]


def test_vad_isolated_clicks_never_make_an_onset() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    results = _pattern(detector, "V..V..V..V..V..V")
    assert not any(onset for _, onset in results)
    assert sum(voiced for voiced, _ in results) == 6


def test_vad_reset_forgets_recent_frames() -> None:
    detector = VoiceDetector(VadConfig(onset_frames=3, onset_window=5))
    _pattern(detector, "VV")
    detector.reset()
    assert _pattern(detector, "V") == [(True, False)]


@pytest.mark.parametrize(("pre_roll_s", "frames"), [(0.1, 5), (0.3, 15), (0.5, 25)])
def test_vad_pre_roll_keeps_at_most_pre_roll_s(pre_roll_s: float, frames: int) -> None:
    detector = VoiceDetector(VadConfig(pre_roll_s=pre_roll_s))
    pushed = [np.full(FRAME, i / 1000, np.float32) for i in range(40)]
    for f in pushed:
        detector.push(f, allowed=False)  # vetoed frames are still kept
    kept = list(detector.pre_roll)
    assert len(kept) == frames
    assert len(kept) * FRAME_S <= pre_roll_s + 1e-9
    for got, want in zip(kept, pushed[-frames:], strict=True):  # the newest, in order
        np.testing.assert_array_equal(got, want)


def test_vad_pre_roll_before_it_fills() -> None:
    detector = VoiceDetector(VadConfig(pre_roll_s=0.3))
    for _ in range(4):
        detector.push(SILENCE)
    assert len(detector.pre_roll) == 4
