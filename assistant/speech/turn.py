"""End of turn: has the user finished speaking? Judged from the words heard so far.

Silence alone is a poor judge: people pause mid-thought ("set a timer for ... ten minutes")
and a finished question needs no half second of silence to be sure of. The
:class:`Endpointer` decides how much silence ends an utterance from its transcript:

* a phrase that plainly goes on ("... for the", a trailing comma) waits ``endpoint_patient_s``;
* words that already make a command ("what time is it") end after ``endpoint_fast_s``;
* anything else asks the :class:`TurnDetector`: a small LLM's probability that the user's
  message ends after these words (the same idea as LiveKit's turn detector, here with the
  instruct model as it is, no fine-tuning). Likely finished ends after
  ``endpoint_finished_s``, plainly unfinished waits ``endpoint_patient_s``, unsure waits
  ``endpoint_s``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

import numpy as np

from assistant.config import VoiceConfig
from assistant.llm import LLMEngine

Verdict = Literal["finished", "unfinished", "unsure"]

UNFINISHED = re.compile(
    r"\b(?:and|or|but|the|a|an|to|for|of|with|my|your|is|at|in|on|about|from|by|"
    r"um|uh|like|so|then|set|what's|what|how|please)[,.]?$|,$", re.IGNORECASE)
"""A phrase that cannot be the end of a request."""

CACHED_JUDGEMENTS = 32
SYSTEM = "You are a voice assistant. The user speaks; you read a live transcript of their words."
_ENDINGS = (".", "?", "!", " .", " ?", " !")
"""After unpunctuated words, a sentence end is the model's way of saying "finished" too."""


def _plain(text: str) -> str:
    """Lower case, no punctuation: Whisper puts a full stop after a truncated phrase as
    readily as after a finished one, so its punctuation would only mislead the model."""
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


class TurnDetector:
    """P(end of the user's message | the words so far) from a chat model. It runs on its own
    llama.cpp context (``engine`` is not the chat's), so the chat's KV cache is untouched;
    the system prompt's KV cache is kept, each judgement evaluates only the words (~30 ms
    for a short request with SmolLM2-135M on 2 cores)."""

    def __init__(self, engine: LLMEngine, finished_logp: float, unfinished_logp: float) -> None:
        self.engine = engine
        self.finished_logp = finished_logp
        """At or above it (log P(the message ends here)) the words are finished..."""
        self.unfinished_logp = unfinished_logp
        """...below it they plainly go on (``voice.tuning``: calibrated for SmolLM2-135M)."""
        self._prefix = ""
        self._endings: list[int] = []
        self._cache: OrderedDict[str, float] = OrderedDict()
        """The latest judgements: asked again for the same words on every silent frame, and
        a hub asks for several rooms in turn."""

    def load(self) -> None:
        self._prefix, after = self.engine.render_open([{"role": "system", "content": SYSTEM},
                                                       {"role": "user", "content": ""}])
        end_of_message = self.engine.tokenize(after)[0]
        singles = [self.engine.tokenize(s) for s in _ENDINGS]
        self._endings = sorted({end_of_message} | {t[0] for t in singles if len(t) == 1})
        self.engine.next_token_logprobs(self._prefix + "hello")  # the prefix's KV cache

    def finished_logprob(self, text: str) -> float:
        """log P(the message ends after ``text``); -inf for no words."""
        words = _plain(text)
        if not words:
            return float("-inf")
        if words in self._cache:
            self._cache.move_to_end(words)
            return self._cache[words]
        if not self._endings:
            self.load()
        logp = self.engine.next_token_logprobs(self._prefix + words)
        self._cache[words] = float(np.logaddexp.reduce(logp[self._endings]))
        if len(self._cache) > CACHED_JUDGEMENTS:
            self._cache.popitem(last=False)
        return self._cache[words]

    def prefill(self, text: str) -> None:
        """Evaluate the words so far (a live transcript): judging words that start the same
        way later evaluates only the rest."""
        words = _plain(text)
        if words:
            if not self._endings:
                self.load()
            self.engine.evaluate(self._prefix + words)

    def verdict(self, text: str) -> Verdict:
        logp = self.finished_logprob(text)
        if logp >= self.finished_logp:
            return "finished"
        return "unfinished" if logp < self.unfinished_logp else "unsure"


class Endpointer:
    """How much silence ends an utterance, judged by what has been said so far."""

    def __init__(self, config: VoiceConfig, is_command: Callable[[str], bool],
                 detector: TurnDetector | None = None) -> None:
        self.config = config
        self.is_command = is_command
        self.detector = detector

    def is_complete_command(self, text: str) -> bool:
        """The words already make a command and do not trail off ("set a timer for")."""
        text = text.strip()
        return bool(text) and not UNFINISHED.search(text) and self.is_command(text)

    def silence_after(self, text: str, judge: bool = False) -> float:
        """The rules first; the detector only when ``judge`` (it costs an LLM call: asked
        once per utterance, on the transcript made in the closing silence)."""
        c = self.config
        text = text.strip()
        if not text:
            return c.endpoint_s
        if UNFINISHED.search(text):
            return c.endpoint_patient_s
        if self.is_command(text):
            return c.endpoint_fast_s
        if not judge or self.detector is None:
            return c.endpoint_s
        return {"finished": c.endpoint_finished_s, "unfinished": c.endpoint_patient_s,
                "unsure": c.endpoint_s}[self.detector.verdict(text)]
