"""Audio I/O: reading and writing files, and the two clocks that drive the voice loop.

Everything inside the loop is 16 kHz mono float32 in frames of :data:`FRAME` samples (20 ms).
A *driver* owns time: every 20 ms it hands the loop one microphone frame and takes back one
speaker frame, like a full-duplex sound card. :class:`DeviceDriver` does that with a real
sound card (sounddevice); :class:`FileDriver` does it with a file as the microphone and a
buffer as the speaker, so tests and benchmarks see exactly the live timeline.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from assistant import AssistantError

RATE = 16_000
"""Sample rate of everything inside the loop."""
FRAME = 320
"""Samples per frame: 20 ms at 16 kHz."""
FRAME_S = FRAME / RATE

Tick = Callable[[np.ndarray], np.ndarray]
"""The loop's per-frame function: microphone frame in, speaker frame out."""


class AudioError(AssistantError):
    """An audio file or device cannot be used."""


BLOCK_S = 4.0
"""Seconds of a file read at once by :func:`stream_audio`."""
_READ_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError)


def load_audio(path: str | Path) -> np.ndarray:
    """Any WAV/FLAC/OGG file (any rate, channels, bit depth) → 16 kHz mono float32, whole
    (see :func:`stream_audio` for what is cleaned)."""
    return np.concatenate(list(stream_audio(path)))


