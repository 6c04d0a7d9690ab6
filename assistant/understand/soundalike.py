"""Commands the recogniser misheard: a word or two that sounds like a skill's own word.

Whisper tiny.en hears "check my timers" as "Chet my timers" and "recall the dentist
appointment" as "We call the dentist appointment". Nothing matches, so without this the
135M model would answer them. Here an utterance that nothing else claimed is tried again with
one or two of its spans (of one to three words) replaced by a word of the skills' vocabulary
that sounds alike, by the edit distance of their espeak-ng phonemes; when a repaired sentence
is a command with valid arguments, the turn asks "Did you mean “check my timers”?" and runs
it only on a yes. Nothing runs on a guess, so a wrong repair costs one question.

What keeps it from turning questions into commands:

* a skill's word that was heard is never replaced ("what time does the bakery open" keeps
  its "time": "time does" → "timers" would make it a command); only words outside the
  vocabulary are. It may only grow into a longer skill's word it begins, its ending lost
  ("set a time for three hours" → "timer"), and only into a command that would act, in an
  utterance that does not start as a question (so never "what timer does the bakery
  open");
* the small words that glue a command together (a, the, of, in...) may swap with each other
  or be put in where one was lost ("which day of a week is it", "20 minutes remind me..."),
  at a cost;
* yes/no words and "not" are never replaced ("no, keep it" is not "note keep it", "not
  that one" not "note that 1"), nor one-word utterances;
* the phonemes must be close: at most a third of them different, over both repairs, and
  none for a span of three sounds or fewer;
* at least two thirds of the repaired sentence must be the skills' words, the small words
  and the command's arguments: "what pressure should the boat trailer tyres have" →
  "... timers have" matches a loose pattern, but half of its words would be left
  unexplained, so it stays a question.

The vocabulary is the literal words of the skills' fast-path patterns and examples, and the
number words; a plugin's patterns extend it with nothing more to do.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant import fastpath
from assistant.skills import Skill, SkillRegistry
from assistant.speech.phonemes import phonemes

MAX_DISTANCE = 0.34
"""Largest share of phonemes that may differ, for one repair and for two together."""
GLUE_COST = 0.25
"""What swapping one small word for another costs ("of a week" → "of the week")."""
SHORT = 3
"""Spans of this many phonemes or fewer are replaced only by a word that sounds the same
("lamb" is one sound from "ram", and "ram" would make it a question about the memory)."""
MAX_WORDS = 12
"""Longer utterances are not commands said badly: they are left to the LLM."""
MAX_OTHER_SHARE = 1 / 3
"""Largest share of a repaired command's words that are neither the skills' words, the small
words, nor its arguments."""
GROW_COST = 0.2
"""What lengthening a heard skill's word into another costs ("time" → "timer")."""
QUESTION_STARTS = frozenset("what what's whats when where which who why how how's".split())
"""How a question starts: its skill's word heard is never lengthened ("what time...")."""
_SINGLES = 24
_PAIRS_FROM = 10

GLUE = frozenset("a an the of in on at to for is are and did my me".split())
_PROTECTED = frozenset("no not nope nah yes yeah yep yup sure ok okay".split())
NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand").split()
# Regex syntax that is not a word: escapes (\b, \d), group openers and names.
_SYNTAX = re.compile(r"\(\?P<\w+>|\(\?[:=!<]+|\\[A-Za-z]|\{[^}]*\}")


@dataclass(frozen=True)
class Repair:
    """A misheard command, as it was probably said."""

    text: str
    """The repaired utterance (normalised), e.g. "check my timers"."""
    skill: Skill
    arguments: dict[str, object]
    distance: float
    """Share of phonemes changed, summed over the repairs (0 = same sounds)."""


@dataclass(frozen=True)
class _Edit:
    cost: float
    start: int
    length: int
    word: str
    grown: bool = False
    """A skill's word heard with its ending lost ("time" for "timer")."""


def skill_words(s: Skill) -> frozenset[str]:
    """The words one skill listens for: literal words of its patterns and examples."""
    texts = [_SYNTAX.sub(" ", p.regex.pattern) for p in s.patterns] + list(s.examples)
    return frozenset(w for text in texts
                     for w in re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower()) if len(w) > 1)


