"""The realtime voice loop: microphone → VAD → streaming Whisper → turn → Piper → speaker.

Five threads, joined by queues, all stamping events on one timeline (:mod:`assistant.voice.events`):

* the **driver** (:mod:`assistant.speech.audio`) calls :meth:`VoiceLoop.tick` every 20 ms with a
  microphone frame and plays what it returns; ``tick`` only moves audio: it takes the next
  speaker frame from the :class:`Player`, cancels the speaker's echo from the microphone
  (WebRTC AEC) and queues the cleaned frame for the listener;
* the **listener** runs VAD with an echo gate, streams Whisper while the user speaks, decides
  the end of the utterance from its words (:mod:`assistant.speech.turn`: sooner after a command or
  a finished sentence, later after an unfinished phrase), and transcribes speculatively
  during the closing silence, where it may also start an answer that changes nothing (its
  audio held until the endpoint, dropped if the user goes on); speech over the assistant
  pauses playback at once and becomes a barge-in if it lasts or has words;
* the **responder** runs the turn (fast path or LLM) and cuts streamed text into clauses;
* the **voice** thread synthesises each clause with Piper while earlier ones play;
* the **prefiller** evaluates the LLM's prompt up to the words heard so far while the user
  speaks, so that an answer prefills only the rest.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

import numpy as np

from assistant import fastpath
from assistant.agent import Assistant, TurnResult
from assistant.config import VoiceConfig
from assistant.skills import ToolResult
from assistant.speech import asr
from assistant.speech.asr import Recognizer, StreamingTranscriber
from assistant.speech.audio import FRAME_S, RATE, Clock
from assistant.speech.echo import EchoCanceller
from assistant.speech.player import Chunk, Player
from assistant.speech.tts import SentenceChunker, Synthesizer
from assistant.speech.turn import UNFINISHED, Endpointer, TurnDetector
from assistant.speech.vad import VoiceDetector, silero_confirms
from assistant.voice.events import (
    AudioOutPause,
    AudioOutResume,
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    BargeInDismissed,
    Error,
    EventLog,
    LLMFirstToken,
    Partial,
    Retrieval,
    Speculation,
    SpeculationDropped,
    SpeechEnd,
    SpeechStart,
    ToolCall,
    Transcript,
    TTSChunk,
    TurnEnd,
    Wake,
)

if TYPE_CHECKING:
    from assistant.memory.retrieval import Retrieved

BACKCHANNELS = {"mm", "mhm", "mmhmm", "mmhm", "hm", "hmm", "uhhuh", "uh", "um", "ah", "oh",
                "yeah", "yep", "ok", "okay", "right", "sure", "i see", "mm hm", "uh huh"}
FILLERS = {"um", "uh", "er", "erm", "hm", "hmm", "mm", "ah", "oh"}
"""Sounds, not words: any number of them is still not a request ("Um, uh, uh,")."""
_END = object()
STOP_LIKENESS = 0.7
"""difflib ratio above which a short barge-in counts as "stop" (0.8 for "start talking")."""
WAKE_LIKENESS = 0.8
"""difflib ratio of the first words to the wake phrase ("a computer" ~ "hey computer": 0.82)."""
WAKE_WINDOW_S = 8.0
"""After the wake phrase alone, how long the next utterance needs none."""
SPECULATE_AFTER_S = 0.08
"""Silence after which the utterance is transcribed (and, where that is safe, answered) in
case it is over; the endpoint confirms it later, or the user goes on and it is dropped.
Paired runs of the benchmark's utterances against 0.1 s: LLM answers ~70 ms sooner, commands
the same; 0.06 s was no faster and paused inside words ("What | time is it?")."""
FIRST_PIECE_WAIT_S = 0.2
"""Longest the LLM pauses after the first clause, while its first sound is synthesised."""
PREFILL_SILENCE_S = 0.04
"""Silence after which the prefiller leaves the CPU to the final decode."""
CATCH_UP_WAIT_S = 0.2
"""Longest the prefiller waits for the listener to catch up with the microphone."""
ECHO_TAIL_S = 1.0
"""How long after the speaker falls silent its echo may still be in the microphone."""
RESIDUAL_WINDOW_S = 3.0
RESIDUAL_PERCENTILE = 98
RESIDUAL_MARGIN = 1.5
RESIDUAL_MIN, RESIDUAL_MAX = 0.02, 0.5
"""The echo gate's floor is 1.5 x the 98th percentile of the residual echo over the last 3 s
of the assistant speaking alone, within 2-50% of its level."""


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def is_backchannel(text: str) -> bool:
    """Empty, or a listener's noise ("mm-hm", "yeah", "I see") rather than a request."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if not words:
        return True
    if all(w in FILLERS for w in words):
        return True
    phrase = " ".join(words)
    return len(words) <= 2 and (phrase in BACKCHANNELS or "".join(words) in BACKCHANNELS
                                or all(w in BACKCHANNELS for w in words))


