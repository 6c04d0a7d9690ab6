"""The persistent :class:`Schedule` that timers, alarms and reminders run on.

An entry of a schedule is kept in its file (written atomically on every change) and fired on
the context's clock (a ``threading.Timer``, or a file run's timeline:
:mod:`assistant.timeline`), announcing itself through ``SkillContext.announce`` (printed in
the chat, spoken in voice mode). Entries outlive the process: a start hook re-arms the ones
still running and says, once, which fell due while the assistant was off.

Rooms: a hub serves several rooms (satellites) from one schedule. Each entry keeps the
``SkillContext.room`` it was set from and is said there (``SkillContext.announce_to``), going
off or missed. A room sees and cancels its own entries and those set on the device itself
(room ""), its own first; the device sees all of them (see :meth:`Schedule.active`).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.skills import SkillContext
from assistant.timeline import Handle, SkillClock, WallClock
from skills.jsonfile import JsonFile


@dataclass
class Entry:
    """Something that goes off at a time: a timer, an alarm or a reminder."""

    id: str
    kind: str
    """"timer", "alarm" or "reminder"."""
    due: float
    """Seconds since the epoch on the context's clock (``SkillContext.clock``: the wall
    clock, or a file run's timeline): unlike ``time.monotonic()`` it means the same thing
    after a restart."""
    label: str | None = None
    seconds: int | None = None
    """A timer's length."""
    clock: str | None = None
    """An alarm's time of day, "HH:MM"."""
    text: str | None = None
    """A reminder's words, as the user said them ("call my mum")."""
    created: float = 0.0
    room: str = ""
    """The room it was set from, and is said in ("" = the device itself)."""
    handle: Handle | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it would deep-copy the timer handle. None and "" mean
        # "not set" and are left out, so a device without rooms writes what it always did.
        return {f.name: value for f in fields(self)
                if f.name != "handle" and (value := getattr(self, f.name)) not in (None, "")}

    @classmethod
    def from_json(cls, raw: Any) -> Entry | None:
        """An entry read back from disk, or None for one that is not usable."""
        if not isinstance(raw, dict):
            return None
        known = {f.name for f in fields(cls)} - {"handle"}
        try:
            entry = cls(**{k: v for k, v in raw.items() if k in known})
            entry.due = float(entry.due)
        except (TypeError, ValueError):
            return None
        if not isinstance(entry.room, str):  # a hand-edited file: say it on the device
            entry.room = ""
        return entry if isinstance(entry.id, str) and isinstance(entry.kind, str) else None


