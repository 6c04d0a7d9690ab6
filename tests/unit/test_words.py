"""assistant.speech.words: the recogniser's words, and two decodes compared."""

from __future__ import annotations

from assistant.speech.words import Word, disputed, least_sure


def test_a_word_the_second_decode_does_not_have_is_disputed() -> None:
    greedy = (Word("Set", 0.6), Word("a", 0.5), Word("timer", 0.9), Word("for", 0.8),
              Word("15", 0.62), Word("minutes.", 0.9))
    beam = (Word("Set", 0.7), Word("a", 0.5), Word("timer", 0.9), Word("for", 0.8),
            Word("2", 0.4), Word("minutes", 0.9))
    assert [w.probability for w in disputed(greedy, beam)] == [0.6, 0.5, 0.9, 0.8, 0.0, 0.9]
    assert disputed(greedy, greedy) == greedy


def test_numbers_in_words_or_digits_are_the_same_to_the_second_decode() -> None:
    greedy = tuple(Word(w, 0.8) for w in "Set a timer for 2 minutes and 25 seconds".split())
    beam = tuple(Word(w, 0.8) for w in "set a timer for two minutes and twenty five seconds."
                 .split())
    assert disputed(greedy, beam) == greedy
    worded = disputed(beam, greedy)
    assert worded == beam
    other = tuple(Word(w, 0.8) for w in "set a timer for two minutes and twenty six seconds"
                  .split())
    assert [w.text for w in disputed(beam, other) if w.probability == 0.0] == ["twenty", "five"]


def test_a_word_said_twice_is_as_sure_as_its_least_sure_time() -> None:
    assert least_sure((Word("Timer", 0.9), Word("timer.", 0.2), Word("...", 0.1))) == \
        {"timer": 0.2}
