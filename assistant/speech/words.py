"""The recogniser's words: each as Whisper wrote it with how sure it was, and how two decodes
of the same audio are compared.

:class:`Heard` (the words and how noisy the room was) is what the voice loop hands a turn
beside its text (:mod:`assistant.understand.hearing` judges it); :func:`disputed` is the
second opinion of :meth:`assistant.speech.asr.Recognizer.transcribe` on a command that acts.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from text_to_num import alpha2digit


@dataclass(frozen=True)
class Word:
    """A word as Whisper wrote it, and how sure the model was of it."""

    text: str
    probability: float
    """The model's probability of the least sure of the word's tokens, each given the words
    before it (a word is as doubtful as its most doubtful piece: "mug|ger"). In a greedy
    decode a token counts in any case, with or without its leading space ("Set" is " set");
    a beam decode's (scored by ``align``) as written."""


@dataclass(frozen=True)
class Heard:
    """How a spoken turn was heard, beside its text. Typed text is :data:`TYPED`."""

    words: tuple[Word, ...] = ()
    """The recogniser's words and their probabilities."""
    snr_db: float | None = None
    """How far the speech stood above the room's noise, estimated from the audio
    (:func:`assistant.speech.noise.snr_db`); None when unknown."""


TYPED = Heard()
"""Text that was typed, not heard: what the user wrote, nothing to doubt."""


def norm_word(w: str) -> str:
    """A word compared without case and punctuation ("Timer." is "timer")."""
    return re.sub(r"[^\w']", "", w.lower())


def least_sure(heard: tuple[Word, ...]) -> dict[str, float]:
    """Each heard word (normalised) and its lowest probability in the utterance."""
    out: dict[str, float] = {}
    for x in heard:
        if w := norm_word(x.text):
            out[w] = min(x.probability, out.get(w, 1.0))
    return out


def disputed(words: tuple[Word, ...], other: tuple[Word, ...]) -> tuple[Word, ...]:
    """``words`` with probability 0 for each one that a second decode of the same audio
    (``other``) does not have in the same place, numbers compared by value ("2" is "two",
    "25" is "twenty five"). Measured on the trust grid's commands that act (363 utterances,
    scripts/make_trust_cases.py's voices and noises): where the greedy words were right, the
    beam never gave other numbers (0 of 102); where they had a wrong number, it gave other
    numbers in 32 of 92, so a confident mishearing ("15 minutes" at 0.62, said "two
    minutes") is asked back rather than acted on."""
    mine, theirs = _compared(words), _compared(other)
    matcher = difflib.SequenceMatcher(a=[t for t, _ in mine], b=[t for t, _ in theirs],
                                      autojunk=False)
    agreed = {i for block in matcher.get_matching_blocks()
              for _, span in mine[block.a:block.a + block.size] for i in span}
    return tuple(w if i in agreed else Word(w.text, 0.0) for i, w in enumerate(words))


_LONGEST_NUMBER = 4
"""Words one spoken number may take ("one hundred and twenty")."""


def _compared(words: tuple[Word, ...]) -> list[tuple[str, range]]:
    """Each word as two decodes are compared (:func:`disputed`), with the indices of the
    words it stands for: numbers in digits, as the fast path reads them (text2num's
    ``alpha2digit``), "twenty five" as one "25"."""
    keys = [norm_word(w.text) for w in words]
    out: list[tuple[str, range]] = []
    i = 0
    while i < len(keys):
        for j in range(min(len(keys), i + _LONGEST_NUMBER), i, -1):
            token = alpha2digit(" ".join(keys[i:j]), "en", threshold=0)
            if j == i + 1 or token.isdigit():
                out.append((token, range(i, j)))
                i = j
                break
    return out
