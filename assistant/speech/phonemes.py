"""Words as the sounds they are made of: espeak-ng's phonemes, the ones Piper speaks with.

Used to tell which words a recogniser may have confused ("Chet" and "check" differ in one
sound). espeak-ng is one global state per process, and Piper's voice switches it on every
sentence it synthesises, so every call here holds Piper's own lock around it; a reply being
spoken on another thread waits at most one phonemisation (~0.2 ms). Piper (and the
onnxruntime it brings) is imported on the first call, not with this module: a text turn that
a skill's pattern answered loads no audio library.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from piper.phonemize_espeak import EspeakPhonemizer

VOICE = "en-us"
# Stress, length, syllable and word marks: "timers" and "timer's" sound the same for this.
_MARKS = re.compile(r"[ˈˌːˑ.\s,;:?!]")


@lru_cache(maxsize=1)
def _lock() -> threading.Lock:
    """Piper's lock around espeak-ng (ours alone if this Piper has none)."""
    from piper import voice

    return getattr(voice, "_ESPEAK_PHONEMIZER_LOCK", threading.Lock())


def _phonemizer() -> EspeakPhonemizer:
    """Piper's process-wide phonemizer (made here, as Piper would, if no voice has run)."""
    from piper import voice
    from piper.phonemize_espeak import EspeakPhonemizer

    if getattr(voice, "_ESPEAK_PHONEMIZER", None) is None:
        voice._ESPEAK_PHONEMIZER = EspeakPhonemizer()  # type: ignore[attr-defined]
    return voice._ESPEAK_PHONEMIZER  # type: ignore[attr-defined,return-value]


@lru_cache(maxsize=8192)
def phonemes(words: str) -> str:
    """The phonemes of ``words`` as one string, marks and word gaps removed:
    ``phonemes("check") == "tʃɛk"``. Empty for text with no letters."""
    if not re.search(r"[A-Za-z]", words):
        return ""
    with _lock():
        sentences = _phonemizer().phonemize(VOICE, words)
    return _MARKS.sub("", "".join(p for sentence in sentences for p in sentence))
