"""The room's side of a satellite: what stays on the small device.

The audio driver calls :meth:`SatelliteLoop.tick` every 20 ms, as it calls the voice loop's.
Here the microphone is cleaned of the speaker's echo (AEC3), judged by webrtcvad behind the
echo gate, and at a speech onset the utterance streams to the hub (``RunPipeline``,
``AudioStart``, a chunk per frame from the pre-roll on; only once the hub has sent
``RunSatellite``, which it does when its models are loaded) until the hub's endpointing ends it
(``VoiceStopped``, ``Transcript``; or, if the hub says nothing, :data:`GIVE_UP_SILENCE_S` of
silence here). The answer's audio comes back clause by clause and plays from the
:class:`~assistant.speech.player.Player`; ``Played`` tells the hub it has been heard.

Speech over the answer pauses playback at once, here. If it lasts ``voice.barge_in_min_s``
it is an interruption: the answer is dropped, the hub is told (``VoiceStarted``: it stops
generating and synthesising for this room) and the new utterance streams from its onset.
Shorter, it was a cough: playback resumes after ``voice.tuning.resume_after_s`` of quiet.

:meth:`tick` never blocks: the hub's events arrive on the link's thread and only touch the
player (which has its own lock) and a few flags under this loop's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import soxr
from wyoming.asr import Transcript as WyTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error as WyError
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStarted, VoiceStopped

from assistant.config import VoiceConfig
from assistant.speech.audio import FRAME_S, RATE, Clock
from assistant.speech.echo import EchoCanceller
from assistant.speech.player import Chunk, Player
from assistant.speech.vad import VoiceDetector, to_pcm16
from assistant.voice.events import (
    AudioOutPause,
    AudioOutResume,
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    BargeInDismissed,
    Error,
    EventLog,
    Hub,
    SpeechEnd,
    SpeechStart,
    ToolCall,
    Transcript,
    TurnEnd,
)
from assistant.voice.listener import EchoGate
from assistant.voice.rules import rms

GIVE_UP_SILENCE_S = 3.0
"""Silence after which the satellite ends an utterance the hub has not ended."""
ANSWER_WAIT_S = 120.0
"""Longest wait for the hub's answer once an utterance has been sent."""
COUGH_SILENCE_S = 0.3
"""Speech over the answer that stops this long before lasting ``barge_in_min_s`` was none."""


