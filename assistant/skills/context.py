"""What a running assistant lends to its skills: :class:`SkillContext`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.timeline import SkillClock, WallClock


@dataclass
class SkillContext:
    """What a running assistant lends to skills."""

    data_dir: Path
    """Folder for a skill's persistent files."""
    announce: Callable[[str], None] = print
    """Say something outside a turn (a timer going off), through whatever output is active."""
    stop: Callable[[], None] = lambda: None
    """Stop speaking and cancel the answer in progress."""
    services: dict[str, Any] = field(default_factory=dict)
    """Objects shared across calls within one process, e.g. the timer table."""
    channel: str = "chat"
    """How the current request arrived: "chat", "voice" or "cli" (recorded with facts)."""
    memory: Callable[[], Any] | None = None
    """Returns the user's memory store (:class:`assistant.memory.MemoryStore`), opening it on
    first use; None where the host has no memory."""
    room: str = ""
    """The room the current request came from ("" = this device)."""
    announce_in: Callable[[str, str], None] | None = None
    """Say ``text`` in ``room`` (``announce_in(room, text)``): the hub routes it to that room's
    satellite. None: everything goes to :attr:`announce`."""
    clock: SkillClock = field(default_factory=WallClock)
    """The time that timers, alarms and "what time is it" follow: the wall clock, or a file
    run's input timeline (see :mod:`assistant.timeline`). Look it up when it is needed."""

    def announce_to(self, room: str, text: str) -> None:
        """Say ``text`` in ``room`` through :attr:`announce_in` when there is one and ``room``
        is not "", else through :attr:`announce`. Both are looked up now: a host may replace
        them after the skills (and their timers) were set up."""
        if room and self.announce_in is not None:
            self.announce_in(room, text)
        else:
            self.announce(text)

    def service(self, key: str, factory: Callable[[], Any]) -> Any:
        """The shared object under ``key``, created by ``factory`` on first use."""
        if key not in self.services:
            self.services[key] = factory()
        return self.services[key]
