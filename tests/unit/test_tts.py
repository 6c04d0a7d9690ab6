"""assistant.speech.tts's text side: `speakable` normalisation and the streaming
`SentenceChunker`. No models."""

from __future__ import annotations

import re

import pytest

from assistant.speech.tts import SentenceChunker, speakable

# ---------------------------------------------------------------------- speakable

SPOKEN = [
    ("14:30", "two thirty p m"),
    ("It's 4:17 PM.", "four seventeen p m"),
    ("Meet me at 4:17 pm", "four seventeen p m"),
    ("07:05", "seven oh five a m"),
    ("23:59", "eleven fifty nine p m"),
    ("12:00", "twelve p m"),
    ("00:15", "twelve fifteen a m"),
    ("5 km", "five kilometres"),
    ("1 km", "one kilometre"),
    ("1 km/h", "one kilometre per hour"),
    ("3.5 km", "three point five kilometres"),
    ("42.16", "forty two point one six"),
    ("80%", "eighty percent"),
    ("$5", "five dollars"),
    ("€3", "three euros"),
    ("30 °C", "thirty degrees Celsius"),
    ("30°C", "thirty degrees Celsius"),
    ("1 °F", "one degree Fahrenheit"),
    ("November 23, 2026", "November twenty-third, twenty twenty-six"),
    ("3rd", "third"),
    ("the 21st", "the twenty-first"),
    ("2 + 2 = 4", "two plus two equals four"),
    ("5x3", "five times three"),
    ("salt & pepper", "salt and pepper"),
]


@pytest.mark.parametrize(("text", "expected"), SPOKEN)
def test_speakable_says_numbers_times_and_units(text: str, expected: str) -> None:
    spoken = speakable(text)
    assert expected in spoken
    assert not re.search(r"\d", spoken), spoken


def test_speakable_full_sentences() -> None:
    assert speakable("It's 4:17 PM.") == "It's four seventeen p m."
    assert speakable("2 + 2 = 4") == "two plus two equals four"
    assert speakable("5 km") == "five kilometres"


def test_speakable_date_reads_ordinal_day_and_year() -> None:
    spoken = speakable("It is Monday, November 23, 2026.")
    assert "twenty-third" in spoken
    assert "twenty twenty-six" in spoken
    assert "two thousand" not in spoken


def test_speakable_removes_markdown() -> None:
    spoken = speakable("**Bold** and *italic* with `code` and # heading > quote_")
    assert not re.search(r"[*_`#>]", spoken)
    assert spoken == "Bold and italic with code and heading quote"


def test_speakable_collapses_whitespace_and_keeps_plain_text() -> None:
    assert speakable("  hello \n  world  ") == "hello world"
    assert speakable("Dr. Smith is in.") == "Dr. Smith is in."
    assert speakable("") == ""


# Real bugs found while writing these tests. Each test states the behaviour a listener needs.


def test_speakable_one_dollar_is_singular() -> None:
    assert speakable("It costs $1.") == "It costs one dollar."


def test_speakable_thousands_separator() -> None:
    spoken = speakable("About 1,000 people came.")
    assert "thousand" in spoken
    assert "zero" not in spoken


def test_speakable_reads_maths_skill_big_numbers() -> None:
    from skills.maths import say_number

    spoken = speakable(f"That is {say_number(1_000_000)}.")
    assert "million" in spoken
    assert "zero" not in spoken


def test_speakable_in_as_preposition_is_not_inches() -> None:
    spoken = speakable("That happens to 1 in 3 people.")
    assert "inch" not in spoken
    assert "one in three" in spoken


def test_speakable_negative_temperature() -> None:
    spoken = speakable("It is -5 °C outside.")
    assert "minus five degrees Celsius" in spoken


# ---------------------------------------------------------------------- chunking


def _tokens(text: str) -> list[str]:
    """Split like an LLM tokenizer: words with their leading space, punctuation alone, so
    '3.5' arrives as '3', '.', '5' and 'Dr.' as 'Dr', '.'."""
    pieces = re.findall(r"\s*\w+|\s*[^\w\s]|\s+", text)
    assert "".join(pieces) == text
    return pieces


def _chunks(text: str, pieces: list[str] | None = None, **kwargs: int) -> list[str]:
    chunker = SentenceChunker(**kwargs)
    out: list[str] = []
    for piece in (_tokens(text) if pieces is None else pieces):
        out += list(chunker.feed(piece))
    out += list(chunker.flush())
    return out


FEEDS = {
    "tokens": _tokens,
    "chars": list,
    "whole": lambda text: [text],
}


@pytest.mark.parametrize("feed", FEEDS)
def test_chunker_splits_at_sentence_ends(feed: str) -> None:
    text = "Hello world! How are you? I am fine. Thanks."
    assert _chunks(text, FEEDS[feed](text)) == [
        "Hello world!", "How are you?", "I am fine.", "Thanks."]


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(("text", "whole"), [
    ("It costs 3.5 dollars today. Anything else?", "It costs 3.5 dollars today."),
    ("I called the office. Dr. Smith will see you now. Bye.", "Dr. Smith will see you now."),
    ("Take one. Use e.g. this one here. Done.", "Use e.g. this one here."),
    ("Noted. Meet at 4:30 tomorrow. Bye.", "Meet at 4:30 tomorrow."),
    ("Here is the list. 1. Eggs 2. Milk 3. Flour. Enjoy!", "1. Eggs 2. Milk 3. Flour."),
    ("Okay. The total is 42.16 euros. Bye.", "The total is 42.16 euros."),
])
def test_chunker_never_splits_numbers_abbreviations_times_or_lists(
        feed: str, text: str, whole: str) -> None:
    chunks = _chunks(text, FEEDS[feed](text))
    assert whole in chunks, chunks


