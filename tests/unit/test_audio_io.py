"""Audio files in and out, and the file driver that stands in for a sound card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.speech.audio import (
    FRAME,
    FRAME_S,
    RATE,
    AudioError,
    Clock,
    EchoPath,
    FileDriver,
    load_audio,
    resample,
    save_wav,
)


def _sine(rate: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float64)


def _peak_hz(audio: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum)) * rate / len(audio)


# ---------------------------------------------------------------------- load_audio

FORMATS = [
    # name, rate, channels, subtype, container, seconds
    ("cd_stereo_24bit.wav", 44_100, 2, "PCM_24", "WAV", 1.0),
    ("phone_8k_u8.wav", 8_000, 1, "PCM_U8", "WAV", 1.5),
    ("studio_48k_float.wav", 48_000, 1, "FLOAT", "WAV", 0.75),
    ("voice_22k.flac", 22_050, 1, "PCM_16", "FLAC", 1.2),
    ("int32.wav", 16_000, 1, "PCM_32", "WAV", 2.0),
    ("stereo_16bit.wav", 32_000, 2, "PCM_16", "WAV", 0.5),
]


@pytest.mark.parametrize(("name", "rate", "channels", "subtype", "container", "seconds"),
                         FORMATS)
def test_load_audio_any_format_to_16k_mono_float32(
        tmp_path: Path, name: str, rate: int, channels: int, subtype: str, container: str,
        seconds: float) -> None:
    tone = _sine(rate, seconds)
    data = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    path = tmp_path / name
    sf.write(path, data, rate, subtype=subtype, format=container)

    audio = load_audio(path)

    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert len(audio) / RATE == pytest.approx(seconds, rel=0.01)
    assert _peak_hz(audio) == pytest.approx(440.0, abs=3.0)
    middle = audio[len(audio) // 4: -len(audio) // 4]
    assert np.max(np.abs(middle)) == pytest.approx(0.5, abs=0.03)


def test_load_audio_accepts_str_paths(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, _sine(RATE, 0.5), RATE)
    assert len(load_audio(str(path))) == RATE // 2


def test_load_audio_mixes_stereo_to_mono_by_averaging(tmp_path: Path) -> None:
    left = _sine(RATE, 0.5, amp=0.8)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    path = tmp_path / "left_only.wav"
    sf.write(path, stereo, RATE, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio, (left / 2).astype(np.float32), atol=1e-6)


def _assert_one_line_naming(exc: pytest.ExceptionInfo[AudioError], path: Path) -> None:
    message = str(exc.value)
    assert "\n" not in message
    assert path.name in message


def test_load_audio_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError) as exc:
        load_audio(path)
    _assert_one_line_naming(exc, path)


def test_load_audio_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    with pytest.raises(AudioError) as exc:
        load_audio(folder)
    _assert_one_line_naming(exc, folder)


def test_load_audio_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError) as exc:
        load_audio(path)
    _assert_one_line_naming(exc, path)


def test_load_audio_text_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are my shopping notes\nnot audio at all\n")
    with pytest.raises(AudioError) as exc:
        load_audio(path)
    _assert_one_line_naming(exc, path)


def test_load_audio_truncated_header(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _sine(RATE, 0.2), RATE)
    path = tmp_path / "cut.wav"
    path.write_bytes(good.read_bytes()[:20])
    with pytest.raises(AudioError) as exc:
        load_audio(path)
    _assert_one_line_naming(exc, path)


def test_load_audio_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "silent_nothing.wav"
    sf.write(path, np.zeros((0, 1)), RATE)
    assert path.stat().st_size > 0
    with pytest.raises(AudioError) as exc:
        load_audio(path)
    _assert_one_line_naming(exc, path)


# ---------------------------------------------------------------------- save_wav / resample


def test_save_wav_round_trips(tmp_path: Path) -> None:
    audio = _sine(RATE, 0.5, amp=0.7).astype(np.float32)
    with pytest.raises(AudioError, match="does not exist"):  # no folder made on a typo
        save_wav(tmp_path / "deep" / "er" / "out.wav", audio)
    assert not (tmp_path / "deep").exists()
    path = tmp_path / "out.wav"
    save_wav(path, audio)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (RATE, 1, "PCM_16")
    back = load_audio(path)
    assert len(back) == len(audio)
    np.testing.assert_allclose(back, audio, atol=2 / 32768)


def test_save_wav_clips_out_of_range_samples(tmp_path: Path) -> None:
    audio = np.array([0.0, 2.0, -3.0, 0.5] * 400, np.float32)
    path = tmp_path / "loud.wav"
    save_wav(path, audio)
    back, _ = sf.read(path, dtype="float32")
    assert back.max() == pytest.approx(1.0, abs=1e-3)
    assert back.min() == pytest.approx(-1.0, abs=1e-3)
    assert back[3] == pytest.approx(0.5, abs=1e-3)


def test_save_wav_other_rate_is_resampled_on_load(tmp_path: Path) -> None:
    path = tmp_path / "slow.wav"
    save_wav(path, _sine(8_000, 1.0).astype(np.float32), rate=8_000)
    back = load_audio(path)
    assert len(back) == pytest.approx(RATE, rel=0.01)
    assert _peak_hz(back) == pytest.approx(440.0, abs=3.0)


def test_resample_same_rate_is_identity_float32() -> None:
    x = np.linspace(-1, 1, 1000)
    y = resample(x, RATE, RATE)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-7)


@pytest.mark.parametrize("name", ["reply", "reply.txt", "reply.ogg"])
def test_save_wav_odd_extension_writes_wav_or_raises_audio_error(tmp_path: Path,
                                                                 name: str) -> None:
    path = tmp_path / name
    try:
        save_wav(path, np.zeros(1600, np.float32))
    except AudioError:
        return
    assert sf.info(path).frames == 1600


def test_save_wav_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(AudioError):
        save_wav(tmp_path / "taken" / "out.wav", np.zeros(160, np.float32))


# ---------------------------------------------------------------------- Clock


def test_clock_counts_frames_and_now_stays_within_the_frame() -> None:
    clock = Clock()
    assert clock.frames == 0
    assert 0.0 <= clock.now() <= FRAME_S
    for _ in range(7):
        clock.advance()
    assert clock.frames == 7
    assert 7 * FRAME_S <= clock.now() <= 8 * FRAME_S


# ---------------------------------------------------------------------- FileDriver


class Recorder:
    """A tick that records the microphone frames it gets and answers with ``answer(mic)``."""

    def __init__(self, answer=lambda mic: mic * 0.5) -> None:
        self.answer = answer
        self.mics: list[np.ndarray] = []

    def __call__(self, mic: np.ndarray) -> np.ndarray:
        assert mic.shape == (FRAME,)
        self.mics.append(mic.copy())
        return np.asarray(self.answer(mic), np.float32)


def _ramp(n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.float32) % 1000) / 2000.0


def test_file_driver_pads_to_whole_frames_plus_tail() -> None:
    driver = FileDriver(_ramp(1000), realtime=False, tail_s=0.1)
    # 1000 samples -> 4 frames (1280), plus 0.1 s = 5 frames of tail.
    assert len(driver.audio) == 1280 + 5 * FRAME
    assert len(driver.audio) % FRAME == 0
    np.testing.assert_array_equal(driver.audio[:1000], _ramp(1000))
    assert not driver.audio[1000:].any()


def test_file_driver_runs_every_frame_fast() -> None:
    audio = _ramp(RATE)  # 1 s: 50 frames
    driver = FileDriver(audio, realtime=False, tail_s=0.2)
    tick, clock = Recorder(), Clock()
    driver.run(tick, clock)
    frames = len(driver.audio) // FRAME
    assert frames == 50 + 10
    assert len(tick.mics) == frames
    assert clock.frames == frames
    assert len(driver.output) == len(driver.audio)
    np.testing.assert_allclose(np.concatenate(tick.mics), driver.audio)
    np.testing.assert_allclose(driver.output, driver.audio * 0.5)


def test_file_driver_output_is_what_the_tick_returned() -> None:
    driver = FileDriver(np.zeros(3 * FRAME, np.float32), realtime=False, tail_s=0.0)
    driver.run(Recorder(lambda mic: np.full(FRAME, 0.25)), Clock())
    assert len(driver.output) == 3 * FRAME
    assert np.all(driver.output == np.float32(0.25))


@pytest.mark.parametrize(("gain", "delay"), [(0.5, 3), (0.2, 1), (1.0, 0)])
def test_file_driver_echo_mixes_delayed_output_into_the_mic(gain: float, delay: int) -> None:
    driver = FileDriver(np.zeros(10 * FRAME, np.float32), realtime=False, tail_s=0.0,
                        echo=(gain, delay))
    tick = Recorder(lambda mic: np.full(FRAME, 0.1))
    driver.run(tick, Clock())
    assert len(tick.mics) == 10
    for i, mic in enumerate(tick.mics):
        # With delay 0, frame i would hear output frame i, not computed yet: silence.
        expected = gain * 0.1 if 0 < delay <= i else 0.0
        np.testing.assert_allclose(mic, expected, atol=1e-6, err_msg=f"frame {i}")


def test_file_driver_echo_adds_to_the_input() -> None:
    audio = np.full(6 * FRAME, 0.3, np.float32)
    driver = FileDriver(audio, realtime=False, tail_s=0.0, echo=(0.5, 2))
    tick = Recorder(lambda mic: np.full(FRAME, -0.2))
    driver.run(tick, Clock())
    levels = [float(m.mean()) for m in tick.mics]
    assert levels == pytest.approx([0.3, 0.3, 0.2, 0.2, 0.2, 0.2], abs=1e-6)
    np.testing.assert_array_equal(driver.audio, audio)  # the input itself is not changed


def test_file_driver_without_echo_mic_is_only_the_file() -> None:
    audio = _ramp(4 * FRAME)
    driver = FileDriver(audio, realtime=False, tail_s=0.0)
    tick = Recorder(lambda mic: np.full(FRAME, 0.9))
    driver.run(tick, Clock())
    np.testing.assert_allclose(np.concatenate(tick.mics), audio)


def test_file_driver_until_idle_adds_frames_until_true() -> None:
    driver = FileDriver(np.zeros(4 * FRAME, np.float32), realtime=False, tail_s=0.0)
    tick, clock = Recorder(lambda mic: np.full(FRAME, 0.5)), Clock()
    calls: list[int] = []

    def until_idle() -> bool:
        calls.append(len(tick.mics))
        return len(tick.mics) >= 9

    driver.run(tick, clock, until_idle=until_idle)
    assert len(tick.mics) == 9
    assert clock.frames == 9
    assert calls == [4, 5, 6, 7, 8, 9]  # asked only after the file ran out, once per frame
    assert len(driver.output) == len(driver.audio) == 9 * FRAME
    assert np.all(driver.output == np.float32(0.5))
    assert not driver.audio[4 * FRAME:].any()  # the extra frames are silence


def test_file_driver_until_idle_already_true_adds_nothing() -> None:
    driver = FileDriver(np.zeros(4 * FRAME, np.float32), realtime=False, tail_s=0.0)
    tick = Recorder()
    driver.run(tick, Clock(), until_idle=lambda: True)
    assert len(tick.mics) == 4
    assert len(driver.output) == 4 * FRAME


def test_file_driver_until_idle_gives_up_after_60_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The cap is 60 s of frames; pretend frames last 0.5 s so that is only 120 frames
    # (at 20 ms it would be 3000 frames, seconds of array copying).
    import assistant.speech.audio

    monkeypatch.setattr(assistant.speech.audio, "FRAME_S", 0.5)
    driver = FileDriver(np.zeros(FRAME, np.float32), realtime=False, tail_s=0.0)
    clock = Clock()
    driver.run(lambda mic: mic, clock, until_idle=lambda: False)
    assert clock.frames == 1 + 120
    assert len(driver.output) == clock.frames * FRAME


def test_file_driver_stop_ends_the_run_early() -> None:
    driver = FileDriver(np.zeros(20 * FRAME, np.float32), realtime=False, tail_s=0.0)
    clock = Clock()

    def tick(mic: np.ndarray) -> np.ndarray:
        if clock.frames == 4:
            driver.stopped.set()
        return np.full(FRAME, 0.1, np.float32)

    driver.run(tick, clock)
    assert clock.frames == 5
    assert driver.output[: 5 * FRAME].min() == pytest.approx(0.1)
    assert not driver.output[5 * FRAME:].any()


def test_echo_path_in_a_room_has_a_decaying_tail() -> None:
    path = EchoPath(gain=0.5, delay_frames=2, reverb_s=0.3)
    impulse = path.impulse()
    assert impulse[0] == pytest.approx(0.5)
    assert len(impulse) == int(0.3 * RATE)
    early, late = impulse[RATE // 100:RATE // 20], impulse[-RATE // 20:]
    assert np.abs(early).max() > 10 * np.abs(late).max()
    np.testing.assert_array_equal(impulse, path.impulse())  # the same room every time


def test_file_driver_echo_in_a_room_is_the_convolved_output() -> None:
    path = EchoPath(gain=0.5, delay_frames=2, reverb_s=0.05, drive=2.0)
    frames = 12
    speaker = np.random.default_rng(4).normal(0, 0.2, frames * FRAME).astype(np.float32)
    driver = FileDriver(np.zeros(frames * FRAME, np.float32), realtime=False, tail_s=0.0,
                        echo=path)
    count = iter(range(frames))
    tick = Recorder(lambda mic: speaker[next(count) * FRAME:][:FRAME])
    driver.run(tick, Clock())
    heard = np.concatenate(tick.mics)
    expected = np.convolve(path.speaker(speaker), path.impulse())[: frames * FRAME]
    expected = np.concatenate([np.zeros(2 * FRAME), expected])[: frames * FRAME]
    np.testing.assert_allclose(heard, expected, atol=1e-5)


def test_echo_path_overdrive_compresses_loud_sounds() -> None:
    path = EchoPath(drive=2.0)
    loud, quiet = path.speaker(np.array([1.0]))[0], path.speaker(np.array([0.1]))[0]
    assert loud == pytest.approx(1.0)
    assert quiet > 0.1 * 1.5  # quiet sounds are boosted relative to loud ones
    np.testing.assert_array_equal(EchoPath().speaker(np.array([0.3])), [0.3])