def stream_audio(path: str | Path, block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """Any WAV/FLAC/OGG file → 16 kHz mono float32 blocks of about ``block_s`` seconds,
    read and resampled as they are consumed: memory does not grow with the file's length.
    NaN samples become silence, infinities and float samples beyond [-1, 1] are clipped
    (Whisper heard "!" in NaN). The file is opened now: a missing or unreadable one is an
    :class:`AudioError` here; one that holds no audio, or is corrupt further on, is one when
    the blocks get there."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        file = sf.SoundFile(path)
    except _READ_ERRORS as exc:
        raise AudioError(f"{path} is not a readable audio file ({exc})") from None
    return _blocks(path, file, block_s)


def _blocks(path: Path, file: sf.SoundFile, block_s: float) -> Iterator[np.ndarray]:
    with file:
        resampler = None if file.samplerate == RATE else \
            soxr.ResampleStream(file.samplerate, RATE, 1, dtype="float32")
        size = max(1, int(block_s * file.samplerate))
        read = given = 0
        while True:
            try:
                data = file.read(size, dtype="float32", always_2d=True)
            except _READ_ERRORS as exc:
                raise AudioError(f"{path} is corrupt after {read / file.samplerate:.1f} s "
                                 f"({exc})") from None
            last = len(data) < size
            read += len(data)
            if read == 0:
                raise AudioError(f"{path} contains no audio")
            mono = np.clip(np.nan_to_num(data, nan=0.0), -1.0, 1.0).mean(axis=1)
            if resampler is not None:  # its ringing takes full-scale input past ±1: clip again
                mono = np.clip(resampler.resample_chunk(mono.astype(np.float32), last=last),
                               -1.0, 1.0)
            if len(mono):
                given += len(mono)
                yield mono.astype(np.float32, copy=False)
            if last:
                if not given:  # a few samples at a high rate resample to none
                    raise AudioError(f"{path} is too short to hold any audio")
                return


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return np.ascontiguousarray(audio, dtype=np.float32)
    return soxr.resample(audio.astype(np.float32), rate_in, rate_out).astype(np.float32)


def save_wav(path: str | Path, audio: np.ndarray, rate: int = RATE) -> None:
    with AudioWriter(path, rate) as out:
        out.write(audio)


class AudioWriter:
    """A WAV or FLAC file (16-bit) written as the audio comes, so that memory does not grow
    with its length. The folder must exist. A failed write removes the partial file."""

    def __init__(self, path: str | Path, rate: int = RATE) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in (".wav", ".flac"):
            raise AudioError(f"cannot write {self.path}: give a .wav or .flac file name")
        if not self.path.parent.is_dir():
            raise AudioError(f"cannot write {self.path}: the folder {self.path.parent} "
                             "does not exist")
        self.rate = rate
        self.seconds = 0.0
        self._file: sf.SoundFile | None = None

    def __enter__(self) -> AudioWriter:
        try:
            self._file = sf.SoundFile(self.path, "w", self.rate, 1, "PCM_16")
        except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as exc:
            raise AudioError(f"cannot write {self.path}: {exc}") from None
        return self

    def write(self, audio: np.ndarray) -> None:
        assert self._file is not None, "use AudioWriter in a with block"
        try:
            self._file.write(np.clip(np.nan_to_num(audio), -1.0, 1.0))
        except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
            raise AudioError(f"cannot write {self.path}: {exc}") from None
        self.seconds += len(audio) / self.rate

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self._file is not None:
            with contextlib.suppress(sf.LibsndfileError, RuntimeError, OSError):
                self._file.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)


class Clock:
    """Time on the input timeline: frames processed × 20 ms, refined by the wall time since
    the last frame (so events raised between frames get a sensible stamp)."""

    def __init__(self) -> None:
        self.frames = 0
        self._wall = time.perf_counter()
        self._lock = threading.Lock()

    def advance(self) -> None:
        with self._lock:
            self.frames += 1
            self._wall = time.perf_counter()

    def now(self) -> float:
        with self._lock:
            since = min(time.perf_counter() - self._wall, FRAME_S)
            return self.frames * FRAME_S + since


@dataclass(frozen=True)
class EchoPath:
    """How a loudspeaker's sound comes back into the microphone, for simulated input."""

    gain: float = 0.5
    """Level of the direct sound at the microphone."""
    delay_frames: int = 5
    """Playback-to-microphone latency, in 20 ms frames (at least 1)."""
    reverb_s: float = 0.0
    """Reverberation time (RT60) of the room's tail after the direct sound; 0 = none."""
    drive: float = 0.0
    """Loudspeaker overdrive (tanh): a non-linear echo, which AEC cannot fully cancel."""

    def impulse(self) -> np.ndarray:
        """The room's impulse response (direct sound, then a decaying noise tail)."""
        if self.reverb_s <= 0:
            return np.array([self.gain], np.float32)
        t = np.arange(int(self.reverb_s * RATE)) / RATE
        tail = np.random.default_rng(0).normal(0, 0.05, len(t)) * np.exp(-6.9 * t / self.reverb_s)
        tail[: RATE // 200] = 0  # first reflections arrive after ~5 ms
        tail[0] = 1.0
        return (self.gain * tail).astype(np.float32)

    def speaker(self, audio: np.ndarray) -> np.ndarray:
        return np.tanh(self.drive * audio) / np.tanh(self.drive) if self.drive > 0 else audio


class FileDriver:
    """Plays a file into the loop as if it were a microphone and records what the loop says.

    ``realtime=True`` paces frames at 20 ms. ``realtime=False`` (``--fast``) skips idle time:
    it races through frames while ``busy()`` is false (nothing is computing, so nothing could
    happen sooner or later; it only lets the consumer's ``backlog()`` drain) and paces in real
    time while it is true, so the timeline, and the results, are those of a live run.
    ``echo`` mixes the speaker output back into the microphone, as a loudspeaker would: an
    :class:`EchoPath`, or (gain, delay in frames) for a single clean reflection.
    """

    def __init__(self, audio: np.ndarray, *, realtime: bool = True,
                 busy: Callable[[], bool] = lambda: False,
                 backlog: Callable[[], int] = lambda: 0, tail_s: float = 2.0,
                 echo: EchoPath | tuple[float, int] | None = None) -> None:
        pad = (-len(audio)) % FRAME + int(tail_s * RATE) // FRAME * FRAME
        self.audio = np.concatenate([audio.astype(np.float32), np.zeros(pad, np.float32)])
        self.realtime = realtime
        self.busy = busy
        self.backlog = backlog
        self.echo = EchoPath(*echo) if isinstance(echo, tuple) else echo
        self._impulse = self.echo.impulse() if self.echo else np.zeros(0, np.float32)
        self.output = np.zeros_like(self.audio)
        self.stopped = threading.Event()

    def _echo(self, i: int) -> np.ndarray:
        """What the microphone hears of the speaker during frame ``i``."""
        end = (i - self.echo.delay_frames + 1) * FRAME  # frames up to i - delay have played
        if end <= 0 or self.echo.delay_frames < 1:
            return np.zeros(FRAME, np.float32)
        start = end - FRAME - len(self._impulse) + 1
        played = self.output[max(0, start):end]
        played = np.concatenate([np.zeros(max(0, -start), np.float32), played])
        return np.convolve(self.echo.speaker(played), self._impulse, "valid").astype(np.float32)

    def run(self, tick: Tick, clock: Clock, until_idle: Callable[[], bool] | None = None) -> None:
        """Feed every frame; then keep ticking on silence until ``until_idle()`` (the
        assistant finished its last answer), at most 60 s more."""
        start = time.perf_counter()
        frames = len(self.audio) // FRAME
        extra = 0
        i = 0
        while not self.stopped.is_set():
            if i >= frames:
                if until_idle is None or until_idle() or extra >= int(60 / FRAME_S):
                    break
                extra += 1
                if (i + 1) * FRAME > len(self.audio):  # grow a second at a time
                    grow = np.zeros(RATE, np.float32)
                    self.audio = np.concatenate([self.audio, grow])
                    self.output = np.concatenate([self.output, grow])
            mic = self.audio[i * FRAME:(i + 1) * FRAME].copy()
            if self.echo is not None:
                mic += self._echo(i)
            self.output[i * FRAME:(i + 1) * FRAME] = tick(mic)
            clock.advance()
            i += 1
            if self.realtime:
                delay_s = start + i * FRAME_S - time.perf_counter()
                if delay_s > 0:
                    time.sleep(delay_s)
            elif self.busy():
                time.sleep(FRAME_S)  # something is computing: let time flow as it would live
            else:
                while self.backlog() > 0 and not self.busy():
                    time.sleep(0.0002)  # let the listener catch up before racing on
        self.audio = self.audio[: i * FRAME]
        self.output = self.output[: i * FRAME]


class DeviceDriver:
    """A microphone and a speaker through sounddevice/PortAudio, 20 ms blocks. At 16 kHz mono
    when the devices (or PortAudio's conversion layer) take it; otherwise at the microphone's
    own rate, resampled to and from the loop's 16 kHz with soxr."""

    def __init__(self, input_device: str | int | None = None,
                 output_device: str | int | None = None) -> None:
        try:
            import sounddevice as sd
        except OSError as exc:  # PortAudio library missing
            raise AudioError(f"no audio system ({exc}); install libportaudio2 "
                             "or use `assistant chat`") from None
        self.sd = sd
        self.device = (input_device, output_device)
        self.stopped = threading.Event()
        self.rate = self._pick_rate()

    def _pick_rate(self) -> int:
        sd, (mic, speaker) = self.sd, self.device
        rates = [RATE]
        with contextlib.suppress(Exception):  # no default rate: 16 kHz is all to try
            rates.append(int(sd.query_devices(mic, "input")["default_samplerate"]))
        problem: Exception | None = None
        for rate in rates:
            try:
                sd.check_input_settings(device=mic, channels=1, samplerate=rate)
                sd.check_output_settings(device=speaker, channels=1, samplerate=rate)
                return rate
            except Exception as exc:  # PortAudioError or ValueError, by platform
                problem = problem or exc
        raise AudioError(f"no usable microphone/speaker ({problem}); try `assistant chat` "
                         "for text, or `assistant voice --input FILE.wav`")

    def run(self, tick: Tick, clock: Clock, until_idle: Callable[[], bool] | None = None) -> None:
        """The microphone's clock drives the loop; what the loop says waits in a short queue
        for the speaker. Two streams rather than one duplex stream: PortAudio's duplex ALSA
        stream through PulseAudio/PipeWire stopped within a second when tried here, while an
        input and an output stream each ran."""
        bridge = _RateBridge(self.rate, tick, clock)
        block = round(self.rate * FRAME_S)
        speaker: deque[np.ndarray] = deque(maxlen=25)  # 0.5 s; older audio is dropped

        def on_mic(indata: np.ndarray, frames: int, _t: object, _status: object) -> None:
            speaker.append(bridge(indata[:, 0].copy()))

        def on_speaker(outdata: np.ndarray, frames: int, _t: object, _status: object) -> None:
            try:
                outdata[:, 0] = speaker.popleft()
            except IndexError:  # nothing computed yet: silence
                outdata.fill(0)

        common = {"samplerate": self.rate, "blocksize": block, "channels": 1, "dtype": "float32"}
        with self.sd.OutputStream(device=self.device[1], callback=on_speaker, **common) as out, \
                self.sd.InputStream(device=self.device[0], callback=on_mic, **common) as mic:
            while not self.stopped.wait(0.5):
                if not (mic.active and out.active):  # the back end gave up: say so
                    raise AudioError("the sound card stopped delivering audio (unplugged, or "
                                     "taken by another program?); check `assistant doctor`")


class _RateBridge:
    """Device-rate blocks in and out; the loop's 16 kHz frames through ``tick`` between."""

    def __init__(self, rate: int, tick: Tick, clock: Clock) -> None:
        self.rate, self.tick, self.clock = rate, tick, clock
        if rate != RATE:
            self._down = soxr.ResampleStream(rate, RATE, 1, dtype="float32")
            self._up = soxr.ResampleStream(RATE, rate, 1, dtype="float32")
        self._mic = np.zeros(0, np.float32)
        self._speaker = np.zeros(0, np.float32)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.rate == RATE:
            out = self.tick(block)
            self.clock.advance()
            return out
        self._mic = np.concatenate([self._mic, self._down.resample_chunk(block)])
        while len(self._mic) >= FRAME:
            frame, self._mic = self._mic[:FRAME], self._mic[FRAME:]
            played = self.tick(frame)
            self.clock.advance()
            self._speaker = np.concatenate([self._speaker, self._up.resample_chunk(played)])
        out, self._speaker = self._speaker[:len(block)], self._speaker[len(block):]
        return np.pad(out, (0, len(block) - len(out)))  # the resamplers' first few ms