class Schedule:
    """The entries of one file, each armed on the clock's timer (``SkillContext.clock``).

    Loading arms what is still to come; what fell due while no assistant was running is kept
    (on disk too) until :meth:`take_missed` hands it over, so that nothing is lost when a
    host never calls the start hooks.
    """

    def __init__(self, path: Path, announce: Callable[[str], None],
                 message: Callable[[Entry], str],
                 announce_in: Callable[[str, str], None] | None = None,
                 clock: Callable[[], SkillClock] = WallClock) -> None:
        """``announce`` says a message when an entry goes off; ``message`` words it;
        ``announce_in(room, text)`` says it instead for an entry set in a room (None: all go
        to ``announce``); ``clock()`` is the clock to arm an entry on, looked up each time
        (a file run replaces the context's after the schedule was made)."""
        self._clock = clock
        self._file = JsonFile(path)
        self._announce = announce
        self._announce_in = announce_in
        self._message = message
        self._lock = threading.RLock()
        self._entries: dict[str, Entry] = {}
        self._missed: list[Entry] = []
        self._closed = False
        document = self._file.load()
        raw = document.get("entries", []) if isinstance(document, dict) else []
        now = clock().now()
        for item in raw if isinstance(raw, list) else []:
            entry = Entry.from_json(item)
            if entry is None:
                continue
            if entry.due <= now:
                self._missed.append(entry)
            else:
                self._arm(entry)

    @property
    def error(self) -> str | None:
        """Why the file could not be read or written, if it could not."""
        return self._file.error

    def _arm(self, entry: Entry) -> None:
        if self._closed:
            return
        self._entries[entry.id] = entry  # before arming: one already due fires at once
        entry.handle = self._clock().call_at(entry.due, lambda: self._fire(entry.id))

    def _save(self) -> bool:
        if self._closed:
            return False
        everything = sorted([*self._entries.values(), *self._missed], key=lambda e: e.due)
        return self._file.save({"version": 1, "entries": [e.as_json() for e in everything]})

    def _fire(self, entry_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(entry_id, None)
            if entry is None:  # cancelled while the timer thread was waking up
                return
            self._save()
        text = self._message(entry)
        if entry.room and self._announce_in is not None:
            self._announce_in(entry.room, text)
        else:
            self._announce(text)

    def add(self, kind: str, due: float, **details: Any) -> tuple[Entry, bool]:
        """Schedule a new entry; returns it and whether it was saved (it runs either way: a
        full disk should cost the user the restart, not the timer)."""
        entry = Entry(id=uuid.uuid4().hex[:12], kind=kind, due=due, created=self._clock().now(),
                      **details)
        with self._lock:
            self._arm(entry)
            saved = self._save()
        return entry, saved

    def restore(self, entries: Iterable[Entry]) -> list[Entry]:
        """Put back entries taken away by :meth:`cancel` (an undo); returns those that were
        still to come (the others are gone for good)."""
        now = self._clock().now()
        with self._lock:
            back = [e for e in entries if e.due > now and e.id not in self._entries]
            for entry in back:
                self._arm(entry)
            if back:
                self._save()
        return back

    def discard(self, entry_id: str) -> Entry | None:
        """Cancel one entry by id; None when it already went off or was cancelled."""
        with self._lock:
            entry = self._entries.pop(entry_id, None)
            if entry is None:
                return None
            if entry.handle is not None:
                entry.handle.cancel()
            self._save()
        return entry

    def cancel(self, label: str | None, kind: str = "timer",
               where: Callable[[Entry], bool] | None = None, room: str = "") -> list[Entry]:
        """Cancel the running entries of ``kind`` with this label (all of them for None)
        that ``where`` accepts, among those ``room`` sees (:meth:`active`); returns them,
        soonest first. In a room its own entries go first: "cancel the timer" in the
        kitchen cancels the kitchen's, and only when it has none that match, the device's."""
        with self._lock:
            chosen = [e for e in self.active((kind,), room)
                      if (label is None or e.label == label) and (where is None or where(e))]
            if room:
                chosen = [e for e in chosen if e.room == room] or chosen
            for entry in chosen:
                self._entries.pop(entry.id, None)
                if entry.handle is not None:
                    entry.handle.cancel()
            if chosen:
                self._save()
        return chosen

    def active(self, kinds: Iterable[str] | None = None, room: str = "") -> list[Entry]:
        """The entries still to go off, soonest first, as seen from ``room``: a room sees its
        own and the device's (room ""), not another room's; the device ("") sees them all,
        as it did before there were rooms."""
        wanted = None if kinds is None else set(kinds)
        with self._lock:
            return sorted((e for e in self._entries.values()
                           if (wanted is None or e.kind in wanted)
                           and (not room or e.room in ("", room))), key=lambda e: e.due)

    def take_missed(self) -> list[Entry]:
        """The entries that fell due while no assistant ran, once: they are removed."""
        with self._lock:
            missed, self._missed = sorted(self._missed, key=lambda e: e.due), []
            if missed:
                self._save()
        return missed

    def close(self) -> None:
        """Stop the timer threads and stop writing, keeping every entry on disk (a process
        that shuts down; tests use it to stand for a restart). A closed schedule must never
        overwrite what a newer process wrote."""
        with self._lock:
            self._closed = True
            for entry in self._entries.values():
                if entry.handle is not None:
                    entry.handle.cancel()


def schedule_for(ctx: SkillContext, key: str, filename: str,
                 message: Callable[[Entry], str]) -> Schedule:
    """The context's schedule under ``key``, loaded from ``<data>/<filename>`` on first use.
    Announcements look ``ctx.announce`` (and ``ctx.announce_in``) up when they happen: the
    voice loop replaces it after the assistant (and perhaps the schedule) was made. The
    schedule is shared through ``ctx.services``, so every room's turns reach the same one;
    it says things through the context that made it, in the room each entry was set from."""
    return ctx.service(key, lambda: Schedule(ctx.data_dir / filename,
                                             lambda text: ctx.announce(text), message,
                                             announce_in=ctx.announce_to,
                                             clock=lambda: ctx.clock))


def now_for(ctx: SkillContext) -> dt.datetime:
    """Local time now on the context's clock (a file run's timeline, or the wall clock)."""
    return dt.datetime.fromtimestamp(ctx.clock.now())


def announce_missed(ctx: SkillContext, missed: list[Entry],
                    words: Callable[[list[Entry]], str]) -> None:
    """Say what fell due while the assistant was off: ``words`` of the entries, once for
    each room they were set from (one sentence for all when the host has no rooms)."""
    by_room: dict[str, list[Entry]] = {}
    for entry in missed:
        by_room.setdefault(entry.room if ctx.announce_in is not None else "", []).append(entry)
    for room, entries in by_room.items():
        ctx.announce_to(room, words(entries))
