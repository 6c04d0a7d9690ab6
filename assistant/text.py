"""Text from outside, made safe once where it enters: a turn's words and the text to speak.

Terminal escapes and control characters reach us from pasted text, scripts and network
peers. Left in, they defeat the fast path ("\\x1b[31mwhat time is it" matches nothing and
goes to the LLM) and Piper reads them out ("31 meters"). :func:`clean` removes them, folds
Unicode compatibility forms (full-width letters, ligatures) and collapses whitespace;
:func:`bounded` also cuts what is longer than a turn or a speech can sensibly be, at a word.
"""

from __future__ import annotations

import re
import unicodedata

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
"""CSI sequences (colours, cursor moves), OSC sequences (titles, links), and two-byte escapes."""
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064"
                     r"\ufeff\ufff9-\ufffb]")
"""C0/C1 controls (but tab and newline), zero-width and bidirectional formatting marks."""

MAX_TURN_CHARS = 4000
"""Longest utterance a turn takes (~700 words; a spoken one is rarely 300 characters). The
model's context would drop the rest anyway, and the matchers stay fast."""
MAX_SPEECH_CHARS = 100_000
"""Longest text ``say`` and the servers synthesise (~4 hours of speech)."""


def clean(text: str) -> str:
    """``text`` without escapes and control characters, NFKC-folded, one space between words."""
    text = ANSI.sub(" ", text)
    text = CONTROL.sub(" ", unicodedata.normalize("NFKC", text))
    return " ".join(text.split())


def bounded(text: str, limit: int) -> str:
    """:func:`clean` text, cut to at most ``limit`` characters at a word boundary."""
    text = clean(text[: limit * 2])  # escapes and spaces shrink it; never scan 50 MB
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    return text[: cut if cut > 0 else limit]
