"""How a spoken turn was heard (its words, how sure of each, how noisy the room): when the
turn asks before it answers.

Whisper gives each word a probability (:class:`assistant.speech.words.Word`); the voice loop
hands the turn the words it heard, and a word under ``asr.unsure_below`` is *unsure*. Typed
text has none: it is what the user wrote. Measured on the trust cases
(``scripts/make_trust_cases.py`` keeps every word's probability), a word tiny.en got wrong is
often, not always, one it was unsure of: "Add red and mugger to the shopping list" has
"mugger" at 0.30, "Potent on the shopping list" (for "put eggs on ...") has "potent" at 0.06;
but right words can be unsure too ("cancel the pizza timer": "pizza" 0.25), so a question
costs the user one "yes". Wrong words can be sure, too ("15 minutes" at 0.62, said "two
minutes"): the voice loop decodes a command that acts a second time with the beam
(``asr.second_opinion``), and a word the two decodes disagree on comes with probability 0.
That "15" came in babble at 5 dB, where the two decodes are equally lost: in a room noisier
than ``asr.noisy_below_db`` (:mod:`assistant.speech.noise`) the values of a command that acts
must be heard at ``asr.sure_in_noise`` or they are asked back.

* A command that changes something asks "Did I hear that right: …?" when a word of its
  values is unsure (a word of a label, list item, fact or reminder text, a number or a time),
  or an unsure word that is none of its skill's words, small words or fillers ("set an
  alarm for 10 now", said "ten p.m."). The skill's own words do not count: its pattern
  matched them; nor do small words and fillers, unless the second decode disputed them
  right beside a value ("for 11 of I'm", said "eleven oh five am").
* A read-only command answers at once: nothing changes, and its answer repeats what was
  heard ("10 to the power of 3 is 1000").
* Words that would go to the LLM are asked again ("Sorry, I'm not sure I heard that right")
  when a word that only the skills use is unsure ("set of timers for half an hour", "put
  eggs on the shopping world"): a command was probably said and misheard, and the model
  would chat about it instead. Any other word asks only when it is *very* unsure (under half
  of ``asr.unsure_below``: "And" for "Add" at 0.07), because questions heard right are full
  of names the recogniser is unsure of ("octopuses" 0.22, "bakery" 0.25). Only once in a
  row, so a repeat heard as unsure again is answered.
"""

from __future__ import annotations

import re

from assistant.config.voice import ASRConfig
from assistant.speech.words import Heard, least_sure, norm_word
from assistant.understand.classify import Understanding
from assistant.understand.soundalike import GLUE, NUMBER_WORDS, skill_words

FILLERS = frozenset(
    "um umm uh er hmm hey well oh ah okay ok so and but or i'm i'll i'd i've he who could "
    "can please".split())
"""Words Whisper starts an utterance with when it is unsure how it begins; they carry no
value ("I'll set an alarm for ...", "But a time run for ...")."""
ASKING = frozenset(
    "what what's whats how how's which when where who why is are do does tell me you i it "
    "it's".split())
"""Words the skills' phrasings share with every question ("what's the time", "how much disk
space"): an unsure one is no sign that a command was meant, nor, however unsure, of a
question misheard (Whisper doubts how a sentence starts: "What's" at 0.04)."""
_NUMBERS = frozenset(NUMBER_WORDS) | {"half", "quarter"}


def value_words(u: Understanding, words: list[str]) -> list[str]:
    """The heard ``words`` (normalised) that give a command its values: the words of its
    string arguments, and numbers in digits or words (a duration, a time, a number)."""
    said = {norm_word(w) for v in u.arguments.values() if isinstance(v, str) for w in v.split()}
    return [w for w in words if w in said or w in _NUMBERS or re.search(r"\d", w)]


def unexplained(words: list[str], vocabulary: frozenset[str]) -> list[str]:
    """The ``words`` that are none of the skills' words, small words or fillers."""
    return [w for w in words if w not in vocabulary and w not in GLUE and w not in FILLERS]


def disputed_beside(words: list[str], values: set[str], sure: dict[str, float]) -> set[str]:
    """The ``words`` the second decode disputed (probability 0) that run on from a value,
    or from the word after it (its unit): where that value ends is in doubt ("for 11 of
    I'm", said "eleven oh five am": the beam heard other words after the "11")."""
    def disputed(j: int) -> bool:
        return 0 <= j < len(words) and sure.get(words[j], 1.0) == 0.0

    out = set()
    for i, w in enumerate(words):
        if w not in values:
            continue
        for step, j in ((-1, i - 1), (1, i + 1 if disputed(i + 1) else i + 2)):
            while disputed(j):
                out.add(words[j])
                j += step
    return out


def noisy(heard: Heard, asr: ASRConfig) -> bool:
    """Whether ``heard`` came from a room too noisy to trust the recogniser's confidence."""
    return heard.snr_db is not None and heard.snr_db < asr.noisy_below_db


def doubted(u: Understanding, text: str, heard: Heard, asr: ASRConfig,
            vocabulary: frozenset[str]) -> list[str]:
    """The words of ``text`` (read as ``u``; ``heard``: how the recogniser heard it; ``asr``:
    the thresholds) that should stop the turn from being answered without asking; empty
    when it may go ahead."""
    below = asr.unsure_below
    sure = least_sure(heard.words)
    words = [w for w in map(norm_word, text.split()) if w]
    unsure = {w for w in words if sure.get(w, 1.0) < below}
    if u.kind == "command" and u.skill is not None and not u.skill.read_only:
        own = skill_words(u.skill) | _NUMBERS  # "now" is another skill's word, not an alarm's
        values = set(value_words(u, words))
        if noisy(heard, asr):
            unsure |= {w for w in values if sure.get(w, 1.0) < asr.sure_in_noise}
        asked = values | set(unexplained(words, own)) | disputed_beside(words, values, sure)
        return [w for w in words if w in unsure and w in asked]
    if u.kind == "chat":
        commanding = vocabulary - GLUE - FILLERS - ASKING
        return [w for w in words if w in unsure
                and (w in commanding or (sure[w] < below / 2 and w not in ASKING))]
    return []
