"""The prefiller stage: while the user speaks, the LLM reads the answer's prompt up to the words
heard so far (no generation), and the turn model its context; llama.cpp keeps the longest
common prefix, so the answer prefills only the words that came after, and judging the end of
the turn evaluates only the last words.

Not once the user has gone quiet: the final decode is about to run then, and a prefill beside
it would slow it down for nothing (the answer evaluates the words itself right after).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.config import VoiceTuning
from assistant.speech.turn import TurnDetector
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.frames import Prefill


@dataclass(eq=False)
class Prefiller:
    """Handles :class:`Prefill` frames on the prefiller's thread. ``speaking(utterance)``
    says whether the listener still hears that utterance; ``backlog()`` how many microphone
    frames it has not seen yet."""

    port: AssistantPort
    detector: TurnDetector | None
    speaking: Callable[[int], bool]
    backlog: Callable[[], int]
    tuning: VoiceTuning

    def handle(self, frame: Prefill) -> None:
        if not self._still_speaking(frame.utterance):
            return
        self.port.prefill(frame.words)
        if self.detector is not None and self._still_speaking(frame.utterance):
            self.detector.prefill(frame.heard)

    def _still_speaking(self, utterance: int) -> bool:
        """Waits for the listener to catch up with the microphone first (it falls behind
        while Whisper runs: the frames it has not seen decide)."""
        deadline = time.monotonic() + self.tuning.catch_up_wait_s
        while self.backlog() > 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.speaking(utterance)
