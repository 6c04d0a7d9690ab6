"""The listener stage: microphone frames in, what the user said out.

It owns everything about the user's side of the conversation: voice activity with the echo
gate, the utterance being heard, its live transcript (streaming Whisper), its end (the words
decide how much silence ends it, :mod:`assistant.speech.turn`), the wake phrase, and speech
over the assistant's voice (a barge-in: playback pauses at the onset, and the assistant is
interrupted once the speech lasts and says something). During the closing silence it
transcribes in case the user has finished, and may start an answer that changes nothing; the
endpoint confirms that answer, or the user goes on and it is dropped.

It reports through :class:`ListenerHooks` (the voice loop implements them) and its own events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.config import VoiceConfig
from assistant.speech import asr
from assistant.speech.asr import Recognizer, StreamingTranscriber
from assistant.speech.audio import FRAME_S, RATE, Clock
from assistant.speech.turn import UNFINISHED, Endpointer, TurnDetector
from assistant.speech.vad import VoiceDetector
from assistant.speech.words import TYPED, Heard
from assistant.voice import rules
from assistant.voice.events import (
    BargeIn,
    BargeInDismissed,
    EventLog,
    Partial,
    SpeechEnd,
    SpeechStart,
    Transcript,
    Wake,
)
from assistant.voice.frames import MicFrame
from assistant.voice.reply import ReplyHandle, ReplyTimes


class ListenerHooks(Protocol):
    """What the listener asks of the rest of the loop."""

    def is_command(self, text: str) -> bool:
        """The words match a skill's pattern (the fast path answers them)."""

    def acts(self, text: str) -> bool:
        """The words match the pattern of a skill that changes something (a second decode
        checks them: :meth:`assistant.speech.asr.Recognizer.transcribe`)."""

    def may_prefill(self, words: str) -> bool:
        """Nothing is being answered or prefilled, and the answer to ``words`` changes
        nothing: the LLM may read them ahead."""

    def may_speculate(self, words: str, heard: Heard = TYPED) -> bool:
        """Nothing is playing or being answered (bar an answer just interrupted, winding
        down), and the answer to ``words`` (``heard``: the recogniser's words and their
        probabilities) changes nothing: it may start now."""

    def pause_playback(self) -> None:
        """Speech began over the assistant's voice: its answer holds still meanwhile
        (playback, generation, synthesis), leaving the CPU to the recogniser."""

    def resume_playback(self) -> None:
        """That speech was no interruption, and the user has been quiet since."""

    def interrupt(self) -> None:
        """It was: stop the answer in progress."""

    def answer(self, text: str, times: ReplyTimes,
               heard: Heard = TYPED) -> ReplyHandle:
        """Answer ``text`` (``heard``: the recogniser's words and their probabilities); a
        speculative answer's (``times.speculative``) audio is held until :meth:`release`."""

    def confirm(self, reply: ReplyHandle, decided: float) -> bool:
        """The speculation was right; False if it was superseded meanwhile (it is dropped)."""

    def release(self, reply: ReplyHandle) -> None:
        """Let the confirmed speculation play."""

    def drop(self, reply: ReplyHandle) -> None:
        """The user went on: cancel the speculation; it was never said."""

    def prefill(self, utterance: int, heard: str, words: str) -> None:
        """Let the LLM read the words so far ahead of the answer."""


@dataclass
class Utterance:
    index: int
    start: float
    stream: StreamingTranscriber
    last_voiced: float
    voiced_frames: int = 0
    recent_voiced: int = 0
    """Consecutive voiced frames up to now."""
    partial_at: int = 0
    speculative: asr.Transcript | None = None
    speech: bool = False
    """Silero's verdict on the audio of ``speculative`` (it was speech), taken with it."""
    barge: bool = False
    """Speech began while the assistant was talking (playback paused)."""
    barge_confirmed: bool = False
    partials: list[str] = field(default_factory=list)
    speculation: ReplyHandle | None = None


class EchoGate:
    """Reference-aware gate: while the assistant talks, the microphone must be clearly louder
    than what is left of its own voice after AEC to count as the user."""

    def __init__(self, config: VoiceConfig) -> None:
        self.config = config
        tuning = config.tuning
        self._reference: deque[float] = deque(maxlen=tuning.echo_reference_frames)
        self._residual: deque[float] = deque(maxlen=round(tuning.echo_window_s / FRAME_S))
        """Recent (microphone after AEC / assistant's level) while only the assistant spoke."""

    def observe(self, played_rms: float) -> None:
        self._reference.append(played_rms)

    def floor(self) -> float:
        return rules.echo_floor(self._residual, self.config.tuning)

    def allows(self, frame: np.ndarray, speaking: bool, learning: bool) -> bool:
        """Can ``frame`` be the user? ``learning``: nobody else is speaking, so what the
        microphone holds is what AEC left of the assistant."""
        c, tuning = self.config, self.config.tuning
        if not speaking or not c.interruptible:
            return not speaking
        if c.echo == "off":
            return True
        ref = max(self._reference, default=0.0)
        level = rules.rms(frame)
        if c.echo == "gate":
            return level > tuning.gate_ratio * ref + tuning.gate_margin
        if learning and ref > tuning.echo_learn_level:
            self._residual.append(level / ref)
        return level > self.floor() * ref + tuning.gate_margin


