"""Sections of text → overlapping chunks that respect sentences and headings.

A chunk never spans two sections, never cuts a sentence unless the sentence alone is longer
than a chunk, and starts with its section heading so that the heading's words help both the
embedding and BM25 ("Tyres: pressure is 2.4 bar" finds "car tyre pressure").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.memory.readers import Section

# A sentence ends at . ! ? (or one followed by a closing quote or bracket) before white space,
# at a blank line, or before a list item.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")


@dataclass(frozen=True)
class Chunk:
    text: str
    """What is stored, embedded and searched: "heading: sentences"."""
    heading: str
    position: int
    """0-based index of the chunk within its file."""


def sentences(text: str) -> list[str]:
    parts = (" ".join(p.split()) for p in _SENTENCE_END.split(text))
    return [p for p in parts if p]


def _split_long(sentence: str, size: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)]


def chunk_sections(sections: list[Section], size_words: int = 120,
                   overlap_words: int = 25) -> list[Chunk]:
    """Pack each section's sentences into chunks of at most ``size_words`` words; consecutive
    chunks of a section share up to ``overlap_words`` words of whole sentences."""
    if size_words < 10:
        raise ValueError("chunks need at least 10 words")
    overlap_words = min(overlap_words, size_words // 2)
    chunks: list[Chunk] = []
    for section in sections:
        units: list[str] = []
        for sentence in sentences(section.text):
            units += _split_long(sentence, size_words) if len(sentence.split()) > size_words \
                else [sentence]
        current: list[str] = []
        count = 0
        fresh = 0  # sentences in `current` that no earlier chunk holds
        for unit in units:
            n = len(unit.split())
            if current and count + n > size_words:
                chunks.append(_make(section.heading, current, len(chunks)))
                carried: list[str] = []
                kept = 0
                for previous in reversed(current):
                    kept += len(previous.split())
                    if kept > overlap_words or len(carried) + 1 >= len(current):
                        break
                    carried.insert(0, previous)
                while carried and sum(len(c.split()) for c in carried) + n > size_words:
                    carried.pop(0)  # the overlap must leave room for the next sentence
                current, count, fresh = carried, sum(len(c.split()) for c in carried), 0
            current.append(unit)
            count += n
            fresh += 1
        if current and fresh:
            chunks.append(_make(section.heading, current, len(chunks)))
    return chunks


def _make(heading: str, parts: list[str], position: int) -> Chunk:
    body = " ".join(parts)
    return Chunk(f"{heading}: {body}" if heading else body, heading, position)
