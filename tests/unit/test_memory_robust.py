"""The memory's readers, chunker and walk on any input: property tests over the document
readers (any bytes, invalid UTF-8, UTF-16 with a BOM, corrupt PDFs: text or one line, never
another exception), streaming (pieces chunk exactly like the whole; memory does not grow with
the file), symbolic link loops, and the one-line refusals of facts. No model, no chromadb."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.memory.chunking import chunk_sections, iter_chunks
from assistant.memory.ingest import collect
from assistant.memory.readers import (
    BLOCK_BYTES,
    SUFFIXES,
    Section,
    UnreadableFile,
    _html_events,
    iter_sections,
    read_sections,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "memory"
PDF = (DATA / "sample.pdf").read_bytes()
EXAMPLES = 150
"""Examples per reader property (hypothesis reports them with --hypothesis-show-statistics)."""
FILES = settings(max_examples=EXAMPLES, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def read_or_refuse(path: Path) -> list[Section] | str:
    """What every reader must do with any file: sections of text, or one line naming it."""
    try:
        sections = read_sections(path)
    except UnreadableFile as exc:
        message = str(exc)
        assert "\n" not in message and str(path) in message
        return message
    assert sections and all(isinstance(s.text, str) and s.text.strip() for s in sections)
    return sections


# ---------------------------------------------------------------- properties


@FILES
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_are_text_or_one_line(tmp_path: Path, data: bytes, suffix: str) -> None:
    read_or_refuse(_write(tmp_path / f"any{suffix}", data))


@FILES
@given(text=st.text(max_size=2000), suffix=st.sampled_from((".txt", ".md", ".html")),
       codec=st.sampled_from(("utf-16", "utf-16-le", "utf-16-be", "utf-8-sig")))
def test_text_with_a_bom_is_read(tmp_path: Path, text: str, suffix: str, codec: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    data = bom + text.encode(codec, errors="surrogatepass")
    got = read_or_refuse(_write(tmp_path / f"bom{suffix}", data))
    if suffix == ".txt" and text.strip() and "\x00" not in text \
            and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert got == [Section("", text.removeprefix("\ufeff"))]


@FILES
@given(text=st.text(max_size=300), junk=st.binary(min_size=1, max_size=8),
       at=st.integers(min_value=0))
def test_invalid_utf8_is_one_line(tmp_path: Path, text: str, junk: bytes, at: int) -> None:
    good = text.encode("utf-8", errors="ignore")
    cut = at % (len(good) + 1)
    data = good[:cut] + b"\xff" + junk + good[cut:]  # 0xff never appears in UTF-8
    message = read_or_refuse(_write(tmp_path / "bad.md", data))
    assert isinstance(message, str)


@FILES
@given(cut=st.integers(min_value=0, max_value=len(PDF)),
       flips=st.lists(st.tuples(st.integers(min_value=0, max_value=len(PDF) - 1),
                                st.integers(min_value=0, max_value=255)), max_size=12))
def test_corrupt_pdfs_are_text_or_one_line(tmp_path: Path, cut: int,
                                           flips: list[tuple[int, int]]) -> None:
    data = bytearray(PDF)
    for where, value in flips:
        data[where] = value
    read_or_refuse(_write(tmp_path / "broken.pdf", bytes(data[:max(cut, 1)])))


SENTENCE = st.lists(st.sampled_from(["alpha", "beta", "3.5", "e.g.", "-", "1.", "»"]),
                    min_size=1, max_size=30).map(" ".join)
SEPARATOR = st.sampled_from([". ", "! ", "\n", "\n\n", " ", ".\n- ", "\n1) ", ".  \n \n"])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(SENTENCE, SEPARATOR), max_size=60),
       cuts=st.lists(st.integers(min_value=0), max_size=8),
       size=st.integers(min_value=10, max_value=40), overlap=st.integers(0, 20))
def test_a_section_in_pieces_chunks_like_the_whole(parts: list[tuple[str, str]],
                                                   cuts: list[int], size: int,
                                                   overlap: int) -> None:
    text = "".join(s + sep for s, sep in parts)
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    pieces = [Section("H", text[a:b], more=True) for a, b in itertools.pairwise(points)]
    pieces.append(Section("H", ""))
    whole = chunk_sections([Section("H", text)], size, overlap)
    assert list(iter_chunks(pieces, size, overlap)) == whole


# ---------------------------------------------------------------- examples


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    text = "# Boiler\nServiced on 4 May 2024 by Hendricks Heating.\n"
    for codec in ("utf-16-le", "utf-16-be"):
        bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
        path = _write(tmp_path / f"{codec}.md", bom + text.encode(codec))
        assert read_sections(path) == [Section("Boiler", "Serviced on 4 May 2024 by "
                                                         "Hendricks Heating.")]


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    path = _write(tmp_path / "late.txt", b"fine text " * 40_000 + b"\xe9t\xe9")
    with pytest.raises(UnreadableFile, match=r"not UTF-8 text \(byte 400000\)"):
        read_sections(path)


def test_utf16_of_binary_data_is_binary(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="binary"):
        read_sections(_write(tmp_path / "blob.txt", b"\xff\xfe" + b"\x00\x00" * 50))


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html"])
def test_a_long_file_comes_in_pieces(tmp_path: Path, suffix: str) -> None:
    body = "The pump was checked. " * (5 * BLOCK_BYTES // 22)
    text = f"<h1>Pump</h1><p>{body}</p>" if suffix == ".html" else f"# Pump\n{body}\n"
    path = _write(tmp_path / f"long{suffix}", text.encode())
    pieces = list(iter_sections(path))
    assert sum(p.more for p in pieces) >= 2 and not pieces[-1].more
    assert max(len(p.text) for p in pieces) <= 2 * BLOCK_BYTES
    assert list(iter_chunks(pieces)) == chunk_sections(read_sections(path))


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    rng = random.Random(0)
    words = "the boiler was serviced on monday and the pressure is fine now".split()
    path = tmp_path / "big.txt"
    with path.open("w") as fh:
        for i in range(90_000):
            fh.write(" ".join(rng.choices(words, k=rng.randint(5, 20)))
                     + (". " if i % 7 else ".\n\n"))
    size = path.stat().st_size
    assert size > 5_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_chunks(iter_sections(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count > 10_000
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB reading {size / 1e6:.1f} MB"


def test_text_without_punctuation_or_line_breaks_is_bounded(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.md", ("word " * 400_000).encode())
    pieces = list(iter_sections(path))
    assert max(len(p.text) for p in pieces) <= 2 * BLOCK_BYTES
    chunks = list(iter_chunks(pieces))
    assert sum(len(c.text.split()) for c in chunks) == 400_000


# ---------------------------------------------------------------- the walk


def test_a_symlink_loop_named_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    files, folders, problems = collect([tmp_path / "a"])
    assert files == [] and folders == []
    assert problems == [(str(tmp_path / "a"), "a symbolic link loop")]


def test_a_link_back_up_inside_a_folder_is_walked_once(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "up").symlink_to(root)
    (root / "sub" / "self.md").symlink_to(root / "sub" / "self.md")  # a loop of one file
    (root / "a.md").write_text("A note.")
    (root / "sub" / "b.txt").write_text("B note.")
    (root / "elsewhere.md").symlink_to(root / "a.md")
    files, folders, problems = collect([root])
    assert files == [(root / "a.md").resolve(), (root / "sub" / "b.txt").resolve()]
    assert folders == [root.resolve()] and problems == []



# ---------------------------------------------------------------- HTML in linear time

MARKUP = st.lists(st.sampled_from(["<p>", "</p>", "<h2>", "</h2>", "<!-- c -->", "<!--",
                                   "-->", "<script>", "</script>", "x<y", "&amp;", "&eacute;",
                                   "&#8364;", "&", "<a href='q'>", "<b", ">", "Text. ", " ",
                                   "<![CDATA[", "]]>", "<?pi?>", "</", "\n"]),
                  max_size=40).map("".join)


def merged(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for kind, value in events:
        if kind == "data" and out and out[-1][0] == "data":
            out[-1] = ("data", out[-1][1] + value)
        elif kind != "data" or value:
            out.append((kind, value))
    return out


@settings(max_examples=300, deadline=None)
@given(text=MARKUP, cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_html_in_blocks_reads_like_the_whole(text: str, cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    blocks = [text[a:b] for a, b in itertools.pairwise(points)]
    assert merged(list(_html_events(iter(blocks)))) == merged(list(_html_events(iter([text]))))


HOSTILE = ["<!--", "<![CDATA[", "<?x", "<a ", "</a ", "<a b='", '<a b="x', "</", "<b", "<"]


def test_unclosed_markup_is_read_without_rescanning(tmp_path: Path) -> None:
    # Python's html.parser took 178 s on 40,000 "<a " (quadratic); a hang guard, not a timing:
    # each file here is read in well under a second.
    script = ("import sys; from pathlib import Path\n"
              "from assistant.memory.readers import UnreadableFile, read_sections\n"
              "for name in sys.argv[1:]:\n"
              "    try: read_sections(Path(name))\n"
              "    except UnreadableFile: pass\n")
    names = []
    for n, pattern in enumerate(HOSTILE):
        names.append(str(_write(tmp_path / f"h{n}.html",
                                (pattern * (400_000 // len(pattern)) + " end.").encode())))
    done = subprocess.run([sys.executable, "-c", script, *names], timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_html_tokens_keep_text_entities_and_skip_markup(tmp_path: Path) -> None:
    page = ("<p>a &lt; b &amp; 3<4</p><!-- hidden --><script>if (a<b) x('</p>')</script>"
            "<h2 class=\"t\">Next</h2><p title='x'>Done. <?php no ?>Yes<![CDATA[ no ]]></p>")
    sections = read_sections(_write(tmp_path / "t.html", page.encode()))
    assert [(s.heading, " ".join(s.text.split())) for s in sections] == [
        ("", "a < b & 3<4"), ("Next", "Done. Yes")]