class SatelliteLoop:
    """Drive it with an audio driver's ``run(tick, clock, until_idle=idle)``; ``send`` queues
    an event for the hub (:meth:`HubLink.send`)."""

    def __init__(self, config: VoiceConfig, events: EventLog,
                 send: Callable[[Event], None]) -> None:
        self.config = config
        self.events = events
        self.send = send
        self.clock = Clock()
        self.player = Player(self.clock, self)
        self.vad = VoiceDetector(config.vad)
        self.gate = EchoGate(config)
        self._aec = EchoCanceller(config.tuning.echo_tail_s) if config.echo == "aec" else None
        self.talk_enabled = not config.push_to_talk
        self.online = threading.Event()
        """The hub is connected and has its models loaded (it sent ``RunSatellite``)."""
        self._lock = threading.Lock()
        # the utterance (tick thread)
        self._streaming = False
        self._barge: list[np.ndarray] | None = None
        """Frames of speech over the answer, held until it proves an interruption."""
        self._start = self._last_voiced = 0.0
        self._voiced = 0
        self._resume_at: float | None = None
        # the hub's side (link thread, under the lock)
        self._ended = False
        """The hub ended the utterance being streamed."""
        self._awaiting = False
        """An utterance went to the hub and its answer has not ended yet."""
        self._discard = False
        """Audio of an interrupted answer may still arrive: dropped until the next turn."""
        self._turn = 0
        self._reply: int | None = None
        self._clause = ""
        self._rate = RATE
        self._asked_at: float | None = None
        self._asked_wall = 0.0

    # ------------------------------------------------------------------ driver side

    def tick(self, mic: np.ndarray) -> np.ndarray:
        out = self.player.frame()
        clean = self._aec.process(self.clock.frames, mic, out) if self._aec else mic
        self._hear(self.clock.frames * FRAME_S, clean, self.player.speaking, rms(out))
        return out

    def busy(self) -> bool:
        """Something is under way with the hub (``--fast`` paces in real time meanwhile)."""
        with self._lock:
            if self._awaiting and not self._streaming and \
                    time.monotonic() - self._asked_wall > ANSWER_WAIT_S:
                self._awaiting = False  # a hub that never answers does not hold us forever
            return self._streaming or self._awaiting or self._barge is not None

    def idle(self) -> bool:
        return not self.busy() and not self.player.pending

    # ------------------------------------------------------------------ the microphone

    def _hear(self, t: float, frame: np.ndarray, speaking: bool, played_rms: float) -> None:
        self.gate.observe(played_rms)
        t_end = t + FRAME_S
        over = speaking and self.config.interruptible
        listening = not self._streaming and self._barge is None
        allowed = self.gate.allows(frame, speaking, learning=listening)
        voiced, onset = self.vad.push(frame, allowed and self.talk_enabled, over_playback=over)
        with self._lock:
            ended, self._ended = self._ended, False
        if voiced:
            self._last_voiced = t_end
            self._voiced += 1
        if self._streaming:
            self._stream(frame, t_end, ended)
        elif self._barge is not None:
            self._barge.append(frame)
            if self._voiced * FRAME_S >= self.config.barge_in_min_s:
                self._interrupt(t_end)
            elif t_end - self._last_voiced >= COUGH_SILENCE_S:
                self._barge = None
                self.events.emit(BargeInDismissed(t_end, "too short", ""))
                self._resume_at = t_end + self.config.tuning.resume_after_s
        elif onset and self.online.is_set():
            self._onset(t_end, over)
        elif self._resume_at is not None and not voiced and t_end >= self._resume_at:
            self._resume_at = None
            self.player.resume()

    def _onset(self, t_end: float, over_playback: bool) -> None:
        frames = self.vad.onset_frames(over_playback)
        self._start = t_end - frames * FRAME_S
        self._voiced = frames
        self._resume_at = None
        self.events.emit(SpeechStart(self._start, over_playback))
        pre_roll = list(self.vad.pre_roll)
        if over_playback:
            self.player.pause()  # at once; the interruption is decided in a moment
            self._barge = pre_roll
        else:
            self._begin(pre_roll)

    def _interrupt(self, t: float) -> None:
        """Speech over the answer lasted: drop the answer, tell the hub, stream it."""
        held, self._barge = self._barge or [], None
        self.player.stop()
        with self._lock:
            self._discard, self._reply = True, None
        self.events.emit(BargeIn(t))
        self.send(VoiceStarted().event())
        self._begin(held)

    def _begin(self, frames: list[np.ndarray]) -> None:
        with self._lock:
            self._streaming, self._awaiting, self._ended = True, True, False
        self.send(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS
                              ).event())
        self.send(AudioStart(rate=RATE, width=2, channels=1).event())
        for frame in frames:
            self._chunk(frame)

    def _chunk(self, frame: np.ndarray) -> None:
        self.send(AudioChunk(rate=RATE, width=2, channels=1, audio=to_pcm16(frame)).event())

    def _stream(self, frame: np.ndarray, t_end: float, ended: bool) -> None:
        give_up = t_end - self._last_voiced >= GIVE_UP_SILENCE_S or \
            t_end - self._start >= self.config.tuning.max_utterance_s
        if not (ended or give_up):
            self._chunk(frame)
            return
        self.send(AudioStop().event())
        self.vad.reset()
        with self._lock:
            # Still awaiting: after AudioStop the hub always sends its Transcript (empty if
            # it heard nothing worth answering) and then, for words, the answer.
            self._streaming = False
            self._asked_at = self._last_voiced
            self._asked_wall = time.monotonic()
        self.events.emit(SpeechEnd(self._last_voiced))

    # ------------------------------------------------------------------ the hub

    def on_hub(self, event: Event) -> None:
        """An event from the hub (on the link's thread)."""
        kind, now = event.type, self.clock.now()
        if RunSatellite.is_type(kind):
            self.online.set()
        elif VoiceStopped.is_type(kind):
            with self._lock:
                self._ended = True
        elif WyTranscript.is_type(kind):
            text = WyTranscript.from_event(event).text
            with self._lock:
                self._ended, self._discard = True, False
                if not text:
                    self._awaiting = False
            self.events.emit(Transcript(now, text))
        elif Synthesize.is_type(kind):
            with self._lock:
                if self._discard:
                    return
                if self._reply is None:
                    self._turn += 1
                    self._reply = self._turn
                self._clause = Synthesize.from_event(event).text
        elif AudioStart.is_type(kind):
            self._rate = AudioStart.from_event(event).rate
        elif AudioChunk.is_type(kind):
            self._play(AudioChunk.from_event(event))
        elif Handled.is_type(kind):
            self._handled(Handled.from_event(event), now)
        elif WyError.is_type(kind):
            error = WyError.from_event(event)
            self.events.emit(Error(now, "hub", f"{error.code}: {error.text}"))

    def _play(self, chunk: AudioChunk) -> None:
        with self._lock:
            if self._discard or self._reply is None:
                return
            turn, text, self._clause = self._reply, self._clause, ""
        audio = np.frombuffer(chunk.audio, "<i2").astype(np.float32) / 32768
        if self._rate != RATE:
            audio = soxr.resample(audio, self._rate, RATE).astype(np.float32)
        self.player.enqueue(Chunk(turn, text, audio))

    def _handled(self, handled: Handled, now: float) -> None:
        context = handled.context or {}
        for call in context.get("tool_calls") or []:
            self.events.emit(ToolCall(now, call.get("name", ""), call.get("arguments", {}),
                                      call.get("result"), bool(call.get("ok"))))
        with self._lock:
            reply, self._reply = self._reply, None
            if context.get("kind") != "announcement":
                self._awaiting = False
        if reply is not None:
            self.player.end_turn(reply)

    def on_link(self, connected: bool, detail: str) -> None:
        """The hub came or went (on the link's thread)."""
        reply = None
        if not connected:
            self.online.clear()
            with self._lock:
                self._streaming = self._awaiting = False
                self._barge = None
                reply, self._reply = self._reply, None  # the rest of it will never come
        if reply is not None:
            self.player.end_turn(reply)
        self.events.emit(Hub(self.clock.now(), connected, detail))

    # ------------------------------------------------------------------ player hooks

    def started(self, turn: int, t: float, text: str) -> None:
        self.events.emit(AudioOutStart(t, text))
        with self._lock:
            asked, self._asked_at = self._asked_at, None
        if asked is not None:
            self.events.emit(TurnEnd(t, "hub", False,
                                     {"voice_to_voice": round((t - asked) * 1000, 1)}))

    def paused(self, t: float) -> None:
        self.events.emit(AudioOutPause(t))

    def resumed(self, t: float) -> None:
        self.events.emit(AudioOutResume(t))

    def finished(self, turn: int, t: float) -> None:
        self.events.emit(AudioOutStop(t, "done"))
        self.send(Played().event())

    def interrupted(self, t: float) -> None:
        self.events.emit(AudioOutStop(t, "interrupted"))
