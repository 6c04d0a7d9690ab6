"""Sections of text → overlapping chunks that respect sentences and headings, as a stream.

A chunk never spans two sections, never cuts a sentence unless the sentence alone is longer
than a chunk, and starts with its section heading so that the heading's words help both the
embedding and BM25 ("Tyres: pressure is 2.4 bar" finds "car tyre pressure").
:func:`iter_chunks` takes a section in pieces (``Section.more``) and gives the same chunks
as for the whole section, holding back only the unfinished sentence at a piece's end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assistant.memory.readers import Section

# A sentence ends at . ! ? (or one followed by a closing quote or bracket) before white space,
# at a blank line, or before a list item.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
_SETTLED = 64
"""A sentence end this far before a piece's end is one in the whole text too (the end's white
space and the list-item look-ahead are shorter), so what precedes it can be chunked now."""
MAX_SENTENCE_CHARS = 1 << 16
"""An unfinished sentence longer than this is chunked at a space: text with no punctuation
must not be held whole. (It is cut into chunk-sized word runs anyway.)"""


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


def _settled(text: str) -> tuple[str, str]:
    """(what can be split into sentences now, the unfinished rest) of a piece's text."""
    last = None
    for found in _SENTENCE_END.finditer(text):
        if found.end() > len(text) - _SETTLED:
            break
        last = found
    if last is not None:
        return text[:last.end()], text[last.end():]
    if len(text) > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", 0, MAX_SENTENCE_CHARS) + 1 or MAX_SENTENCE_CHARS
        return text[:cut], text[cut:]
    return "", text


class _Packer:
    """One section's sentences → the word lists of its chunks (see :func:`iter_chunks`)."""

    def __init__(self, size_words: int, overlap_words: int) -> None:
        self.size, self.overlap = size_words, overlap_words
        self.current: list[str] = []
        self.count = 0
        self.fresh = 0  # sentences in `current` that no earlier chunk holds

    def add(self, unit: str) -> list[str] | None:
        """Take one sentence; returns a full chunk's sentences when it had to start another."""
        n = len(unit.split())
        done = None
        if self.current and self.count + n > self.size:
            done = self.current
            carried: list[str] = []
            kept = 0
            for previous in reversed(done):
                kept += len(previous.split())
                if kept > self.overlap or len(carried) + 1 >= len(done):
                    break
                carried.insert(0, previous)
            while carried and sum(len(c.split()) for c in carried) + n > self.size:
                carried.pop(0)  # the overlap must leave room for the next sentence
            self.current, self.fresh = carried, 0
            self.count = sum(len(c.split()) for c in carried)
        self.current.append(unit)
        self.count += n
        self.fresh += 1
        return done

    def finish(self) -> list[str] | None:
        return self.current if self.current and self.fresh else None


def iter_chunks(sections: Iterable[Section], size_words: int = 120,
                overlap_words: int = 25) -> Iterator[Chunk]:
    """Pack each section's sentences into chunks of at most ``size_words`` words; consecutive
    chunks of a section share up to ``overlap_words`` words of whole sentences."""
    if size_words < 10:
        raise ValueError("chunks need at least 10 words")
    overlap_words = min(overlap_words, size_words // 2)
    position = 0
    packer: _Packer | None = None
    rest = ""
    for section in sections:
        packer = packer or _Packer(size_words, overlap_words)
        text, rest = _settled(rest + section.text) if section.more else (rest + section.text, "")
        for sentence in sentences(text):
            units = _split_long(sentence, size_words) if len(sentence.split()) > size_words \
                else [sentence]
            for unit in units:
                full = packer.add(unit)
                if full:
                    yield _make(section.heading, full, position)
                    position += 1
        if not section.more:
            last = packer.finish()
            if last:
                yield _make(section.heading, last, position)
                position += 1
            packer = None


def chunk_sections(sections: list[Section], size_words: int = 120,
                   overlap_words: int = 25) -> list[Chunk]:
    """:func:`iter_chunks` as a list."""
    return list(iter_chunks(sections, size_words, overlap_words))


def _make(heading: str, parts: list[str], position: int) -> Chunk:
    body = " ".join(parts)
    return Chunk(f"{heading}: {body}" if heading else body, heading, position)
