"""Words the recogniser was unsure of: when a spoken turn asks before it answers.

Whisper gives each word a probability (:class:`assistant.speech.asr.Word`); the voice loop
hands the turn the words under ``asr.unsure_below``. Typed text has none: it is what the user
wrote. Measured on the trust cases (``scripts/make_trust_cases.py`` keeps every word's
probability), a word tiny.en got wrong is often, not always, one it was unsure of: "Add red
and mugger to the shopping list" has "mugger" at 0.30, "Potent on the shopping list" (for
"put eggs on ...") has "potent" at 0.06; but right words can be unsure too ("cancel the
pizza timer": "pizza" 0.25), so a question costs the user one "yes".

* A command that changes something asks "Did I hear that right: …?" when a word of its
  values is unsure (a word of a label, list item, fact or reminder text, a number or a time),
  or an unsure word that is none of its skill's words, small words or fillers ("set an
  alarm for 10 now", said "ten p.m."). The skill's own words do not count: its pattern
  matched them.
* A read-only command answers at once: nothing changes, and its answer repeats what was
  heard ("10 to the power of 3 is 1000").
* Words that would go to the LLM are asked again ("Sorry, I'm not sure I heard that right")
  when one of them that is neither a skill's word, a small word nor a filler is unsure;
  only once in a row, so a repeat heard as unsure again is answered.
"""

from __future__ import annotations

import re

from assistant.speech.asr import norm_word
from assistant.understand.classify import Understanding
from assistant.understand.soundalike import GLUE, NUMBER_WORDS, skill_words

FILLERS = frozenset(
    "um umm uh er hmm hey well oh ah okay ok so and but or i'm i'll i'd i've he who could "
    "can please".split())
"""Words Whisper starts an utterance with when it is unsure how it begins; they carry no
value ("I'll set an alarm for ...", "But a time run for ...")."""
_NUMBERS = frozenset(NUMBER_WORDS) | {"half", "quarter"}


def value_words(u: Understanding, words: list[str]) -> list[str]:
    """The heard ``words`` (normalised) that give a command its values: the words of its
    string arguments, and numbers in digits or words (a duration, a time, a number)."""
    said = {norm_word(w) for v in u.arguments.values() if isinstance(v, str) for w in v.split()}
    return [w for w in words if w in said or w in _NUMBERS or re.search(r"\d", w)]


def unexplained(words: list[str], vocabulary: frozenset[str]) -> list[str]:
    """The ``words`` that are none of the skills' words, small words or fillers."""
    return [w for w in words if w not in vocabulary and w not in GLUE and w not in FILLERS]


def doubted(u: Understanding, heard: str, unsure: frozenset[str],
            vocabulary: frozenset[str]) -> list[str]:
    """The unsure words that should stop ``u`` (the turn's reading of ``heard``) from being
    answered without asking; empty when it may go ahead."""
    words = [w for w in map(norm_word, heard.split()) if w]
    if u.kind == "command" and u.skill is not None and not u.skill.read_only:
        own = skill_words(u.skill) | _NUMBERS  # "now" is another skill's word, not an alarm's
        asked = set(value_words(u, words)) | set(unexplained(words, own))
        return [w for w in words if w in unsure and w in asked]
    if u.kind == "chat":
        return [w for w in unexplained(words, vocabulary) if w in unsure]
    return []
