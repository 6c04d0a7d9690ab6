"""``assistant memory ingest``: files and folders → chunks in the documents collection.

Owns the walk, change detection and failure isolation: unchanged files (same size and mtime,
or same sha256) are skipped, changed files are re-chunked, files that disappeared from an
ingested folder are removed, and a file that cannot be read is reported and skipped without
touching anything already stored. A file streams through (read, chunked, embedded and
written a batch at a time), so memory does not grow with its size; what an earlier, killed
ingest left is repaired first (:func:`assistant.memory.integrity.repair`). Symbolic links
are followed, each folder once (a link loop is walked around, not into).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.memory.chunking import iter_chunks
from assistant.memory.integrity import repair
from assistant.memory.readers import SUFFIXES, UnreadableFile, iter_sections
from assistant.memory.store import MemoryStore


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(path, one-line reason) of each file that could not be ingested."""
    chunks: int = 0
    """Chunks written (added and updated files)."""
    repaired: int = 0
    """Chunks an interrupted earlier ingest left, removed before this one."""

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.removed)} removed",
                 f"{len(self.failed)} failed", f"{self.chunks} chunks written"]
        if self.repaired:
            parts.append(f"{self.repaired} left by an interrupted ingest removed")
        return ", ".join(parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _walk(folder: Path) -> Iterator[Path]:
    """Supported, not hidden files under ``folder``, following links to each real folder
    once; a file behind a link is named by its real path."""
    seen: set[str] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in SUFFIXES:
                try:
                    if path.is_file():
                        yield path.resolve()
                except (OSError, RuntimeError):  # a dangling link or a loop of file links
                    continue


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[tuple[str, str]]]:
    """(files to ingest, folders walked, problems) for the paths named on the command line.
    Named files are taken whatever their type (an unsupported one is then reported); inside
    folders only supported types are picked up, hidden files and folders are left out."""
    files: list[Path] = []
    folders: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        try:
            path = raw.expanduser().resolve()
            is_dir, is_file = path.is_dir(), path.is_file()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
            reason = "a symbolic link loop" if isinstance(exc, RuntimeError) or \
                exc.errno == 40 else f"cannot open ({exc.strerror or exc})"
            problems.append((str(raw), reason))
            continue
        if is_dir:
            folders.append(path)
            files += sorted(_walk(path))
        elif is_file:
            files.append(path)
        else:
            problems.append((str(raw), "no such file or folder"))
    return list(dict.fromkeys(files)), folders, problems


def ingest(store: MemoryStore, paths: Iterable[Path], *, chunk_words: int = 120,
           overlap_words: int = 25,
           on_file: Callable[[Path, int, int], None] | None = None) -> IngestReport:
    """Bring the store up to date with ``paths``. ``on_file(path, done, total)`` is called
    before each file (for a progress bar)."""
    files, folders, problems = collect(paths)
    report = IngestReport(failed=problems,
                          repaired=sum(r.chunks for r in repair(store)))
    for done, path in enumerate(files):
        if on_file:
            on_file(path, done, len(files))
        key = str(path)
        try:
            stat = path.stat()
            known = store.file_state(key)
            if known and known[1] == stat.st_size and known[2] == stat.st_mtime:
                report.unchanged.append(key)
                continue
            sha = _sha256(path)
            if known and known[0] == sha:
                report.unchanged.append(key)
                continue
            chunks = iter_chunks(iter_sections(path), chunk_words, overlap_words)
            written = store.replace_file(key, chunks, sha, stat.st_size, stat.st_mtime)
        except UnreadableFile as exc:
            report.failed.append((key, str(exc).removeprefix(f"{path}: ")))
            continue
        except OSError as exc:
            report.failed.append((key, f"cannot read ({exc.strerror or exc})"))
            continue
        (report.updated if known else report.added).append(key)
        report.chunks += written
    if on_file:
        on_file(Path(), len(files), len(files))
    wanted = {str(f) for f in files}
    for known_path in store.files():
        inside = any(Path(known_path).is_relative_to(folder) for folder in folders)
        if inside and known_path not in wanted and not Path(known_path).exists():
            store.remove_file(known_path)
            report.removed.append(known_path)
    return report
