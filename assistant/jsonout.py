"""JSON output for scripts: stdout carries the JSON objects and nothing else.

``chat --once --json`` promises exactly one JSON object on stdout, but a plugin may print at
import and a skill while it runs. Inside :func:`json_stdout` everything written to stdout goes
to stderr instead: ``sys.stdout`` and, where stdout is a real file, file descriptor 1 itself
(so a C extension's printf or a skill's child process cannot reach it either). Only the writer
it hands back reaches the real stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO


def _duplicate(stream: TextIO) -> int | None:
    """A new descriptor for ``stream``'s file, or None when it has none (a test's capture)."""
    try:
        return os.dup(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


@contextlib.contextmanager
def json_stdout() -> Iterator[Callable[[Any], None]]:
    """Point stdout at stderr until the block ends; yields ``emit(obj)``, which writes
    ``obj`` as one JSON line to the real stdout and flushes it."""
    real = sys.stdout
    real.flush()
    saved = _duplicate(real)
    err_fd = _duplicate(sys.stderr)
    redirect_fd = saved is not None and err_fd is not None
    out: TextIO = real
    if redirect_fd:
        out = os.fdopen(saved, "w", encoding="utf-8")
        os.dup2(err_fd, real.fileno())
        os.close(err_fd)

    def emit(obj: Any) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    sys.stdout = sys.stderr
    try:
        yield emit
    finally:
        sys.stdout = real
        if redirect_fd:
            with contextlib.suppress(OSError):
                sys.stderr.flush()
            os.dup2(out.fileno(), real.fileno())
            out.close()
        elif err_fd is not None:
            os.close(err_fd)
        elif saved is not None:
            os.close(saved)
