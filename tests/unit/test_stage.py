"""assistant.voice.stage: a stage handles its frames in order on its own thread, counts them
as work until handled, reports a failure and goes on, and stops after what was queued."""

from __future__ import annotations

import threading

from assistant.voice.frames import Prefill
from assistant.voice.stage import Stage, Work


def _frame(n: int) -> Prefill:
    return Prefill(n, f"heard {n}", f"words {n}")


def test_a_stage_handles_frames_in_order_and_stops_after_them() -> None:
    work, seen, failures = Work(), [], []
    gate = threading.Event()

    def handle(frame: Prefill) -> None:
        gate.wait()
        if frame.utterance == 2:
            raise ValueError("bad frame")
        seen.append(frame.utterance)

    stage = Stage("prefiller", handle, work, lambda name, exc: failures.append((name, str(exc))))
    stage.start()
    for n in (1, 2, 3):
        stage.put(_frame(n))
    assert work.count == 3  # queued or being handled: work
    stage.stop()
    gate.set()
    stage.join(timeout=5)
    assert seen == [1, 3]
    assert failures == [("prefiller", "bad frame")]
    assert work.count == 0 and stage.backlog() == 0
