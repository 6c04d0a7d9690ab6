"""assistant.timeline: a file run's clock, and the timers of the built-in skills on it."""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.skills import SkillContext, SkillRegistry
from assistant.timeline import Timeline, WallClock


class Played:
    """Seconds of input played, moved by the test as a file run's frames would."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_callbacks_run_when_the_timeline_reaches_them_and_not_before() -> None:
    played = Played()
    timeline = Timeline(played, start=1000.0)
    fired: list[str] = []
    done = threading.Event()

    def fire(name: str) -> None:
        fired.append(name)
        if len(fired) == 2:
            done.set()

    timeline.call_at(1005.0, lambda: fire("five"))
    timeline.call_at(1002.0, lambda: fire("two"))
    timeline.call_at(1003.0, lambda: fire("cancelled")).cancel()
    assert timeline.now() == 1000.0
    played.seconds = 1.9
    timeline.advance()
    assert fired == []
    played.seconds = 4.0
    timeline.advance()
    played.seconds = 5.0
    timeline.advance()
    assert done.wait(5)
    assert sorted(fired) == ["five", "two"]
    timeline.advance()  # each runs once
    assert len(fired) == 2


def test_ticking_advances_before_each_frame() -> None:
    played = Played()
    timeline = Timeline(played, start=0.0)
    fired = threading.Event()
    timeline.call_at(0.04, fired.set)
    tick = timeline.ticking(lambda frame: frame * 2)
    for frame in range(3):
        played.seconds = frame * 0.02
        assert tick(frame) == frame * 2
    assert fired.wait(5)


def test_the_wall_clock_fires_on_its_own() -> None:
    clock = WallClock()
    fired = threading.Event()
    clock.call_at(clock.now(), fired.set)
    assert fired.wait(5)


def test_skills_follow_the_context_clock(tmp_path: Path) -> None:
    """A timer set on a file run's timeline goes off when the timeline gets there, and the
    time, the timers left and an alarm's day are read on that clock."""
    played = Played()
    said: list[str] = []
    heard = threading.Event()
    ctx = SkillContext(data_dir=tmp_path, announce=lambda text: (said.append(text),
                                                                 heard.set()))
    ctx.clock = Timeline(played, start=1_700_000_000.0)  # 14 Nov 2023, 22:13 UTC
    registry = SkillRegistry()
    registry.load_entry_points()
    assert registry.call("set_timer", {"seconds": 300}, ctx).ok
    played.seconds = 60.0
    assert "4 minutes" in registry.call("list_timers", {}, ctx).result
    assert "2023" in registry.call("get_date", {}, ctx).result
    ctx.clock.advance()
    assert said == []
    played.seconds = 300.0
    ctx.clock.advance()
    assert heard.wait(5)
    assert said == ["Your timer for 5 minutes is done."]
