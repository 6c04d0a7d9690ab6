"""The voice loop's decisions that are plain functions of words and levels, with no state and no
model: is it a listener's noise, does it start with the wake phrase, does it sound like "stop",
does it justify cutting the assistant off, how loud must the user be over its echo.

The thresholds come from ``voice.tuning`` (:class:`assistant.config.VoiceTuning`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from difflib import SequenceMatcher

import numpy as np

from assistant.config import VoiceTuning

BACKCHANNELS = {"mm", "mhm", "mmhmm", "mmhm", "hm", "hmm", "uhhuh", "uh", "um", "ah", "oh",
                "yeah", "yep", "ok", "okay", "right", "sure", "i see", "mm hm", "uh huh"}
FILLERS = {"um", "uh", "er", "erm", "hm", "hmm", "mm", "ah", "oh"}
"""Sounds, not words: any number of them is still not a request ("Um, uh, uh,")."""


def rms(x: np.ndarray) -> float:
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


def strip_wake(text: str, phrase: str, likeness: float) -> str | None:
    """The request after the wake ``phrase``, or None without one. Whisper spells a wake
    phrase loosely ("A computer", "Hey, Computer.", "heycomputer"), so the first words need
    only be close to it."""
    phrase = phrase.strip().lower()
    if not phrase:
        return text
    words, n = text.split(), len(phrase.split())
    for k in (n, n + 1, n - 1):
        head = " ".join(re.sub(r"[^\w\s']", "", " ".join(words[:k]).lower()).split())
        if 1 <= k <= len(words) and SequenceMatcher(None, head, phrase).ratio() >= likeness:
            return " ".join(words[k:])
    return None


def stop_prompt(phrases: Sequence[str]) -> str:
    """The stop phrases as Whisper context: over the assistant's voice, damaged by echo
    cancellation, a short "stop" is otherwise often heard as "top" or "uh"."""
    return " ".join(p.capitalize() + "." for p in phrases)


def sounds_like_stop(text: str, phrases: Sequence[str], likeness: float) -> bool:
    """Over the assistant's voice, Whisper tiny often mishears a short stop ("Start
    talking.", "cancel bat", "Be quite."): up to three words spelt close to one of the stop
    ``phrases`` count as one. A wrong guess only silences the assistant."""
    words = re.sub(r"[^a-z' ]", "", text.lower()).split()
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # "Stop. Stop."
    if not phrases or not 0 < len(words) <= 3:
        return False
    said = " ".join(words)
    return any(SequenceMatcher(None, said, phrase).ratio() >= likeness for phrase in phrases)


def interrupts(text: str, is_command: Callable[[str], bool], min_words: int) -> bool:
    """Words that justify cutting the assistant off: a command ("stop", "what time is it") or
    a real sentence of ``min_words`` words or more, never "mm-hm" or "okay"."""
    if is_backchannel(text):
        return False
    return len(text.split()) >= min_words or is_command(text)


def echo_floor(residuals: Collection[float], tuning: VoiceTuning) -> float:
    """What AEC leaves of the assistant's voice, as a fraction of its level, from the recent
    ``residuals`` (microphone level / assistant level while it spoke alone): the floor for a
    clean echo path until enough are known; more in a reverberant room or from a distorting
    speaker, where the gate follows what is left (so the user must speak up) rather than let
    the assistant stutter on its own echo."""
    if len(residuals) < tuning.echo_learn_frames:
        return tuning.echo_floor_min
    recent = float(np.percentile(np.fromiter(residuals, float), tuning.echo_percentile))
    return min(tuning.echo_floor_max, max(tuning.echo_floor_min, tuning.echo_margin * recent))
