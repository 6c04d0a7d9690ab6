"""The realtime voice loop: microphone → VAD → streaming Whisper → turn → Piper → speaker.

:class:`VoiceLoop` wires the stages together and is the driver's side of them. The driver
(:mod:`assistant.speech.audio`) calls :meth:`VoiceLoop.tick` every 20 ms with a microphone
frame and plays the frame it returns; ``tick`` only moves audio: it takes the next speaker
frame from the :class:`~assistant.speech.player.Player`, cancels the speaker's echo from the
microphone (:mod:`assistant.speech.echo`) and queues the cleaned frame for the listener.
Then, each on its own thread, joined by queues of typed frames (:mod:`.frames`):

* the **listener** (:mod:`.listener`) hears the user: VAD with the echo gate, streaming
  Whisper, the end of the utterance, speculation during the closing silence, barge-in;
* the **responder** (:mod:`.responder`) answers (fast path or LLM) and cuts the text into
  clauses;
* **synthesis** (:mod:`.synthesis`) turns each clause into audio while earlier ones play;
* the **prefiller** (:mod:`.prefiller`) lets the LLM read the user's words while they speak.

Each reply's shared state lives in its :class:`~.reply.ReplyHandle`; the loop implements the
listener's and the player's hooks, which is where the stages meet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from assistant.agent import Assistant
from assistant.config import VoiceConfig
from assistant.speech.asr import Recognizer
from assistant.speech.audio import RATE, Clock
from assistant.speech.echo import EchoCanceller
from assistant.speech.player import Player
from assistant.speech.tts import Synthesizer
from assistant.speech.turn import TurnDetector
from assistant.speech.vad import silero_confirms
from assistant.speech.words import TYPED, Heard
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.events import (
    AudioOutPause,
    AudioOutResume,
    AudioOutStart,
    AudioOutStop,
    Error,
    EventLog,
    Retrieval,
    Speculation,
    SpeculationDropped,
    ToolCall,
)
from assistant.voice.frames import Clause, MicFrame, Prefill, ReplyEnd, Request
from assistant.voice.listener import Listener
from assistant.voice.prefiller import Prefiller
from assistant.voice.reply import Replies, ReplyHandle, ReplyTimes
from assistant.voice.responder import Responder
from assistant.voice.rules import rms
from assistant.voice.stage import Stage, Work
from assistant.voice.synthesis import Synthesis


class VoiceLoop:
    """Drive it with an audio driver's ``run(tick, clock, until_idle=idle)``. Without a
    ``detector``, only rules judge the end of an utterance (:mod:`assistant.speech.turn`);
    ``is_speech`` is the second opinion on a finished utterance (Silero VAD unless given)."""

    def __init__(self, assistant: Assistant, recognizer: Recognizer, synthesizer: Synthesizer,
                 config: VoiceConfig, events: EventLog | None = None,
                 detector: TurnDetector | None = None,
                 is_speech: Callable[[np.ndarray], bool] | None = None) -> None:
        self.config = config
        self._is_speech = is_speech or self._silero
        self.events = events or EventLog()
        self.clock = Clock()
        self.replies = Replies()
        self.player = Player(self.clock, self)
        self.port = AssistantPort(assistant, self.clock, announce=self.say, stop=self.interrupt,
                                  report=self._report)
        self._aec = EchoCanceller(config.tuning.echo_tail_s) if config.echo == "aec" else None
        work = self._work = Work()
        self.synthesis = Synthesis(synthesizer, self.player, self.replies, self.events,
                                   self.clock, turn_over=self._turn_over)
        self._clauses: Stage[Clause | ReplyEnd] = Stage("synthesis", self.synthesis.handle,
                                                        work, self._failed)
        self.responder = Responder(self.port, self.replies, self.events, self.clock,
                                   self._clauses.put, config.tuning)
        self._requests: Stage[Request] = Stage("responder", self.responder.handle, work,
                                               self._failed)
        self.listener = Listener(recognizer, self._is_speech, config, self.events, self.clock,
                                 self, self.port.stop_phrases, self.backlog, detector)
        self._mic: Stage[MicFrame] = Stage("listener", self.listener.handle, work, self._failed)
        self.prefiller = Prefiller(self.port, detector, self.listener.still_speaking,
                                   self.backlog, config.tuning)
        self._prefills: Stage[Prefill] = Stage("prefiller", self.prefiller.handle, work,
                                               self._failed)
        self._stages = (self._mic, self._requests, self._clauses, self._prefills)
        self._warm: threading.Thread | None = None

    # ------------------------------------------------------------------ driver side

    def tick(self, mic: np.ndarray) -> np.ndarray:
        """One 20 ms frame: returns the speaker frame; never blocks on models."""
        out = self.player.frame()
        clean = self._aec.process(self.clock.frames, mic, out) if self._aec else mic
        self._mic.put(MicFrame(self.clock.frames, clean, self.player.speaking, rms(out)))
        return out

    def busy(self) -> bool:
        """A model is computing or about to (``--fast`` paces in real time meanwhile)."""
        return self._work.count - self._mic.backlog() > 0 or self.listener.decoding

    def backlog(self) -> int:
        """Microphone frames the listener has not handled yet."""
        return self._mic.backlog()

    def idle(self) -> bool:
        """Nothing heard, pending, computing or playing."""
        return self._work.count == 0 and not self.listener.hearing and not self.player.pending

    @property
    def talk_enabled(self) -> bool:
        """Push-to-talk: the microphone counts only while this is on."""
        return self.listener.talk_enabled

    @talk_enabled.setter
    def talk_enabled(self, on: bool) -> None:
        self.listener.talk_enabled = on

    # ------------------------------------------------------------------ lifecycle

    def start(self, warm_up: bool = False) -> None:
        """Start the stages; with ``warm_up``, also prefill the LLM's stable prompt in the
        background while the user has not said anything yet (see :meth:`wait_warm`)."""
        self._is_speech(np.zeros(RATE // 2, np.float32))  # load Silero now, not mid-turn
        for stage in self._stages:
            stage.start()
        if warm_up:
            self._warm = threading.Thread(target=self.port.warm_up, name="warm-up", daemon=True)
            self._warm.start()

    def wait_warm(self) -> None:
        if self._warm is not None:
            self._warm.join()

    def close(self) -> None:
        """Stop the stages (cancelling any answer in progress) and write the event log.
        Joining matters: a process that exits while llama.cpp decodes can crash."""
        self.port.cancel()
        if (reply := self.replies.current) is not None:
            reply.resume()
        for stage in self._stages:
            stage.stop()
        for stage in self._stages:
            stage.join(timeout=10)
        if self._warm is not None:
            self._warm.join(timeout=10)
        self.port.close()
        self.events.close()

    def say(self, text: str) -> None:
        """Speak outside a turn (timers, alarms)."""
        reply = self.replies.new("")
        self.replies.take(reply)
        self._clauses.put(Clause(reply, text))
        self._clauses.put(ReplyEnd(reply))

    def interrupt(self) -> None:
        """Cancel the answer in progress: generation, queued synthesis and playback."""
        reply = self.replies.interrupt()
        self.port.cancel()
        heard = self.player.stop(reply.id if reply else None)
        if reply is not None and reply.interrupted(heard):
            self.port.mark_interrupted(heard)

    def _silero(self, audio: np.ndarray) -> bool:
        return silero_confirms(audio, self.config.vad.silero_threshold)

    def _failed(self, stage: str, exc: Exception) -> None:
        """A stage's failure is reported as an event and the loop goes on listening."""
        self.events.emit(Error(self.clock.now(), stage, f"{type(exc).__name__}: {exc}"))

    def _report(self, event: ToolCall | Retrieval) -> None:
        self.responder.report(event)

    def _turn_over(self, reply: ReplyHandle) -> None:
        if self.replies.end(reply):
            self.events.emit(reply.turn_end(self.clock.now()))

    # ------------------------------------------------------------------ listener hooks

    def is_command(self, text: str) -> bool:
        return self.port.is_command(text)

    def acts(self, text: str) -> bool:
        return self.port.acts(text)

    def may_prefill(self, words: str) -> bool:
        # The prefill shares the LLM's context with the answer: never beside one.
        return not self._prefills.backlog() and self.responder.active is None and \
            not self._requests.backlog() and self.port.speculable(words)

    def may_speculate(self, words: str, heard: Heard = TYPED) -> bool:
        # Queued behind an interrupted answer, which stops at its next token, a speculation
        # starts as soon as a fresh turn's would.
        active = self.responder.active
        return not self.player.pending and (active is None or active.cancelled) and \
            not self._requests.backlog() and self.port.speculable(words, heard)

    def pause_playback(self) -> None:
        self.player.pause()
        if (reply := self.replies.current) is not None:
            reply.pause()

    def resume_playback(self) -> None:
        self.player.resume()
        if (reply := self.replies.current) is not None:
            reply.resume()

    def answer(self, text: str, times: ReplyTimes,
               heard: Heard = TYPED) -> ReplyHandle:
        reply = self.replies.new(text, times, heard)
        if times.speculative:
            self.replies.take(reply)
            self.player.hold(reply.id)
            self.events.emit(Speculation(self.clock.now(), text))
        self._requests.put(Request(reply))
        return reply

    def confirm(self, reply: ReplyHandle, decided: float) -> bool:
        # Still queued is fine (the listener may have raced through frames it was behind
        # on); superseded by an announcement, or over with nothing said, is not.
        if not self.replies.holds(reply) or self.replies.over(reply):
            self.drop(reply)
            return False
        held, result = reply.confirm(decided)
        for event in held:
            self.events.emit(event)
        if result is not None:
            self.port.remember(reply.text, result)
        return True

    def release(self, reply: ReplyHandle) -> None:
        self.player.release(reply.id)

    def drop(self, reply: ReplyHandle) -> None:
        reply.drop()
        if self.replies.release(reply) and self.responder.active is reply:
            self.port.cancel()
        self.player.discard(reply.id)
        self.replies.end(reply)
        self.events.emit(SpeculationDropped(self.clock.now(), reply.text))

    def prefill(self, utterance: int, heard: str, words: str) -> None:
        self._prefills.put(Prefill(utterance, heard, words))

    # ------------------------------------------------------------------ player hooks

    def started(self, turn: int, t: float, text: str) -> None:
        self.events.emit(AudioOutStart(t, text))
        reply = self.replies.live(turn)
        if reply is not None and reply.stamp("first_audio", t):
            self._turn_over(reply)

    def paused(self, t: float) -> None:
        self.events.emit(AudioOutPause(t))

    def resumed(self, t: float) -> None:
        self.events.emit(AudioOutResume(t))

    def finished(self, turn: int, t: float) -> None:
        self.events.emit(AudioOutStop(t, "done"))
        self.replies.release_id(turn)

    def interrupted(self, t: float) -> None:
        self.events.emit(AudioOutStop(t, "interrupted"))