@dataclass
class _TurnTimes:
    """Timeline stamps of one turn, for its latency breakdown."""
    speech_end: float
    decided: float
    transcribed: float
    first_text: float | None = None
    first_chunk: float | None = None
    first_audio: float | None = None
    first_piece: threading.Event = field(default_factory=threading.Event)
    """Set once the first sound of the answer is queued for playback."""
    path: str = "llm"
    """Set to 'fast' when the turn returns; a fast-path turn always returns before its
    first audio, an LLM turn is still streaming then."""
    speculative: bool = False
    """Started before the endpoint (``transcribed`` is then earlier than ``decided``)."""


@dataclass
class _Utterance:
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
    speculation: _Speculation | None = None


@dataclass
class _Speculation:
    """An answer started during the closing silence, before the endpoint confirms that the
    user has finished; its audio is held until then, and it is dropped if they go on."""

    turn: int
    text: str
    result: TurnResult | None = None
    """Set when the turn returns."""
    confirmed: bool = False
    dropped: bool = False
    held: list[ToolCall | Retrieval] = field(default_factory=list)
    """Events of the answer (tool calls, retrievals) until it is confirmed: one that is
    dropped never happened, as far as the event log is concerned."""


class VoiceLoop:
    """Ties the components together; drive it with an audio driver's ``run(tick, clock)``.
    Without a ``detector``, only rules judge the end of an utterance
    (:mod:`assistant.speech.turn`)."""

    def __init__(self, assistant: Assistant, recognizer: Recognizer, synthesizer: Synthesizer,
                 config: VoiceConfig, events: EventLog | None = None,
                 detector: TurnDetector | None = None) -> None:
        self.assistant = assistant
        self.recognizer = recognizer
        self.synth = synthesizer
        self.config = config
        self.events = events or EventLog()
        self.clock = Clock()
        self.player = Player(self.clock, self)
        self.vad = VoiceDetector()
        self.endpointer = Endpointer(config, self._is_command, detector)
        self._frames: queue.Queue = queue.Queue()
        self._turns: queue.Queue = queue.Queue()
        self._chunks: queue.Queue = queue.Queue()
        self._prefills: queue.Queue = queue.Queue()
        self._work = 0
        """Items queued or being processed by the listener, responder and voice threads."""
        self._work_lock = threading.Lock()
        self._turn_id = 0
        self._current_turn = 0
        self._times: dict[int, _TurnTimes] = {}
        self._interrupted: dict[int, str] = {}
        self._responding = 0
        """The turn whose answer is being generated right now (0 = none)."""
        self._decoding = False
        """The listener is running Whisper (frames wait for it)."""
        self._utt: _Utterance | None = None
        self._ref_rms: deque[float] = deque(maxlen=15)
        self._residual: deque[float] = deque(maxlen=round(RESIDUAL_WINDOW_S / FRAME_S))
        """Recent (microphone after AEC / assistant's level) while only the assistant spoke."""
        self._threads: list[threading.Thread] = []
        self.talk_enabled = not config.push_to_talk
        self._awake_until = -1.0
        """Until then (timeline seconds) an utterance needs no wake phrase."""
        self._spec_lock = threading.Lock()
        self._speculating: _Speculation | None = None
        """The speculation being answered right now, if any."""
        self._aec = EchoCanceller(ECHO_TAIL_S) if config.echo == "aec" else None
        assistant.context.announce = self.say
        assistant.context.stop = self._stop_speaking
        assistant.on_tool = self._tool_called
        assistant.on_retrieval = self._retrieved
        assistant.context.channel = "voice"

    # ------------------------------------------------------------------ driver side

    def tick(self, mic: np.ndarray) -> np.ndarray:
        """One 20 ms frame: returns the speaker frame; never blocks on models."""
        out = self.player.frame()
        clean = self._aec.process(self.clock.frames, mic, out) if self._aec else mic
        self._put(self._frames, (self.clock.frames, clean, self.player.speaking, _rms(out)))
        return out

    def busy(self) -> bool:
        """A model is computing or about to (``--fast`` paces in real time meanwhile)."""
        return self._work - self._frames.qsize() > 0 or self._decoding

    def backlog(self) -> int:
        """Microphone frames the listener has not handled yet."""
        return self._frames.qsize()

    def idle(self) -> bool:
        """Nothing heard, pending, computing or playing."""
        return self._work == 0 and self._utt is None and not self.player.pending

    def _put(self, q: queue.Queue, item: object) -> None:
        with self._work_lock:
            self._work += 1
        q.put(item)

    def _consume(self, q: queue.Queue, handle: Callable[..., None]) -> None:
        """Handle items of ``q`` until the None sentinel; each counts as work until handled.
        A failure is reported as an ``error`` event and the loop goes on listening."""
        while (item := q.get()) is not None:
            try:
                handle(*item)
            except Exception as exc:
                self.events.emit(Error(self.clock.now(), threading.current_thread().name,
                                       f"{type(exc).__name__}: {exc}"))
            finally:
                with self._work_lock:
                    self._work -= 1

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        silero_confirms(np.zeros(RATE // 2, np.float32))  # load Silero now, not mid-turn
        for target in (self._listen, self._respond, self._speak, self._prefill_loop):
            thread = threading.Thread(target=target, name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Stop the threads (cancelling any answer in progress) and write the event log.
        Joining matters: a process that exits while llama.cpp decodes can crash."""
        self.assistant.cancel.set()
        for q in (self._frames, self._turns, self._chunks, self._prefills):
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self.assistant.close()
        self.events.close()

    def say(self, text: str) -> None:
        """Speak outside a turn (timers, alarms)."""
        self._turn_id += 1
        self._current_turn = turn = self._turn_id
        self._put(self._chunks, (turn, text))
        self._put(self._chunks, (turn, _END))

    # ------------------------------------------------------------------ listener

    def _listen(self) -> None:
        def handle(index: int, frame: np.ndarray, speaking: bool, ref: float) -> None:
            self._ref_rms.append(ref)
            # An utterance in progress may run Whisper on this frame: heavy work.
            self._decoding = self._utt is not None
            try:
                self._on_frame(index * FRAME_S, frame, speaking)
            finally:
                self._decoding = False

        self._consume(self._frames, handle)

    def _echo_allows(self, frame: np.ndarray, speaking: bool) -> bool:
        """Reference-aware gate: while the assistant talks, the microphone must be clearly
        louder than what is left of its own voice after AEC to count as the user."""
        if not speaking or not self.config.interruptible:
            return not speaking
        if self.config.echo == "off":
            return True
        ref = max(self._ref_rms, default=0.0)
        level = _rms(frame)
        if self._aec is None:
            return level > 0.6 * ref + 0.003
        if self._utt is None and ref > 0.01:
            self._residual.append(level / ref)
        return level > self._residual_floor() * ref + 0.003

    def _residual_floor(self) -> float:
        """What AEC leaves of the assistant's voice, as a fraction of its level: 2% for a
        clean echo path; more in a reverberant room or from a distorting speaker, where the
        gate follows the recent residual (so the user must speak up) rather than stutter."""
        if len(self._residual) < 25:
            return RESIDUAL_MIN
        recent = float(np.percentile(self._residual, RESIDUAL_PERCENTILE))
        return min(RESIDUAL_MAX, max(RESIDUAL_MIN, RESIDUAL_MARGIN * recent))

    def _on_frame(self, t: float, frame: np.ndarray, speaking: bool) -> None:
        t_end = t + FRAME_S
        barge = speaking and self.config.interruptible
        voiced, onset = self.vad.push(frame, self._echo_allows(frame, speaking)
                                      and self.talk_enabled, over_playback=barge)
        utt = self._utt
        if utt is None:
            if onset:
                self._begin(t_end, speaking)
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
        # Speech over the assistant interrupts it once it lasts and says something.
        if utt.barge and not utt.barge_confirmed and voiced and utt.partials and \
                self._voiced_enough(utt) and self._interrupts(utt.partials[-1]) and \
                silero_confirms(utt.stream.audio):
            self._barge_in(utt)
        samples = len(utt.stream.audio)
        # Partials only mid-speech (not on a trailing edge, where the speculative final is
        # about to run), only when the listener has caught up with the microphone (on a slow
        # CPU, Whisper must not fall behind), and not once the words make a command.
        mid_speech = utt.recent_voiced >= 3 and self._frames.qsize() <= 2  # and caught up
        complete = bool(utt.partials) and self.endpointer.is_complete_command(utt.partials[-1])
        if mid_speech and not complete and \
                samples - utt.partial_at >= self.config.partial_interval_s * 16000:
            utt.partial_at = samples
            self._partial(utt, utt.stream.partial())
            self._prefill(utt)
        speculate = utt.speculative is None and silence >= SPECULATE_AFTER_S and \
            utt.voiced_frames > 5
        if speculate:
            # The user may have finished: transcribe now, during the silence that will
            # confirm it, and throw the result away if they go on.
            # Words that were no command a moment ago will go to the LLM: beam at once
            # (but speech over the assistant is mostly "stop", matched on the greedy text).
            utt.speculative = utt.stream.final(
                keep_greedy=self._is_command, greedy_first=utt.barge or not utt.partials
                or self._is_command(utt.partials[-1]))
            utt.speech = silero_confirms(utt.stream.audio)
            self._partial(utt, utt.speculative.text)
        judged = utt.speculative is not None
        text = utt.speculative.text if judged else utt.stream.text
        needed = self.endpointer.silence_after(text, judge=judged)
        if speculate:
            # After the turn model's judgement, not during it: two llama.cpp contexts on
            # the same cores slow each other (the answer's first token ~20 ms later).
            self._speculate(utt)
        if silence >= needed or duration > 30:
            self._end(utt)

    def _partial(self, utt: _Utterance, text: str) -> None:
        if text and (not utt.partials or text != utt.partials[-1]):
            utt.partials.append(text)
            self.events.emit(Partial(self.clock.now(), text))

    def _prefill(self, utt: _Utterance) -> None:
        """While the user speaks, evaluate the LLM's prompt up to their words so far, so
        that an answer prefills only the rest (for words the LLM would answer without a
        tool; never while it is answering or over the assistant's voice); and the turn
        model's, so that judging the final words evaluates only the last of them."""
        words = self._strip_wake(utt.partials[-1]) if utt.partials else None
        if self._prefills.qsize() or not self._may_answer_early(utt, words) or \
                self._is_command(words):
            return
        self._put(self._prefills, (utt, utt.partials[-1], words))

    def _may_answer_early(self, utt: _Utterance, words: str | None) -> bool:
        """Work on an answer may start before the endpoint: speculation is on, the user is
        not talking over the assistant, nothing else is being answered, and the answer to
        ``words`` (wake phrase stripped) changes nothing (``Assistant.speculable``)."""
        return self.config.speculate and not utt.barge and bool(words) and \
            not self._responding and not self._turns.qsize() and \
            self.assistant.speculable(words)

    def _prefill_loop(self) -> None:
        self._consume(self._prefills, self._prefill_words)

    def _prefill_words(self, utt: _Utterance, heard: str, words: str) -> None:
        if not self._still_speaking(utt):
            return
        self.assistant.prefill(words)
        detector = self.endpointer.detector
        if detector is not None and self._still_speaking(utt):
            detector.prefill(heard)

    def _still_speaking(self, utt: _Utterance) -> bool:
        """(Prefiller thread) The user is still speaking ``utt``, as of now: once it has
        gone quiet, the final decode is about to run, and a prefill beside it would slow it
        down for nothing (the answer evaluates the words itself right after). Waits for the
        listener to catch up with the microphone first (it falls behind while Whisper runs:
        the frames it has not seen decide)."""
        deadline = time.monotonic() + CATCH_UP_WAIT_S
        while self._frames.qsize() > 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._utt is utt and utt.speculative is None and \
            self.clock.now() - utt.last_voiced < PREFILL_SILENCE_S

    def _begin(self, t_end: float, speaking: bool) -> None:
        barge = speaking and self.config.interruptible
        frames = self.vad.onset_frames(barge)
        onset_at = t_end - frames * FRAME_S
        stream = StreamingTranscriber(self.recognizer, self._stop_prompt() if barge else "")
        stream.add(np.concatenate(list(self.vad.pre_roll)))
        self._utt = _Utterance(onset_at, stream, t_end, barge=barge, voiced_frames=frames)
        if barge:
            self.player.pause()  # within a frame or two of the onset
        self.events.emit(SpeechStart(onset_at, speaking))

    def _is_command(self, text: str) -> bool:
        return fastpath.match(self.assistant.registry, self._strip_wake(text) or text) is not None

    def _stop_prompt(self) -> str:
        """The stop skill's phrases as Whisper context: over the assistant's voice, damaged
        by echo cancellation, a short "stop" is otherwise often heard as "top" or "uh"."""
        stop = self.assistant.registry.skills.get("stop")
        return " ".join(p.capitalize() + "." for p in stop.examples) if stop else ""

    def _sounds_like_stop(self, text: str) -> bool:
        """Over the assistant's voice, Whisper tiny often mishears a short stop ("Start
        talking.", "cancel bat", "Be quite."): up to three words spelt close to one of the
        stop skill's phrases count as one. A wrong guess only silences the assistant."""
        stop = self.assistant.registry.skills.get("stop")
        words = re.sub(r"[^a-z' ]", "", text.lower()).split()
        words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # "Stop. Stop."
        if stop is None or not 0 < len(words) <= 3:
            return False
        said = " ".join(words)
        return any(SequenceMatcher(None, said, phrase).ratio() >= STOP_LIKENESS
                   for phrase in stop.examples)

    def _voiced_enough(self, utt: _Utterance) -> bool:
        """Voice (not wall time: a knock plus its echo is long but hardly voiced) lasting
        ``barge_in_min_s``: a cough or a knock never interrupts, whatever Whisper makes of it."""
        return utt.voiced_frames * FRAME_S >= self.config.barge_in_min_s

    def _interrupts(self, text: str) -> bool:
        """Words that justify cutting the assistant off: a command ("stop", "what time is
        it") or a real sentence of three words or more, never "mm-hm" or "okay"."""
        if is_backchannel(text):
            return False
        return len(text.split()) >= 3 or fastpath.match(self.assistant.registry, text) \
            is not None

    def _barge_in(self, utt: _Utterance) -> None:
        utt.barge_confirmed = True
        self.events.emit(BargeIn(self.clock.now()))
        self._stop_speaking()

    def _stop_speaking(self) -> None:
        """Cancel the answer in progress: generation, queued synthesis and playback."""
        turn = self._current_turn
        self._current_turn = 0
        self.assistant.cancel.set()
        heard = self.player.stop(turn or None)
        if turn and turn == self._responding:
            self._interrupted[turn] = heard  # applied when the turn's text is complete
        elif turn:
            self.assistant.mark_interrupted(heard)

    def _speculate(self, utt: _Utterance) -> None:
        """Start answering now, during the silence that will confirm the end of the
        utterance, when the answer changes nothing (``Assistant.speculable``) and nothing
        else is going on; its audio waits for the endpoint."""
        text = utt.speculative.text.strip()
        command = self._strip_wake(text)
        if not utt.speech or self.player.pending or UNFINISHED.search(text) or \
                is_backchannel(text) or not self._may_answer_early(utt, command):
            return
        self._turn_id += 1
        turn = self._current_turn = self._turn_id
        self.player.hold(turn)
        utt.speculation = _Speculation(turn, command)
        now = self.clock.now()
        self.events.emit(Speculation(now, command))
        self._put(self._turns, (command, _TurnTimes(utt.last_voiced, now, now,
                                                    speculative=True), utt.speculation))

    def _drop(self, utt: _Utterance) -> None:
        spec, utt.speculation = utt.speculation, None
        with self._spec_lock:
            spec.dropped = True
        if self._current_turn == spec.turn:
            self._current_turn = 0
            if self._responding == spec.turn:
                self.assistant.cancel.set()
        self.player.discard(spec.turn)
        self._times.pop(spec.turn, None)
        self.events.emit(SpeculationDropped(self.clock.now(), spec.text))

    def _confirm(self, utt: _Utterance, decided: float) -> bool:
        """The utterance ended as speculated: let its answer play. False if it was
        superseded (an announcement took the speaker meanwhile)."""
        spec = utt.speculation
        times = self._times.get(spec.turn)
        if self._current_turn != spec.turn or times is None:
            self._drop(utt)
            return False
        times.decided = decided
        utt.speculation = None
        with self._spec_lock:
            spec.confirmed = True
            result = spec.result
            held, spec.held = spec.held, []
        for event in held:
            self.events.emit(event)
        if result is not None:
            self.assistant.remember(spec.text, result)
        self._transcript(decided, utt.speculative.text.strip(), spec.text)
        self.player.release(spec.turn)
        return True

    def _end(self, utt: _Utterance) -> None:
        self._utt = None
        self.vad.reset()
        decided = self.clock.now()
        self.events.emit(SpeechEnd(utt.last_voiced))
        speech = utt.speech if utt.speculative is not None else \
            silero_confirms(utt.stream.audio)
        if utt.voiced_frames < 5 or not speech:
            self._dismiss(utt, "no speech")  # a click, a knock, or noise webrtcvad took for speech
            return
        if utt.speculation is not None and self._confirm(utt, decided):
            return
        final = utt.speculative or utt.stream.final(keep_greedy=self._is_command)
        transcribed = self.clock.now()
        heard = final.text.strip()
        text = "stop" if utt.barge and not self._is_command(heard) and \
            self._sounds_like_stop(heard) else heard
        if utt.barge and not utt.barge_confirmed:
            # Over the assistant's voice, an unsure transcript is more likely noise or echo.
            if not self._voiced_enough(utt):
                self._dismiss(utt, "too short", heard)
                return
            if text != "stop" and (not self._interrupts(text) or final.avg_logprob < -0.8):
                self._dismiss(utt, "not a request", heard)
                return
            self._barge_in(utt)
        if not text:
            return
        if utt.barge and is_backchannel(text):
            # The interruption stands (playback has stopped) but "um, uh" asks for nothing.
            self.events.emit(Transcript(transcribed, heard, ignored="not a request"))
            return
        command = self._strip_wake(text)
        if command is None:
            self.events.emit(Transcript(transcribed, text, ignored="no wake phrase"))
            return
        if not command.strip(" ,.!?"):
            self._awake_until = transcribed + WAKE_WINDOW_S
            self.events.emit(Transcript(transcribed, text, ignored="wake phrase only"))
            self.events.emit(Wake(transcribed, round(self._awake_until, 2)))
            return
        self._awake_until = -1.0
        self._transcript(transcribed, heard, text)
        self._put(self._turns, (command, _TurnTimes(utt.last_voiced, decided, transcribed)))

    def _transcript(self, t: float, heard: str, command: str) -> None:
        """The final words, and what they were taken as when that differs ("stop")."""
        self.events.emit(Transcript(t, heard, command if command != heard else None))

    def _dismiss(self, utt: _Utterance, reason: str, text: str = "") -> None:
        if utt.barge and not utt.barge_confirmed:
            self.player.resume()
            self.events.emit(BargeInDismissed(self.clock.now(), reason, text))

    def _strip_wake(self, text: str) -> str | None:
        """The request after the wake phrase, or None without one. Whisper spells a wake
        phrase loosely ("A computer", "Hey, Computer.", "heycomputer"), so the first words
        need only be close to it. After the wake phrase alone, the next utterance within
        ``WAKE_WINDOW_S`` needs none."""
        phrase = self.config.wake_phrase.strip().lower()
        if not phrase or self.clock.now() < self._awake_until:
            return text
        words, n = text.split(), len(phrase.split())
        for k in (n, n + 1, n - 1):
            head = " ".join(re.sub(r"[^\w\s']", "", " ".join(words[:k]).lower()).split())
            if k >= 1 and k <= len(words) and \
                    SequenceMatcher(None, head, phrase).ratio() >= WAKE_LIKENESS:
                return " ".join(words[k:])
        return None

    # ------------------------------------------------------------------ responder

    def _respond(self) -> None:
        self._consume(self._turns, self._run_turn)

    def _run_turn(self, text: str, times: _TurnTimes, spec: _Speculation | None = None) -> None:
        if spec is None:
            self._turn_id += 1
            turn = self._current_turn = self._turn_id
        elif spec.dropped:
            return
        else:
            turn = spec.turn
        self._times[turn] = times
        chunker = SentenceChunker()

        def on_text(piece: str) -> None:
            if times.first_text is None:
                times.first_text = self.clock.now()
            if self._current_turn == turn:
                for chunk in chunker.feed(piece):
                    self._put(self._chunks, (turn, chunk))
                    if not times.first_piece.is_set():
                        # Let the synthesiser have the CPU for the first sound; the rest of
                        # the answer has the whole first clause's playing time to catch up.
                        times.first_piece.wait(FIRST_PIECE_WAIT_S)

        self._responding, self._speculating = turn, spec
        try:
            result = self.assistant.turn(text, on_text=on_text, remember=spec is None)
        finally:
            self._responding, self._speculating = 0, None
        if spec is not None:
            with self._spec_lock:
                spec.result = result
                confirmed = spec.confirmed
            if confirmed:
                self.assistant.remember(text, result)
            elif spec.dropped:
                return
        times.path = result.metrics.path
        if result.metrics.path == "llm" and times.first_text is not None:
            self.events.emit(LLMFirstToken(times.first_text))
        if self._current_turn == turn:
            for chunk in chunker.flush():
                self._put(self._chunks, (turn, chunk))
        self._put(self._chunks, (turn, _END))
        if turn in self._interrupted:
            self.assistant.mark_interrupted(self._interrupted.pop(turn))

    def _tool_called(self, call: ToolResult) -> None:
        self._answer_event(ToolCall(self.clock.now(), call.name, call.arguments, call.result,
                                    call.ok))

    def _retrieved(self, found: Retrieved) -> None:
        self._answer_event(Retrieval(self.clock.now(), found.ids,
                                     [h.record.attribution for h in found.hits],
                                     round(found.ms, 1)))

    def _answer_event(self, event: ToolCall | Retrieval) -> None:
        """An event of the answer being generated; a speculative answer's wait for it to be
        confirmed (see ``_Speculation.held``)."""
        spec = self._speculating
        with self._spec_lock:
            if spec is not None and not spec.confirmed:
                if not spec.dropped:
                    spec.held.append(event)
                return
        self.events.emit(event)

    # ------------------------------------------------------------------ voice

    def _speak(self) -> None:
        self._consume(self._chunks, self._speak_chunk)

    def _speak_chunk(self, turn: int, text: object) -> None:
        if text is _END:
            if turn == self._current_turn:  # a cancelled turn has nothing left to end
                self.player.end_turn(turn)
            if turn in self._times and self._times[turn].first_chunk is None:
                self._turn_end(turn)  # an answer with nothing to say ("stop")
            return
        if turn != self._current_turn:
            return  # cancelled by a barge-in
        times = self._times.get(turn)
        now = self.clock.now()
        if times is not None and times.first_chunk is None:
            times.first_chunk = now
        self.events.emit(TTSChunk(now, str(text)))
        words = str(text).split()
        said = 0
        # Piece by piece: the first ~0.2 s plays while the rest of the clause is decoded,
        # and a barge-in stops the decoding too.
        try:
            for piece in self.synth.stream(str(text)):
                if turn != self._current_turn:
                    return
                upto = round(len(words) * piece.upto)
                if len(piece.audio):
                    self.player.enqueue(Chunk(turn, " ".join(words[said:upto]), piece.audio))
                    said = upto
                    if times is not None:
                        times.first_piece.set()
        finally:
            if times is not None:
                times.first_piece.set()  # a clause with nothing to say holds nothing up

    # ------------------------------------------------------------------ player hooks

    def started(self, turn: int, t: float, text: str) -> None:
        self.events.emit(AudioOutStart(t, text))
        times = self._times.get(turn)
        if times is not None and times.first_audio is None:
            times.first_audio = t
            self._turn_end(turn)

    def paused(self, t: float) -> None:
        self.events.emit(AudioOutPause(t))

    def resumed(self, t: float) -> None:
        self.events.emit(AudioOutResume(t))

    def finished(self, turn: int, t: float) -> None:
        self.events.emit(AudioOutStop(t, "done"))
        if self._current_turn == turn:
            self._current_turn = 0

    def interrupted(self, t: float) -> None:
        self.events.emit(AudioOutStop(t, "interrupted"))

    def _turn_end(self, turn: int) -> None:
        times = self._times.pop(turn, None)
        if times is None:
            return

        def ms(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round((a - b) * 1000, 1)

        self.events.emit(TurnEnd(self.clock.now(), times.path, times.speculative, {
            "endpointing": ms(times.decided, times.speech_end),
            "asr_final": ms(max(times.transcribed, times.decided), times.decided),
            "llm_ttft": ms(times.first_text, times.transcribed),
            "first_chunk": ms(times.first_chunk, times.transcribed),
            "tts_first_audio": ms(times.first_audio, times.first_chunk),
            "voice_to_voice": ms(times.first_audio, times.speech_end),
        }))