def test_chunker_first_chunk_may_end_at_a_clause_of_enough_words() -> None:
    text = "Well, okay then, here we go, and more. Next one, with a comma, stays whole."
    assert _chunks(text) == [
        "Well, okay then,", "here we go, and more.", "Next one, with a comma, stays whole."]


def test_chunker_first_clause_needs_first_min_words() -> None:
    text = "Sure thing, I can do that. It is done, all of it."
    # "Sure thing" is two words: fewer than the default three, so the sentence wins.
    assert _chunks(text) == ["Sure thing, I can do that.", "It is done, all of it."]
    assert _chunks(text, first_min_words=2) == [
        "Sure thing,", "I can do that.", "It is done, all of it."]


def test_chunker_only_the_first_chunk_is_cut_at_a_comma() -> None:
    text = "First sentence here. Then, a second one, with commas, in it, ends here."
    chunks = _chunks(text)
    assert chunks == ["First sentence here.", "Then, a second one, with commas, in it, ends here."]


def test_chunker_cuts_long_runs_without_punctuation_below_max_chars() -> None:
    text = " ".join(f"word{i}" for i in range(120))
    chunks = _chunks(text, max_chars=60)
    assert len(chunks) > 5
    assert all(len(c) <= 60 for c in chunks), [len(c) for c in chunks]
    assert " ".join(chunks).split() == text.split()


def test_chunker_long_run_prefers_the_last_clause() -> None:
    text = "alpha beta gamma delta, " + "x " * 40
    chunker = SentenceChunker(first_min_words=100, max_chars=50)
    chunks = list(chunker.feed(text))
    assert chunks[0] == "alpha beta gamma delta,"


def test_chunker_flush_returns_the_remainder_once() -> None:
    chunker = SentenceChunker()
    got = []
    for piece in _tokens("Hello there. And then"):
        got += list(chunker.feed(piece))
    assert got == ["Hello there."]
    assert list(chunker.flush()) == ["And then"]
    assert list(chunker.flush()) == []
    assert list(SentenceChunker().flush()) == []


def test_chunker_pauses_a_long_first_sentence_before_its_verb() -> None:
    whole = "Seventeen times twenty three is three hundred and ninety one."
    chunker = SentenceChunker()
    assert list(chunker.feed(whole)) == ["Seventeen times twenty three"]
    assert list(chunker.flush()) == ["is three hundred and ninety one."]
    chunker = SentenceChunker()  # words are counted as spoken
    assert [*chunker.feed("17 times 23 is 391."), *chunker.flush()] == ["17 times 23",
                                                                          "is 391."]
    # short sentences, a verb too close to either end, and later sentences stay whole
    for text in ("It's eleven fifty two p m.", "The timer is done now.",
                 "It is three hundred and ninety one."):
        chunker = SentenceChunker()
        assert [*chunker.feed(text), *chunker.flush()] == [text], text
    # Streamed, a sentence is cut once two words from the verb on have come: waiting for
    # more costs a token each, and the rest may never show that it was short.
    chunker = SentenceChunker()
    got = [c for piece in ("The", " timer", " is", " done", " now", ".") for c in
           chunker.feed(piece)]
    assert [*got, *chunker.flush()] == ["The timer", "is done now."]
    chunker = SentenceChunker()
    got = [*chunker.feed("Okay. Seventeen times twenty three is three hundred and ninety one. "),
           *chunker.flush()]
    assert got == ["Okay.", "Seventeen times twenty three is three hundred and ninety one."]


def test_chunker_waits_for_whitespace_after_a_period() -> None:
    chunker = SentenceChunker()
    assert list(chunker.feed("It is 3")) == []
    assert list(chunker.feed(".")) == []
    assert list(chunker.feed("5 metres long. ")) == ["It is 3.5 metres long."]


LONG_ANSWER = (
    "Sure thing, I can do that. Dr. Smith said it costs $3.50, e.g. for 2 people; "
    "meet at 4:30 on November 23, 2026. You'll need: 1. Eggs 2. Milk 3. Flour. "
    "Wait... really?! Yes! " + "and on " * 50 + "and that's all, folks."
)


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("max_chars", [40, 220])
def test_chunker_joined_chunks_reproduce_the_words(feed: str, max_chars: int) -> None:
    chunks = _chunks(LONG_ANSWER, FEEDS[feed](LONG_ANSWER), max_chars=max_chars)
    assert len(chunks) >= 4
    assert all(c == c.strip() and c for c in chunks)
    assert " ".join(chunks).split() == LONG_ANSWER.split()


def test_chunker_token_and_char_feeds_agree() -> None:
    by_token = _chunks(LONG_ANSWER)
    by_char = _chunks(LONG_ANSWER, list(LONG_ANSWER))
    assert by_token == by_char


# ---------------------------------------------------------------------- ASR text helpers


@pytest.mark.parametrize("feed", FEEDS)
def test_chunker_leaves_fenced_code_out_of_speech(feed: str) -> None:
    text = ("Here is how. You can do it like this:\n```python\ndef add(a, b):\n    return a + b\n"
            "```\nThat adds two numbers. Use `add` often.")
    spoken = " ".join(_chunks(text, FEEDS[feed](text)))
    assert "return" not in spoken and "python" not in spoken and "```" not in spoken
    assert spoken.startswith("Here is how.")
    assert "That adds two numbers." in spoken
    assert "`add`" in spoken  # inline code is spoken (speakable drops the backticks)


def test_chunker_drops_an_unclosed_code_fence_at_the_end() -> None:
    assert _chunks("Sure. ```\nprint('hi')\n") == ["Sure."]
