"""What leaves a skill is bounded: its time (:func:`on_thread`), its result (usable types,
:data:`RESULT_CHARS`) and its audit line (:data:`AUDIT_ENTRY_BYTES`)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from typing import Any

from assistant.skills.declare import Undoable

RESULT_CHARS = 2000
"""Longest skill result the turn sees, says and prints (a 10 MB result went whole to stdout
and the audit log on every call)."""
AUDIT_ENTRY_BYTES = 4096
"""Longest line of the audit log, arguments and result included."""
CUT_MARK = " …(cut)"


def usable(name: str, value: Any) -> tuple[bool, Any]:
    """A skill's return value as (ok, text or Undoable): text and numbers are answers; None,
    containers and other objects are not (they would be read out as 'null' or JSON)."""
    if isinstance(value, str | Undoable):
        return True, value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return True, value
    if value is None:
        return False, f"{name} gave no answer."
    return False, f"{name} returned something I can't use ({type(value).__name__})."


def one_line_sentence(text: str) -> str:
    """``text`` on one line, ending like a sentence: it is said to the user."""
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."


def cut(text: str, limit: int = RESULT_CHARS) -> str:
    """``text``, or its first ``limit`` characters and :data:`CUT_MARK` (said with the rest
    of the answer: the user hears that there was more)."""
    return text if len(text) <= limit else text[:limit] + CUT_MARK


def audit_line(record: dict[str, Any], limit: int = AUDIT_ENTRY_BYTES) -> str:
    """``record`` as one JSON line of at most ``limit`` bytes. One that is longer keeps its
    size (``cut_bytes``), its ts, kind, name and ok while they fit in half the line, and the
    start of its JSON text."""
    line = json.dumps(record, default=str)  # ASCII (ensure_ascii): characters are bytes
    if len(line) <= limit:
        return line
    head: dict[str, Any] = {"cut_bytes": len(line)}
    for key in ("ts", "kind", "name", "ok"):  # each only while they fit in half the line
        if key in record and len(json.dumps({**head, key: record[key]}, default=str)) <= limit // 2:
            head[key] = record[key]
    keep = limit
    while True:  # escaping the kept text makes it longer: shrink by the excess until it fits
        short = json.dumps({**head, "record": line[:keep]}, default=str)
        if len(short) <= limit or keep == 0:
            return short
        keep = max(0, keep - (len(short) - limit))


def started(fn: Callable[[], Any], name: str) -> tuple[threading.Thread, dict[str, Any]]:
    """``fn()`` running on a daemon thread, and the box its outcome will be in:
    ``{"value": ...}`` or ``{"error": exception}``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # a plugin's sys.exit() or Ctrl-C is its failure
            box["error"] = exc

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    return worker, box


def on_thread(fn: Callable[[], Any], timeout_s: float, name: str) -> dict[str, Any] | None:
    """``fn()`` on a daemon thread, waited for at most ``timeout_s``: its outcome's box
    (:func:`started`), or None when it is still running. It is then abandoned: a daemon
    thread cannot block exit."""
    worker, box = started(fn, name)
    worker.join(timeout_s)
    return None if worker.is_alive() else box