def vocabulary(registry: SkillRegistry) -> frozenset[str]:
    """The words the skills listen for, and the number words."""
    return frozenset(NUMBER_WORDS).union(*(skill_words(s) for s in registry.skills.values()))


@lru_cache(maxsize=8)
def _sounds(words: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ordered = tuple(sorted(words - GLUE))
    return ordered, tuple(phonemes(w) for w in ordered)


def _edits(words: list[str], vocab: frozenset[str]) -> list[_Edit]:
    """Every single replacement within the distance (and every small word put in, a span of
    length 0), cheapest first."""
    known, sounds = _sounds(vocab)
    edits = [_Edit(GLUE_COST, at, 0, g) for at in range(len(words) + 1) for g in GLUE]
    for start in range(len(words)):
        for length in (1, 2, 3):
            span = words[start:start + length]
            if len(span) < length or _PROTECTED & set(span):
                break
            if length == 1 and span[0] in GLUE:
                edits += [_Edit(GLUE_COST, start, 1, g) for g in GLUE if g != span[0]]
            if length == 1 and span[0] in vocab:
                edits += [_Edit(GROW_COST, start, 1, w, grown=True)
                          for w in _grown(span[0], known)]
            if any((w in vocab and w not in GLUE) or w.isdigit() for w in span):
                break  # a skill's own word, heard right: not ours to change
            heard = phonemes(" ".join(span))
            if not heard:
                continue
            # Three sounds or fewer are too little to go on: only a homophone ("too" → "two").
            cutoff = MAX_DISTANCE if len(heard) > SHORT else 0.0
            for _word, score, i in process.extract(
                    heard, sounds, scorer=Levenshtein.normalized_distance,
                    score_cutoff=cutoff, limit=5):
                edits.append(_Edit(score, start, length, known[i]))
    return sorted(edits, key=lambda e: e.cost)


def _grown(word: str, known: tuple[str, ...]) -> list[str]:
    """The skills' words that ``word`` is the start of, a letter or two shorter."""
    return [w for w in known if w.startswith(word) and 0 < len(w) - len(word) <= 2]


def _apply(words: list[str], edits: tuple[_Edit, ...]) -> str:
    out = list(words)
    for e in sorted(edits, key=lambda e: -e.start):  # from the right: indexes stay valid
        out[e.start:e.start + e.length] = [e.word]
    return " ".join(out)


def _overlap(a: _Edit, b: _Edit) -> bool:
    return a.start < b.start + b.length and b.start < a.start + a.length


def _unexplained(hit: fastpath.FastMatch, vocab: frozenset[str]) -> float:
    """The share of a matched sentence's words that are not the skills' words, the small
    words, numbers or its arguments."""
    said = {w for v in hit.arguments.values() if isinstance(v, str) for w in v.lower().split()}
    words = hit.normalised.split()
    other = [w for w in words if w not in vocab and w not in GLUE and w not in said
             and not w.replace(".", "").isdigit()]
    return len(other) / max(1, len(words))


def repair(registry: SkillRegistry, norm: str) -> Repair | None:
    """The closest-sounding command ``norm`` (normalised, matched by nothing) may have been,
    or None. Bounded: at most 24 sounds-alike and 45 pairs of them, and the small-word
    swaps and insertions (15 per word), each tried in well under a millisecond."""
    words = norm.lower().split()
    if not 2 <= len(words) <= MAX_WORDS:
        return None
    vocab = vocabulary(registry)
    edits = _edits(words, vocab)
    sounds = [e for e in edits if e.word not in GLUE][:_SINGLES]
    pairs = [(a, b) for a, b in itertools.combinations(sounds[:_PAIRS_FROM], 2)
             if not _overlap(a, b) and a.cost + b.cost <= MAX_DISTANCE]
    tries = sorted([(e.cost, (e,)) for e in edits if e in sounds or e.word in GLUE]
                   + [(a.cost + b.cost, (a, b)) for a, b in pairs], key=lambda t: t[0])
    for cost, edits in tries:
        text = _apply(words, edits)
        hit = fastpath.match(registry, text)
        if hit is None or (any(e.grown for e in edits) and (
                hit.skill.read_only or words[0] in QUESTION_STARTS)):
            continue  # "what time does the bakery open" is not about timers
        if _unexplained(hit, vocab) <= MAX_OTHER_SHARE:
            return Repair(hit.normalised, hit.skill, hit.arguments, round(cost, 3))
    return None
