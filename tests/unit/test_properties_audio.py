"""Properties of audio decoding (every file the assistant is given: `voice --input`,
`transcribe`): any bytes, truncated or mislabelled files, NaN and infinities, many channels,
nothing at all, give clean 16 kHz mono audio or one line of AudioError."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from assistant.speech.audio import RATE, AudioError, load_audio, stream_audio

SUFFIXES = st.sampled_from([".wav", ".flac", ".ogg", ".mp3", ".txt", ""])
FORMATS = st.sampled_from([("WAV", "FLOAT"), ("WAV", "PCM_16"), ("WAV", "DOUBLE"),
                           ("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("WAV", "PCM_U8")])
SAMPLES = st.floats(width=32)  # NaN, infinities, huge and tiny values included


@st.composite
def audio_files(draw: st.DrawFn) -> bytes:
    """A real file of some format, with any samples, perhaps cut short."""
    container, subtype = draw(FORMATS)
    channels = draw(st.integers(1, 6))
    frames = draw(st.integers(1, 3000))
    rate = draw(st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000, 96000]))
    data = draw(arrays(np.float32, (frames, channels), elements=SAMPLES))
    if subtype not in ("FLOAT", "DOUBLE"):  # only float formats can hold what is not a number
        data = np.clip(np.nan_to_num(data), -1, 1)
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format=container, subtype=subtype)
    raw = buffer.getvalue()
    return raw[:draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw


def _holds(path: Path) -> None:
    try:
        audio = load_audio(path)
    except AudioError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert audio.dtype == np.float32 and audio.ndim == 1 and len(audio) > 0
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(audio_files(), st.binary(max_size=2000), st.just(b"")),
       suffix=SUFFIXES)
def test_any_file_is_clean_audio_or_one_line(folder: Path, content: bytes, suffix: str) -> None:
    """What must hold: whatever the bytes and whatever the name says (a WAV called .mp3, a
    FLAC cut in half, 6 channels of NaN, 0 bytes), the result is 16 kHz mono float32, finite
    and within [-1, 1], or an AudioError of one line naming the file."""
    path = folder / f"input{suffix}"
    path.write_bytes(content)
    _holds(path)


def test_the_documented_cases(folder: Path) -> None:
    six = np.full((RATE, 6), np.nan, np.float32)
    six[::2, 3] = np.inf
    six[1::2, 5] = -1e30
    path = folder / "six.wav"
    sf.write(path, six, RATE, subtype="FLOAT")
    audio = load_audio(path)
    assert len(audio) == RATE and np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="not a readable audio file"):
        load_audio(empty)
    header_only = folder / "header.wav"
    sf.write(header_only, np.zeros((0, 1), np.float32), RATE)
    with pytest.raises(AudioError, match="contains no audio"):
        list(stream_audio(header_only))
