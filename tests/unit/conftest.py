"""Shared fixtures for the fast unit tests: no LLM, no network, nothing outside tmp_path."""

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.skills import SkillContext, SkillRegistry
from tests.fixtures.skills import Said, SaidIn, close_schedules


@pytest.fixture(autouse=True)
def _isolate_user_dirs(tmp_path_factory, monkeypatch):
    """Point every XDG folder at a temporary one and drop ASSISTANT_* variables, so no test
    can read the user's config or write into their ~/.local or ~/.cache by accident."""
    home = tmp_path_factory.mktemp("xdg")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clean_modules():
    """Forget modules a test imported from tmp_path (fake plugins, skill folders)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("assistant_user_skills", "fakeplugin", "brokenplugin")):
            del sys.modules[name]


@pytest.fixture
def builtin_registry() -> SkillRegistry:
    registry = SkillRegistry(default_timeout_s=5.0)
    registry.load_entry_points()
    assert registry.errors == []
    return registry


class Announcements(list):
    """A list that is also the ``announce`` callback."""

    def __call__(self, text: str) -> None:
        self.append(text)


@pytest.fixture
def announced() -> Announcements:
    return Announcements()


@pytest.fixture
def context(tmp_path, announced):
    stops: list[bool] = []
    ctx = SkillContext(data_dir=tmp_path / "data", announce=announced,
                       stop=lambda: stops.append(True))
    ctx.stops = stops  # type: ignore[attr-defined]
    yield ctx
    timers = ctx.services.get("timers")
    if timers is not None:  # never leave a timer thread behind
        timers.cancel(None, "timer")
        timers.cancel(None, "alarm")


@pytest.fixture
def restart(builtin_registry: SkillRegistry) -> Iterator[Callable[..., SkillContext]]:
    """A fresh assistant on the same data folder, started (the old one is shut down);
    keyword arguments are more fields of its context (``announce_in=SaidIn()``)."""
    made: list[SkillContext] = []

    def make(old: SkillContext, **fields: Any) -> SkillContext:
        close_schedules(old)
        fresh = SkillContext(data_dir=old.data_dir, announce=Said(), **fields)
        made.append(fresh)
        builtin_registry.start(fresh)
        return fresh

    yield make
    for fresh in made:
        close_schedules(fresh)


@pytest.fixture
def hub(tmp_path, builtin_registry: SkillRegistry) -> Iterator[SkillContext]:
    """A hub's own context, started, with ``announce_in`` recording (room, text): its
    schedules are the ones every room shares (see ``tests.fixtures.skills.in_room``)."""
    ctx = SkillContext(data_dir=tmp_path / "hub", announce=Said(), announce_in=SaidIn())
    builtin_registry.start(ctx)
    yield ctx
    close_schedules(ctx)
