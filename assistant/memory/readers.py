"""Files → plain text sections: .txt, .md, .pdf (pypdf) and .html, read as a stream.

Owns format detection, decoding and text extraction only; chunking is
:mod:`assistant.memory.chunking`. :func:`iter_sections` reads a file in blocks of
:data:`BLOCK_BYTES`, so a 50 MB text file never sits in memory whole: a long section comes
in pieces, each but its last marked ``more``. Text is UTF-8 (with or without a BOM) or
UTF-16 with a BOM. A file that cannot be read as text raises :class:`UnreadableFile` with a
one-line reason, so ingestion can report it and go on with the next file.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant import AssistantError

SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".html", ".htm")
"""The file types ``assistant memory ingest`` reads; other files in a folder are skipped."""
BLOCK_BYTES = 1 << 18
"""How much of a file is read (and then held as text) at a time."""
PIECE_CHARS = 1 << 18
"""A section's text is handed on in pieces of about this many characters."""
MAX_LINE_CHARS = 1 << 16
"""A longer line (a file with no line breaks) is cut at a space: memory stays bounded."""
MAX_HEADING_CHARS = 200


class UnreadableFile(AssistantError):
    """A file is binary, corrupt, empty or of a type the memory cannot read."""


@dataclass(frozen=True)
class Section:
    heading: str
    """The nearest heading above the text ("" before the first one); for PDFs, the page."""
    text: str
    more: bool = False
    """The section goes on in the next piece (``text`` is then an exact prefix of it)."""


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def _blocks(path: Path) -> Iterator[str]:
    """The decoded text of ``path``, block by block."""
    with path.open("rb") as fh:
        first = fh.read(BLOCK_BYTES)
        codec, name = "utf-8", "UTF-8"
        for bom, bom_codec, bom_name in _BOMS:
            if first.startswith(bom):
                codec, name = bom_codec, bom_name
                break
        else:
            if b"\x00" in first[:8192]:
                raise UnreadableFile(f"{path}: binary file, not text")
        decoder = codecs.getincrementaldecoder(codec)("strict")
        block, offset = first, 0
        while True:
            final = len(block) < BLOCK_BYTES
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"{path}: not {name} text (byte {offset + exc.start})"
                                     ) from None
            if "\x00" in text:  # UTF-16 of binary data decodes; NULs say what it is
                raise UnreadableFile(f"{path}: binary file, not text")
            if text:
                yield text
            if final:
                return
            offset += len(block)
            block = fh.read(BLOCK_BYTES)


def _lines(blocks: Iterator[str]) -> Iterator[str]:
    """``str.splitlines`` of the whole text, without holding it; overlong lines are cut."""
    pending = ""
    for block in blocks:
        pending += block
        lines = pending.splitlines(keepends=True)
        pending = ""
        if lines and (lines[-1] == lines[-1].splitlines()[0] or lines[-1].endswith("\r")):
            pending = lines.pop()  # unfinished (or a \r that a \n may follow)
        for line in lines:
            yield line.splitlines()[0]
        while len(pending) > MAX_LINE_CHARS:
            cut = pending.rfind(" ", 0, MAX_LINE_CHARS) + 1 or MAX_LINE_CHARS
            yield pending[:cut]
            pending = pending[cut:]
    if pending:
        yield pending.splitlines()[0] if pending.splitlines() else ""


def _plain(path: Path) -> Iterator[Section]:
    previous = None
    for block in _blocks(path):
        if previous is not None:
            yield Section("", previous, more=True)
        previous = block
    yield Section("", previous or "")


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


def _markdown(path: Path) -> Iterator[Section]:
    heading, lines, size = "", [], 0
    fenced = False
    for line in _lines(_blocks(path)):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced  # a '# comment' inside a code block is not a heading
        found = None if fenced else _MD_HEADING.match(line)
        if found:
            yield Section(heading, "\n".join(lines))
            heading, lines, size = found.group(2)[:MAX_HEADING_CHARS], [], 0
            continue
        lines.append(line)
        size += len(line) + 1
        if size > PIECE_CHARS:
            yield Section(heading, "\n".join(lines) + "\n", more=True)
            lines, size = [], 0
    yield Section(heading, "\n".join(lines))


_SKIP = frozenset({"script", "style", "noscript", "template", "title"})
_BLOCK = frozenset({"p", "div", "li", "br", "tr", "section", "article", "blockquote", "pre",
                    "dd", "dt"})


MAX_TAG_CHARS = 1024
"""A longer '<...>' is text, not a tag: each '<' costs at most this much scanning."""
# No '<' inside a tag (not even quoted): a scan for a tag's end stops at the next one, so
# each character is looked at a bounded number of times.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:\"[^\"<]*\"|'[^'<]*'|[^'\"<>])*>")
_MARKUP = re.compile(r"<[A-Za-z/!?]")
"""Where a tag, a comment or a declaration may start (other '<'s are text)."""
_RAW_TEXT = {"script": re.compile(r"</script", re.IGNORECASE),
             "style": re.compile(r"</style", re.IGNORECASE)}
_SKIP_TO = {"<!--": re.compile("-->"), "<![CDATA[": re.compile(r"\]\]>"),
            "<!": re.compile(">"), "<?": re.compile(">")}


