"""Outside text made safe where it enters (assistant.text), and cut for Piper
(assistant.speech.tts.spoken_pieces): properties over any Unicode."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.speech.tts import spoken_pieces
from assistant.text import ANSI, CONTROL, bounded, clean

ANY_TEXT = st.text(st.characters(codec=None), max_size=2000)
ESCAPES = st.sampled_from(["\x1b[31m", "\x1b[0m", "\x1b]0;title\x07", "\x1b[2J", "\x00", "\r",
                           "\x7f", "\u200b", "\u202e", "\ufeff", "\x1bM", "\x9b"])


@settings(max_examples=300)
@given(ANY_TEXT)
def test_clean_text_has_no_escapes_or_controls_and_is_stable(text: str) -> None:
    out = clean(text)
    assert not CONTROL.search(out) and "\x1b" not in out
    assert out == " ".join(out.split())
    assert clean(out) == out


@settings(max_examples=200)
@given(st.lists(st.one_of(ESCAPES, st.sampled_from(["what", "time", "is", "it"])), max_size=30))
def test_escapes_between_words_leave_just_the_words(parts: list[str]) -> None:
    words = [p for p in parts if p.isalpha()]
    assert clean(" ".join(parts)).split() == words


def test_a_coloured_command_reads_as_the_command() -> None:
    assert clean("\x1b[31mwhat time\x1b[0m is it?\x07") == "what time is it?"
    assert ANSI.sub("", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link"


@settings(max_examples=200)
@given(ANY_TEXT, st.integers(1, 500))
def test_bounded_text_fits_its_limit(text: str, limit: int) -> None:
    out = bounded(text, limit)
    assert len(out) <= limit
    assert clean(text).startswith(out)


def test_fifty_kilobytes_are_cut_at_a_word() -> None:
    out = bounded("word " * 10_000, 4000)
    assert len(out) <= 4000 and out.endswith("word")


@settings(max_examples=200)
@given(st.text(st.sampled_from("ab ,.!?;"), max_size=3000), st.integers(1, 60))
def test_spoken_pieces_keep_every_word_and_never_run_long(text: str, max_words: int) -> None:
    pieces = list(spoken_pieces(text, max_words))
    assert all(0 < len(p.split()) <= max_words for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_sentences_stay_together_while_they_fit() -> None:
    assert list(spoken_pieces("Hello there. How are you?")) == ["Hello there. How are you?"]
    long = ", ".join(["one two three"] * 30)  # 90 words, commas only
    pieces = list(spoken_pieces(long, 40))
    assert len(pieces) == 30 and all(re.fullmatch(r"one two three,?", p) for p in pieces)
