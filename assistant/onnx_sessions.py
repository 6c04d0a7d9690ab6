"""How this project's onnxruntime sessions (Piper's voice, the memory's embedder) are made and
run, so that on a 2-core device they neither spin nor keep memory they no longer use.

* Idle worker threads spin by default, and on 2 cores a spinning thread of one session slows
  the next model to run (Piper's vocoder after its front: ~230 -> ~170 ms a sentence).
* onnxruntime's CPU arena grows to the largest input a session has run and keeps it: after
  one 66-word sentence Piper's process held 612 MB against 255 MB before, for good (in the
  hour's soak, RSS stepped up ~190 MB at once after 58 minutes). A run with a large input
  lets the arena shrink back when it ends (``memory.enable_memory_arena_shrinkage``): the
  same sequence then ends at ~250 MB, the warm arena of everyday sentences. Not every run:
  re-growing the arena each time made short sentences ~10% slower to first audio and ~20%
  slower whole (interleaved, 10 runs), so the everyday sizes keep the arena they use.

onnxruntime is imported on first use, not with this module.
"""

from __future__ import annotations

import functools
from typing import Any


def session(model: bytes | str, *, threads: int = 0) -> Any:
    """A CPU session of ``model`` (a path or the model's bytes); ``threads`` 0 is
    onnxruntime's choice (all cores). Raises onnxruntime's own errors for a bad model."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def run_options(large: bool) -> Any:
    """Options for a ``session.run`` here: None for an everyday input; for a ``large`` one,
    the arena gives back what the run took once it ends."""
    return _shrinking() if large else None


@functools.cache
def _shrinking() -> Any:
    import onnxruntime

    options = onnxruntime.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options
