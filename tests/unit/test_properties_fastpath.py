"""Properties of the fast path's normaliser and matcher over any text: any unicode, control
characters and escapes, up to 50 KB (what a script can pipe into `chat --json`)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.fastpath import FastMatch, match, normalise
from assistant.skills import SkillRegistry

_REGISTRY = SkillRegistry()
_REGISTRY.load_entry_points()

COMMANDS = ["set a timer for five minutes", "what's seventeen times twenty three",
            "how many kilometres in twenty six point two miles", "what time is it",
            "remind me to call mum at 6 pm", "add milk to my shopping list"]
CONTROL = st.sampled_from(["\x00", "\x1b[31m", "\x1b[0m", "\r", "\t", "\x7f", "\u200b",
                           "\ufeff", "\u202e", "\x85", "\u2028", "\\n", "％", "①"])
WORDS = st.sampled_from(["timer", "for", "five", "minutes", "and", "a", "half", "thirty",
                         "second", "oh", "one", "hundred", "plus", "times", "%", "of", "am",
                         "p.m.", "please", "um", "remind", "me", "to", "at", "6", ":", "."])
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WORDS, CONTROL, st.text(max_size=3)), max_size=400).map(" ".join),
    st.builds(lambda c, noise: c + noise, st.sampled_from(COMMANDS), st.text(max_size=50)),
)


def _holds(text: str) -> None:
    norm = normalise(text)
    assert isinstance(norm, str)
    assert norm == norm.strip() and "  " not in norm  # canonical whitespace
    found = match(_REGISTRY, text)
    assert found is None or (isinstance(found, FastMatch) and found.skill.name in
                             _REGISTRY.skills and found.normalised == norm)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_any_text_normalises_and_matches_without_an_exception(text: str) -> None:
    """What must hold: a canonical string and a match of a real skill or None, never an
    exception (the fast path runs before anything else on every utterance)."""
    _holds(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(st.lists(st.one_of(WORDS, CONTROL), min_size=1, max_size=20).map(" ".join),
       st.integers(1, 50_000))
def test_fifty_kilobytes_of_words_and_escapes(piece: str, size: int) -> None:
    """The same over up to 50 KB: no regex of any skill's pattern blows up on long input."""
    text = (piece * (size // len(piece) + 1))[:size]
    _holds(text)
