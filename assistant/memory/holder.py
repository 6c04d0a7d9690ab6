"""Who holds the memory store, as a second process is told it.

The store's lock (:class:`assistant.memory.store.MemoryStore`) lets one process in; the
holder writes its pid to ``lock.pid`` and may leave a note in ``lock.note`` saying how other
programs can reach it anyway (its MCP server). A note is believed only while its pid is the
holder's: one left behind by a process that was killed says nothing about the next holder.
Plain files, no chromadb: the MCP endpoint writes its note before the store is opened.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PID_FILE = "lock.pid"
NOTE_FILE = "lock.note"


def describe(folder: Path) -> str:
    """The holder of the store in ``folder`` for an error message, e.g. "pid 4242; or use its
    MCP server at http://127.0.0.1:8765/mcp (...)"."""
    try:
        pid = (folder / PID_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return "pid ?"
    try:
        noted_pid, _, note = (folder / NOTE_FILE).read_text(encoding="utf-8").partition("\n")
    except OSError:
        return f"pid {pid}"
    return f"pid {pid}; or {note.strip()}" if noted_pid.strip() == pid and note.strip() \
        else f"pid {pid}"


def note(folder: Path, text: str) -> None:
    """Leave ``text`` for whoever finds the store held by this process (best effort: a
    folder that cannot be written only costs the hint)."""
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / NOTE_FILE).write_text(f"{os.getpid()}\n{text}\n", encoding="utf-8")


def clear(folder: Path) -> None:
    """Take this process's note back (another's is left alone)."""
    with contextlib.suppress(OSError):
        if (folder / NOTE_FILE).read_text(encoding="utf-8").partition("\n")[0] == \
                str(os.getpid()):
            (folder / NOTE_FILE).unlink()