def _html_events(blocks: Iterator[str]) -> Iterator[tuple[str, str]]:
    """("data", text) | ("start", tag) | ("end", tag) of an HTML text stream, in linear time.
    Python's html.parser rescans unclosed constructs ("<!--" or "<a " repeated: minutes for
    a few hundred kB), so this small tokenizer is used instead: comments, declarations and
    script/style bodies are skipped, entities decoded, anything else that is no tag is text."""
    buffer, i, until, final = "", 0, None, False
    source = iter(blocks)
    while not final:
        block = next(source, None)
        final = block is None
        buffer = buffer[i:] + (block or "")
        i = 0
        while i < len(buffer):
            if until is not None:  # inside a comment, declaration or script: find its end
                found = until[0].search(buffer, i)
                if found is None:
                    i = max(i, len(buffer) - 16)  # keep what could start the terminator
                    break
                i, until = (found.end() if until[1] else found.start()), None
                continue
            found = _MARKUP.search(buffer, i)
            j = -1 if found is None else found.start()
            end = len(buffer) if j < 0 else j
            if j < 0 and not final:
                end = max(i, len(buffer) - 32)  # an entity may go on in the next block
            if end > i:
                yield "data", html.unescape(buffer[i:end])
                i = end
            if j < 0 or (not final and len(buffer) - j < 9):
                break  # (an opener like "<![CDATA[" may go on in the next block)
            opener = next((o for o in _SKIP_TO if buffer.startswith(o, j)), None)
            if opener is not None:
                until, i = (_SKIP_TO[opener], True), j + len(opener)
                continue
            tag = _TAG.match(buffer, j, j + MAX_TAG_CHARS)
            if tag is None and not final and len(buffer) - j < MAX_TAG_CHARS:
                break  # the tag may close in the next block
            if tag is None:
                yield "data", "<"
                i = j + 1
                continue
            name = tag.group(2).lower()
            yield ("end" if tag.group(1) else "start"), name
            i = tag.end()
            if not tag.group(1) and name in _RAW_TEXT:
                until = (_RAW_TEXT[name], False)  # the end tag itself is read as a tag


class _HTMLText:
    """Collects visible text, starting a new section at each <h1>..<h6>; :meth:`take` hands
    on what is complete so far."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._heading = ""
        self._buffer: list[str] = []
        self._size = 0
        self._in_heading = False
        self._heading_buffer: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self._in_heading, self._heading_buffer = True, []
        elif tag in _BLOCK:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._in_heading:
            self._in_heading = False
            heading = " ".join("".join(self._heading_buffer).split())
            self._heading = heading[:MAX_HEADING_CHARS]
        elif tag in _BLOCK:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in_heading:
            if sum(map(len, self._heading_buffer)) < 4 * MAX_HEADING_CHARS:
                self._heading_buffer.append(data)
        else:
            self._add(data)

    def _add(self, text: str) -> None:
        self._buffer.append(text)
        self._size += len(text)
        if self._size > PIECE_CHARS:
            self.sections.append(Section(self._heading, "".join(self._buffer), more=True))
            self._buffer, self._size = [], 0

    def flush(self) -> None:
        self.sections.append(Section(self._heading, "".join(self._buffer)))
        self._buffer, self._size = [], 0

    def take(self) -> list[Section]:
        done, self.sections = self.sections, []
        return done


def _html(path: Path) -> Iterator[Section]:
    parser = _HTMLText()
    handlers = {"data": parser.handle_data, "start": parser.handle_starttag,
                "end": parser.handle_endtag}
    for kind, value in _html_events(_blocks(path)):
        handlers[kind](value)
        if parser.sections:
            yield from parser.take()
    parser.flush()
    yield from parser.take()


def _pdf(path: Path) -> Iterator[Section]:
    import pypdf  # only when a PDF is ingested
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(path)
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, ZeroDivisionError, OSError) as exc:
        raise UnreadableFile(f"{path}: not a readable PDF ({_reason(exc)})") from None
    for n in range(pages):
        try:
            text = reader.pages[n].extract_text() or ""
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError, ZeroDivisionError) as exc:
            raise UnreadableFile(f"{path}: not a readable PDF (page {n + 1}: "
                                 f"{_reason(exc)})") from None
        yield Section(f"page {n + 1}", text)


def _reason(exc: BaseException) -> str:
    """An exception as a short phrase on one line."""
    text = " ".join(str(exc).split())[:120]
    return text or type(exc).__name__


_READERS = {".pdf": _pdf, ".html": _html, ".htm": _html, ".md": _markdown,
            ".markdown": _markdown, ".txt": _plain}


def iter_sections(path: Path) -> Iterator[Section]:
    """The text of ``path`` in sections (long ones in pieces); raises UnreadableFile, when
    the file is first read or partway."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(f"{path}: unsupported file type '{suffix or 'none'}' "
                             f"(supported: {', '.join(SUFFIXES)})")
    try:
        yield from _READERS[suffix](path)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_sections(path: Path) -> list[Section]:
    """The whole text of ``path`` in non-empty sections, pieces joined (for small files:
    tests and benchmarks); raises UnreadableFile, also when there is no text."""
    sections: list[Section] = []
    parts: list[str] = []
    for piece in iter_sections(path):
        parts.append(piece.text)
        if not piece.more:
            text = "".join(parts)
            if text.strip():
                sections.append(Section(piece.heading, text))
            parts = []
    if not sections:
        raise UnreadableFile(f"{path}: no text found")
    return sections