class Listener:
    """Handles :class:`MicFrame`\\ s on the listener's thread. ``is_speech`` is the second
    opinion on a finished utterance (Silero: webrtcvad fires on steady noise, and Whisper
    would "transcribe" it); ``backlog`` says how many frames wait for the listener; without a
    ``detector`` only rules judge the end of an utterance."""

    def __init__(self, recognizer: Recognizer, is_speech: Callable[[np.ndarray], bool],
                 config: VoiceConfig, events: EventLog, clock: Clock, hooks: ListenerHooks,
                 stop_phrases: Sequence[str], backlog: Callable[[], int],
                 detector: TurnDetector | None = None) -> None:
        self.recognizer = recognizer
        self.is_speech = is_speech
        self.config = config
        self.events = events
        self.clock = clock
        self.hooks = hooks
        self.stop_phrases = stop_phrases
        self.backlog = backlog
        self.vad = VoiceDetector(config.vad)
        self.gate = EchoGate(config)
        self.endpointer = Endpointer(config, self._is_command, detector)
        self.talk_enabled = not config.push_to_talk
        self.decoding = False
        """Whisper is running (frames wait for it)."""
        self._utt: Utterance | None = None
        self._utterances = 0
        self._awake_until = -1.0
        """Until then (timeline seconds) an utterance needs no wake phrase."""
        self._resume_at: float | None = None
        """When playback paused by speech that was no interruption resumes, if the user stays
        quiet until then."""

    @property
    def hearing(self) -> bool:
        """An utterance is in progress."""
        return self._utt is not None

    def still_speaking(self, utterance: int) -> bool:
        """The user is still speaking utterance number ``utterance``, as of now (no silence
        of ``prefill_silence_s`` yet, nothing transcribed as if it were over)."""
        utt = self._utt
        return utt is not None and utt.index == utterance and utt.speculative is None and \
            self.clock.now() - utt.last_voiced < self.config.tuning.prefill_silence_s

    def handle(self, frame: MicFrame) -> None:
        self.gate.observe(frame.played_rms)
        # An utterance in progress may run Whisper on this frame: heavy work.
        self.decoding = self._utt is not None
        try:
            self._on_frame(frame.index * FRAME_S, frame.audio, frame.speaking)
        finally:
            self.decoding = False

    def finish(self) -> None:
        """The input ended: the utterance in progress, if any, ends now (its closing silence
        will not come)."""
        if self._utt is not None:
            self._end(self._utt)

    def _on_frame(self, t: float, frame: np.ndarray, speaking: bool) -> None:
        tuning = self.config.tuning
        t_end = t + FRAME_S
        barge = speaking and self.config.interruptible
        allowed = self.gate.allows(frame, speaking, learning=self._utt is None)
        voiced, onset = self.vad.push(frame, allowed and self.talk_enabled, over_playback=barge)
        utt = self._utt
        if utt is None:
            if onset:
                self._begin(t_end, speaking)
            elif self._resume_at is not None:
                if voiced:  # not quiet yet
                    self._resume_at = t_end + tuning.resume_after_s
                elif t_end >= self._resume_at:
                    self._resume()
            return
        utt.stream.add(frame)
        utt.recent_voiced = utt.recent_voiced + 1 if voiced else 0
        if voiced:
            utt.last_voiced = t_end
            utt.voiced_frames += 1
            utt.speculative = None
            if utt.speculation is not None:
                self._drop(utt)  # the user goes on: the early answer was premature
        silence = t_end - utt.last_voiced
        duration = t_end - utt.start
        # Speech over the assistant interrupts it once it lasts and says something (a stop
        # phrase, however misheard, at once).
        if utt.barge and not utt.barge_confirmed and voiced and utt.partials and \
                self._voiced_enough(utt) and (self._interrupts(utt.partials[-1]) or
                                              self._sounds_like_stop(utt.partials[-1])) and \
                self.is_speech(utt.stream.audio):
            self._barge_in(utt)
        samples = len(utt.stream.audio)
        # Partials only mid-speech (not on a trailing edge, where the speculative final is
        # about to run), only when the listener has caught up with the microphone (on a slow
        # CPU, Whisper must not fall behind), and not once the words make a command.
        mid_speech = utt.recent_voiced >= tuning.partial_voiced_frames and \
            self.backlog() <= tuning.partial_max_backlog
        # A complete command skips one refresh, not all: speech that goes on after it means
        # the partial was misheard ("Time" for the first word of "Tell me...").
        since = samples - utt.partial_at
        interval = self.config.partial_interval_s * RATE
        complete = bool(utt.partials) and since < 2 * interval and \
            self.endpointer.is_complete_command(utt.partials[-1])
        if mid_speech and not complete and since >= interval:
            utt.partial_at = samples
            self._partial(utt, utt.stream.partial())
            self._prefill(utt)
        speculate = utt.speculative is None and silence >= tuning.speculate_after_s and \
            utt.voiced_frames > tuning.min_voiced_frames
        if speculate:
            # The user may have finished: transcribe now, during the silence that will
            # confirm it, and throw the result away if they go on.
            # Words that were no command a moment ago will go to the LLM: beam at once
            # (but speech over the assistant is mostly "stop", matched on the greedy text).
            utt.speculative = utt.stream.final(
                keep_greedy=self._is_command, greedy_first=utt.barge or not utt.partials
                or self._is_command(utt.partials[-1]), recheck=self._acts)
            utt.speech = self.is_speech(utt.stream.audio)
            self._partial(utt, utt.speculative.text)
            if utt.barge and not utt.barge_confirmed and utt.speech and \
                    self._no_interruption(utt, utt.speculative) is None:
                # What the endpoint would decide, decided now: the interrupted answer is
                # cancelled, and the new request may be answered during its closing silence.
                self._barge_in(utt)
        judged = utt.speculative is not None
        text = utt.speculative.text if judged else utt.stream.text
        needed = self.endpointer.silence_after(text, judge=judged)
        if speculate:
            # After the turn model's judgement, not during it: two llama.cpp contexts on
            # the same cores slow each other (the answer's first token ~20 ms later).
            self._speculate(utt)
        if silence >= needed or duration > tuning.max_utterance_s:
            self._end(utt)

    def _begin(self, t_end: float, speaking: bool) -> None:
        self._resume_at = None  # the user speaks again: playback stays paused
        barge = speaking and self.config.interruptible
        frames = self.vad.onset_frames(barge)
        onset_at = t_end - frames * FRAME_S
        context = rules.stop_prompt(self.stop_phrases) if barge else ""
        stream = StreamingTranscriber(self.recognizer, context)
        stream.add(np.concatenate(list(self.vad.pre_roll)))
        self._utterances += 1
        self._utt = Utterance(self._utterances, onset_at, stream, t_end, barge=barge,
                              voiced_frames=frames)
        if barge:
            self.hooks.pause_playback()  # within a frame or two of the onset
        self.events.emit(SpeechStart(onset_at, speaking))

    def _partial(self, utt: Utterance, text: str) -> None:
        if text and (not utt.partials or text != utt.partials[-1]):
            utt.partials.append(text)
            self.events.emit(Partial(self.clock.now(), text))

    def _prefill(self, utt: Utterance) -> None:
        """While the user speaks, let the LLM read their words so far (for words it would
        answer without a tool; never while it is answering or over the assistant's voice)."""
        words = self._strip_wake(utt.partials[-1]) if utt.partials else None
        if not self.config.speculate or utt.barge or not words or \
                not self.hooks.may_prefill(words) or self._is_command(words):
            return
        self.hooks.prefill(utt.index, utt.partials[-1], words)

    def _is_command(self, text: str) -> bool:
        return self.hooks.is_command(self._strip_wake(text) or text)

    def _acts(self, text: str) -> bool:
        return self.hooks.acts(self._strip_wake(text) or text)

    def _voiced_enough(self, utt: Utterance) -> bool:
        """Voice (not wall time: a knock plus its echo is long but hardly voiced) lasting
        ``barge_in_min_s``: a cough or a knock never interrupts, whatever Whisper makes of it."""
        return utt.voiced_frames * FRAME_S >= self.config.barge_in_min_s

    def _interrupts(self, text: str) -> bool:
        return rules.interrupts(text, self.hooks.is_command, self.config.tuning.interrupt_min_words)

    def _barge_in(self, utt: Utterance) -> None:
        utt.barge_confirmed = True
        self.events.emit(BargeIn(self.clock.now()))
        self.hooks.interrupt()

    def _speculate(self, utt: Utterance) -> None:
        """Start answering now, during the silence that will confirm the end of the
        utterance, when the answer changes nothing and nothing else is going on; its audio
        waits for the endpoint."""
        text = utt.speculative.text.strip()
        heard = utt.speculative.heard
        command = self._strip_wake(self._taken_as(utt, text))
        # Over the assistant's voice, only once it is interrupted (playback has stopped).
        if not self.config.speculate or (utt.barge and not utt.barge_confirmed) or \
                not command or not utt.speech or UNFINISHED.search(text) or \
                rules.is_backchannel(text) or not self.hooks.may_speculate(command, heard):
            return
        now = self.clock.now()
        utt.speculation = self.hooks.answer(command, ReplyTimes(utt.last_voiced, now, now,
                                                                speculative=True), heard)

    def _drop(self, utt: Utterance) -> None:
        spec, utt.speculation = utt.speculation, None
        self.hooks.drop(spec)

    def _end(self, utt: Utterance) -> None:
        self._utt = None
        self.vad.reset()
        decided = self.clock.now()
        self.events.emit(SpeechEnd(utt.last_voiced))
        speech = utt.speech if utt.speculative is not None else self.is_speech(utt.stream.audio)
        if utt.voiced_frames < self.config.tuning.min_voiced_frames or not speech:
            self._dismiss(utt, "no speech")  # a click, a knock, or noise webrtcvad took for speech
            return
        if utt.speculation is not None:
            spec, utt.speculation = utt.speculation, None
            if self.hooks.confirm(spec, decided):
                self._transcript(decided, utt.speculative.text.strip(), spec.text,
                                 utt.speculative)
                self.hooks.release(spec)
                return
        final = utt.speculative or utt.stream.final(keep_greedy=self._is_command,
                                                    recheck=self._acts)
        transcribed = self.clock.now()
        heard = final.text.strip()
        text = self._taken_as(utt, heard)
        if utt.barge and not utt.barge_confirmed:
            if (reason := self._no_interruption(utt, final)) is not None:
                self._dismiss(utt, reason, heard)
                return
            self._barge_in(utt)
        if not text:
            return
        if utt.barge and rules.is_backchannel(text):
            # The interruption stands (playback has stopped) but "um, uh" asks for nothing.
            self.events.emit(Transcript(transcribed, heard, ignored="not a request"))
            return
        command = self._strip_wake(text)
        if command is None:
            self.events.emit(Transcript(transcribed, text, ignored="no wake phrase"))
            return
        if not command.strip(" ,.!?"):
            self._awake_until = transcribed + self.config.tuning.wake_window_s
            self.events.emit(Transcript(transcribed, text, ignored="wake phrase only"))
            self.events.emit(Wake(transcribed, round(self._awake_until, 2)))
            return
        self._awake_until = -1.0
        self._transcript(transcribed, heard, text, final)
        self.hooks.answer(command, ReplyTimes(utt.last_voiced, decided, transcribed),
                          final.heard)

    def _transcript(self, t: float, heard: str, command: str, final: asr.Transcript) -> None:
        """The final words, what they were taken as when that differs ("stop"), those heard
        unsure, and how noisy the room was."""
        unsure = final.unsure(self.recognizer.unsure_below)
        self.events.emit(Transcript(t, heard, command if command != heard else None,
                                    unsure=tuple(sorted(unsure)) or None, snr_db=final.snr_db))

    def _taken_as(self, utt: Utterance, heard: str) -> str:
        """Over the assistant's voice, a few words close to a stop phrase are "stop"."""
        return "stop" if utt.barge and not self._is_command(heard) and \
            self._sounds_like_stop(heard) else heard

    def _sounds_like_stop(self, text: str) -> bool:
        return rules.sounds_like_stop(text, self.stop_phrases, self.config.tuning.stop_likeness)

    def _no_interruption(self, utt: Utterance, heard: asr.Transcript) -> str | None:
        """Why speech over the assistant is no interruption, or None if it is one: over the
        assistant's voice, an unsure transcript is more likely noise or echo."""
        if not self._voiced_enough(utt):
            return "too short"
        text = heard.text.strip()
        if self._taken_as(utt, text) != "stop" and (
                not self._interrupts(text) or
                heard.avg_logprob < self.config.tuning.barge_min_logprob):
            return "not a request"
        return None

    def _dismiss(self, utt: Utterance, reason: str, text: str = "") -> None:
        """Speech over the assistant was no interruption: playback resumes once the user has
        been quiet for ``resume_after_s`` (the silence that ended this utterance counts), so
        never while they are still speaking."""
        if utt.barge and not utt.barge_confirmed:
            self.events.emit(BargeInDismissed(self.clock.now(), reason, text))
            self._resume_at = utt.last_voiced + self.config.tuning.resume_after_s
            if self.clock.now() >= self._resume_at:
                self._resume()

    def _resume(self) -> None:
        self._resume_at = None
        self.hooks.resume_playback()

    def _strip_wake(self, text: str) -> str | None:
        """The request after the wake phrase (or None without one); after the wake phrase
        alone, the next utterance within ``wake_window_s`` needs none."""
        if self.clock.now() < self._awake_until:
            return text
        return rules.strip_wake(text, self.config.wake_phrase, self.config.tuning.wake_likeness)
