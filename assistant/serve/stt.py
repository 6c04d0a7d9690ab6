"""Speech to text for one Wyoming client: the voice loop's own ears, with no mouth.

A :class:`Dictation` feeds 16 kHz frames to the same :class:`~assistant.voice.listener.Listener`
the voice loop uses (webrtcvad onset, streaming Whisper, Silero's second opinion, and the end
of the utterance judged by its words), wired to hooks that never answer. So a Wyoming client
gets what a person at the microphone gets: partial text while the audio arrives, and the
final text as soon as the words and the silence after them say the user has finished,
usually before the client's ``AudioStop``. Nothing is said back and no turn is taken here.

Every method runs on the server's one recognition thread: Whisper decodes in order of
arrival and never waits behind an LLM answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.config import VoiceConfig
from assistant.speech.asr import Recognizer
from assistant.speech.audio import Clock
from assistant.speech.turn import TurnDetector
from assistant.speech.words import TYPED, Heard
from assistant.voice.events import EventLog, Partial, VoiceEvent
from assistant.voice.frames import MicFrame
from assistant.voice.listener import Listener
from assistant.voice.reply import ReplyHandle, ReplyTimes


def ears_config(voice: VoiceConfig, wake: bool) -> VoiceConfig:
    """The voice settings for listening on behalf of a client: no push-to-talk and no early
    answers (there is nothing to answer here), and no wake phrase unless ``wake`` (a
    satellite's room, which has no recogniser of its own to hear it; Home Assistant has
    woken already)."""
    update: dict[str, object] = {"push_to_talk": False, "speculate": False}
    if not wake:
        update["wake_phrase"] = ""
    return voice.model_copy(update=update)


class _Ears:
    """The listener's hooks for a listener that only transcribes."""

    def __init__(self, is_command: Callable[[str], bool],
                 done: Callable[[str, Heard], None],
                 acts: Callable[[str], bool] | None = None) -> None:
        self.is_command = is_command
        self._done = done
        self._acts = acts

    def acts(self, text: str) -> bool:
        # Only a room's turn, answered here, weighs the words; a client that takes the text
        # alone (Home Assistant's STT) would not gain from the second decode.
        return self._acts is not None and self._acts(text)

    def may_prefill(self, words: str) -> bool:
        return False

    def may_speculate(self, words: str, heard: Heard = TYPED) -> bool:
        return False

    def pause_playback(self) -> None:
        """Nothing plays here."""

    def resume_playback(self) -> None:
        """Nothing plays here."""

    def interrupt(self) -> None:
        """Nothing to interrupt."""

    def answer(self, text: str, times: ReplyTimes,
               heard: Heard = TYPED) -> ReplyHandle:
        self._done(text, heard)
        return ReplyHandle(0, text, times)

    def confirm(self, reply: ReplyHandle, decided: float) -> bool:
        return False  # no speculation is ever started (may_speculate)

    def release(self, reply: ReplyHandle) -> None:
        """See :meth:`confirm`."""

    def drop(self, reply: ReplyHandle) -> None:
        """See :meth:`confirm`."""

    def prefill(self, utterance: int, heard: str, words: str) -> None:
        """No LLM reads ahead for a transcription."""


class Dictation:
    """One utterance from a client: :meth:`hear` returns the words that settled meanwhile
    (two successive hypotheses agree on them); :attr:`text` is the final text once
    :attr:`done`, and :attr:`heard` its words with their probabilities. ``acts``: the test
    for a command that changes something, whose words get a second decode (a room's
    utterance, which this server answers)."""

    def __init__(self, recognizer: Recognizer, is_speech: Callable[[np.ndarray], bool],
                 voice: VoiceConfig, is_command: Callable[[str], bool],
                 detector: TurnDetector | None = None, wake: bool = False,
                 backlog: Callable[[], int] | None = None,
                 acts: Callable[[str], bool] | None = None) -> None:
        self.done = False
        self.text = ""
        self.heard: Heard = TYPED
        self.pending = 0
        """Frames received and not yet heard."""
        self._frames = 0
        self._settled: list[str] = []
        self._last: list[str] = []
        self._news: list[str] = []
        self.clock = Clock()
        events = EventLog()
        events.listeners.append(self._on_event)
        self.listener = Listener(recognizer, is_speech, ears_config(voice, wake), events,
                                 self.clock,
                                 _Ears(is_command, self._finished, acts), (),
                                 backlog or (lambda: self.pending), detector)

    def hear(self, frames: list[np.ndarray]) -> list[str]:
        """Take 20 ms frames (``pending`` already counts them; ignored once done); returns
        the words that settled meanwhile, in pieces."""
        for frame in frames:
            self.pending -= 1
            if self.done:
                continue
            self.listener.handle(MicFrame(self._frames, frame, False, 0.0))
            self._frames += 1
            self.clock.advance()
        news, self._news = self._news, []
        return news

    @property
    def hearing(self) -> bool:
        """Speech has begun and not ended yet."""
        return self.listener.hearing

    def finish(self) -> None:
        """The audio ended: whatever was being said is final now (or nothing was said)."""
        if not self.done:
            self.listener.finish()
            self.done = True

    def _finished(self, text: str, heard: Heard) -> None:
        self.text = text
        self.heard = heard
        self.done = True

    def _on_event(self, event: VoiceEvent) -> None:
        if isinstance(event, Partial):
            words = event.text.split()
            agreed = 0
            while agreed < min(len(words), len(self._last)) and \
                    words[agreed] == self._last[agreed]:
                agreed += 1
            self._last = words
            if agreed > len(self._settled) and words[:len(self._settled)] == self._settled:
                new, self._settled = words[len(self._settled):agreed], words[:agreed]
                self._news.append(" ".join(new))
