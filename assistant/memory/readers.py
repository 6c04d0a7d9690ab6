"""Files → plain text sections: .txt, .md, .pdf (pypdf) and .html.

Owns format detection and text extraction only; chunking is :mod:`assistant.memory.chunking`.
A file that cannot be read as text raises :class:`UnreadableFile` with a one-line reason, so
ingestion can report it and go on with the next file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from assistant import AssistantError

SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".html", ".htm")
"""The file types ``assistant memory ingest`` reads; other files in a folder are skipped."""


class UnreadableFile(AssistantError):
    """A file is binary, corrupt, empty or of a type the memory cannot read."""


@dataclass(frozen=True)
class Section:
    heading: str
    """The nearest heading above the text ("" before the first one); for PDFs, the page."""
    text: str


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"{path}: binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path}: not UTF-8 text") from None


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


def _markdown(text: str) -> list[Section]:
    sections: list[Section] = []
    heading, lines = "", []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced  # a '# comment' inside a code block is not a heading
        found = None if fenced else _MD_HEADING.match(line)
        if found:
            sections.append(Section(heading, "\n".join(lines)))
            heading, lines = found.group(2), []
        else:
            lines.append(line)
    sections.append(Section(heading, "\n".join(lines)))
    return sections


_SKIP = frozenset({"script", "style", "noscript", "template", "title"})
_BLOCK = frozenset({"p", "div", "li", "br", "tr", "section", "article", "blockquote", "pre",
                    "dd", "dt"})


class _HTMLText(HTMLParser):
    """Collects visible text, starting a new section at each <h1>..<h6>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self._heading = ""
        self._buffer: list[str] = []
        self._in_heading = False
        self._heading_buffer: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._in_heading, self._heading_buffer = True, []
        elif tag in _BLOCK:
            self._buffer.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._in_heading:
            self._in_heading = False
            self._heading = " ".join("".join(self._heading_buffer).split())
        elif tag in _BLOCK:
            self._buffer.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        (self._heading_buffer if self._in_heading else self._buffer).append(data)

    def _flush(self) -> None:
        self.sections.append(Section(self._heading, "".join(self._buffer)))
        self._buffer = []

    def result(self) -> list[Section]:
        self._flush()
        return self.sections


def _pdf(path: Path) -> list[Section]:
    import pypdf  # only when a PDF is ingested
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(path)
        return [Section(f"page {n}", page.extract_text() or "")
                for n, page in enumerate(reader.pages, start=1)]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableFile(f"{path}: not a readable PDF ({exc})") from None


def read_sections(path: Path) -> list[Section]:
    """The text of ``path`` in sections; raises UnreadableFile (never loses the reason)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(f"{path}: unsupported file type '{suffix or 'none'}' "
                             f"(supported: {', '.join(SUFFIXES)})")
    try:
        if suffix == ".pdf":
            sections = _pdf(path)
        elif suffix in (".html", ".htm"):
            parser = _HTMLText()
            parser.feed(_decode(path))
            sections = parser.result()
        elif suffix in (".md", ".markdown"):
            sections = _markdown(_decode(path))
        else:
            sections = [Section("", _decode(path))]
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read ({exc.strerror or exc})") from None
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise UnreadableFile(f"{path}: no text found")
    return sections
