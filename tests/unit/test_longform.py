"""assistant.speech.longform: which audio reaches Whisper, in what pieces, at what times
(Silero VAD is real; the recogniser is a stand-in that records what it is given)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile as sf
import soxr

from assistant.speech.asr import Transcript
from assistant.speech.audio import RATE, stream_audio
from assistant.speech.longform import PIECE_S, WINDOW_S, transcribe_blocks
from tests.fixtures.speech import espeak, silence


@dataclass
class Recording:
    """Takes the place of the Recognizer: says how long each piece was."""

    pieces: list[np.ndarray] = field(default_factory=list)

    def transcribe(self, audio: np.ndarray, beam: bool = False) -> Transcript:
        self.pieces.append(audio)
        return Transcript(f"{len(audio) / RATE:.1f} s")


@pytest.fixture(scope="module")
def words() -> np.ndarray:
    return espeak("remind me to call my mother tomorrow morning")


def blocks(audio: np.ndarray, block_s: float = 4.0) -> list[np.ndarray]:
    size = int(block_s * RATE)
    return [audio[i:i + size] for i in range(0, len(audio), size)]


def test_speech_across_a_window_boundary_is_decoded_whole(words: np.ndarray) -> None:
    at = WINDOW_S - 0.5 * len(words) / RATE  # the words straddle the first window's end
    audio = np.concatenate([silence(at), words, silence(20)])
    recogniser = Recording()
    segments = list(transcribe_blocks(blocks(audio), recogniser, 0.5))  # type: ignore[arg-type]
    assert len(recogniser.pieces) == 1
    (segment,) = segments
    assert segment.start <= at and segment.end >= at + len(words) / RATE
    assert segment.start > at - 0.5 and segment.end < at + len(words) / RATE + 0.5


def test_only_speech_reaches_whisper_and_pieces_stay_short(words: np.ndarray) -> None:
    """Two minutes of talk with pauses: every piece is at most PIECE_S; silence and noise
    between the talk never reach the recogniser."""
    rng = np.random.default_rng(1)
    parts = [rng.normal(0, 0.2, 5 * RATE).astype(np.float32), silence(3)]
    for _ in range(12):
        parts += [words, silence(0.6)]
    parts.append(silence(40))
    recogniser = Recording()
    segments = list(transcribe_blocks(blocks(np.concatenate(parts)), recogniser, 0.5))  # type: ignore[arg-type]
    assert recogniser.pieces and all(len(p) <= PIECE_S * RATE for p in recogniser.pieces)
    spoken = 12 * len(words) / RATE
    heard = sum(len(p) for p in recogniser.pieces) / RATE
    assert spoken <= heard < spoken + 12 * 0.6 + 1
    assert segments[0].start >= 8 - 0.3  # not the noise, not the silence
    assert [s.start for s in segments] == sorted(s.start for s in segments)


def test_nothing_in_nothing_out() -> None:
    recogniser = Recording()
    assert list(transcribe_blocks(blocks(silence(70)), recogniser, 0.5)) == []  # type: ignore[arg-type]
    assert list(transcribe_blocks([], recogniser, 0.5)) == []  # type: ignore[arg-type]
    assert recogniser.pieces == []


def test_stream_audio_resamples_blockwise_like_the_whole(tmp_path) -> None:
    rng = np.random.default_rng(2)
    stereo = rng.uniform(-0.5, 0.5, (44_100 * 9, 2)).astype(np.float32)
    sf.write(tmp_path / "in.wav", stereo, 44_100, subtype="FLOAT")
    streamed = list(stream_audio(tmp_path / "in.wav", block_s=1.0))
    assert len(streamed) > 8
    whole = soxr.resample(stereo.mean(axis=1), 44_100, RATE)
    joined = np.concatenate(streamed)
    assert abs(len(joined) - len(whole)) <= 2
    n = min(len(joined), len(whole))
    assert np.max(np.abs(joined[:n] - whole[:n])) < 1e-3
