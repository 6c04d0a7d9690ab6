"""Time, date, timers and alarms, and the persistent :class:`Schedule` they run on.

Owns: ``get_time``, ``get_date``, ``set_timer``, ``set_alarm``, ``list_timers``,
``cancel_timer``, ``cancel_alarm``, the ``restore_timers`` start hook, the duration, clock and
label parsers (also the :class:`~assistant.skills.Slot` parsers of the timer skills), and the
small JSON-file helpers the other built-in skills persist with.

A timer or alarm is an entry of a :class:`Schedule`: kept in ``<data>/timers.json`` (written
atomically on every change) and fired on the context's clock (a ``threading.Timer``, or a
file run's timeline: :mod:`assistant.timeline`), announcing itself through
``SkillContext.announce`` (printed in the chat, spoken in voice mode). Entries outlive the
process: at start ``restore_timers`` re-arms the ones still running and says, once, which
fell due while the assistant was off. Reminders (:mod:`skills.reminders`) use the same
schedule class with their own file.

Rooms: a hub serves several rooms (satellites) from one schedule. Each entry keeps the
``SkillContext.room`` it was set from and is said there (``SkillContext.announce_to``), going
off or missed. A room sees and cancels its own entries and those set on the device itself
(room ""), its own first; the device sees all of them (see :meth:`Schedule.active`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.skills import Pattern, SkillContext, Slot, Undoable, on_start, skill
from assistant.timeline import Handle, SkillClock, WallClock

# ---------------------------------------------------------------- JSON files


class JsonFile:
    """One JSON document on disk, replaced atomically (a temp file, then ``os.replace``) so a
    crash mid-write leaves the old version rather than half a file. Shared by the built-in
    skills that persist (timers, reminders, lists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        """Why the last load or save failed, in words (None when it worked)."""

    def load(self) -> Any:
        """The document, or None when there is none. An unreadable one is moved aside to
        ``<name>.corrupt`` (never overwritten: it may hold the only copy of someone's data)
        and reported in :attr:`error`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.error = f"I couldn't read {self.path.name}: {exc.strerror or exc}"
            return None
        try:
            return json.loads(text)
        except ValueError:
            aside = self.path.with_name(self.path.name + ".corrupt")
            try:
                os.replace(self.path, aside)
                self.error = f"{self.path.name} was damaged; I kept it as {aside.name}"
            except OSError:
                self.error = f"{self.path.name} was damaged"
            return None

    def save(self, document: Any) -> bool:
        """Write ``document``; False (and :attr:`error`) when the disk refused."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".",
                                       suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(document, fh, indent=1)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self.error = f"I couldn't save {self.path.name}: {exc.strerror or exc}"
            return False
        self.error = None
        return True


# ---------------------------------------------------------------- the schedule


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


# ---------------------------------------------------------------- parsers

_UNIT_SECONDS = {"hour": 3600, "hr": 3600, "minute": 60, "min": 60, "second": 1, "sec": 1}
_DURATION = re.compile(
    r"(?P<n>\d+(?:\.\d+)?|an?|half an?|a quarter of an?|quarter of an?)\s*-?\s*"
    r"(?P<unit>hour|hr|minute|min|second|sec)s?\b",
    re.IGNORECASE,
)
DURATION_RX = (r"(?:\d+(?:\.\d+)?|an?|half an?|a quarter of an?) ?(?:hours?|hrs?|minutes?|mins?|"
               r"seconds?|secs?)(?:,? (?:and )?(?:\d+(?:\.\d+)?|an?) ?(?:minutes?|mins?|"
               r"seconds?|secs?))*")
"""A duration phrase as a regex fragment (for other skills' patterns: "in 20 minutes")."""
_KIND_WORDS = {"timer", "timers", "alarm", "alarms", "reminder", "reminders", "countdown"}
_NOT_LABELS = {"a", "an", "the", "my", "this", "that", "new", "one", "hour", "minute", "second",
               "hours", "minutes", "seconds", "min", "mins", "sec", "secs", "me",
               "all", "every", "each", "current", "running", "of", "is", "for", "and",
               "it", "to", "in", "at", "on", "off", *_KIND_WORDS}
# Words that make a short answer a command or a reply rather than a name ("set", "no").
_NOT_ANSWERS = {"set", "start", "make", "create", "cancel", "stop", "delete", "remove",
                "yes", "no", "yeah", "nope", "ok", "okay", "sure", "please", "thanks",
                "what", "how", "when", "why", "never", "mind", "nothing", "none"}


def parse_duration(text: str) -> int | None:
    """Seconds in a normalised phrase such as '5 minutes and 30 seconds' or 'half an hour'
    (the whole command or a bare answer: '10 minutes', 'no i meant 10 minutes')."""
    total = 0.0
    for m in _DURATION.finditer(text):
        n = m.group("n").lower()
        amount = (0.5 if n.startswith("half") else 0.25 if "quarter" in n
                  else 1.0 if n in ("a", "an") else float(n))
        total += amount * _UNIT_SECONDS[m.group("unit").lower()]
    return round(total) if total > 0 else None


def say_duration(seconds: int) -> str:
    parts = []
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return " and ".join(parts) if parts else "0 seconds"


def _duration_adjective(seconds: int) -> str:
    """'5 minute', '1 hour 30 minute': a length before a noun ("the 5 minute timer")."""
    parts = []
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {unit}")
    return " ".join(parts) or "0 second"


def clean_label(label: str | None) -> str | None:
    """A user's name for a timer without the kind word: the LLM and the user both say
    "pasta timer", and an announcement must not say "your pasta timer timer"."""
    if not label:
        return None
    words = [w for w in re.findall(r"[a-z0-9']+", label.lower()) if w not in _KIND_WORDS]
    while words and words[0] in ("the", "my", "a", "an"):
        words.pop(0)
    return " ".join(words[:3]) or None


def _label(text: str) -> str | None:
    for rx in (r"\b(?:called|named|labell?ed)\s+(?:the\s+)?([a-z]+)",
               r"\b([a-z]+)\s+timer",
               r"\btimer\s+for\s+(?:the|my)\s+([a-z]+)",
               r"\bfor\s+(?:the|my)\s+([a-z]+)$"):
        m = re.search(rx, text, re.IGNORECASE)
        if m and m.group(1).lower() not in _NOT_LABELS:
            return m.group(1).lower()
    return None


def parse_label(text: str) -> str | None:
    """A timer's name from a command ("a pasta timer for 10 minutes", "... called tea") or
    from a bare answer to "What should I call it?" ("pasta", "call it the eggs one")."""
    if found := _label(text):
        return found
    answer = re.sub(r"^(?:no\b,? ?|sorry\b,? ?|actually\b,? ?)*(?:i meant |i said |make it |"
                    r"call it |name it |label it |it's |it is |its )?", "", text.lower().strip())
    words = [w for w in answer.split() if w not in ("the", "my", "a", "an", "one")]
    if 1 <= len(words) <= 2 and all(w.isalpha() and w not in _NOT_LABELS
                                    and w not in _NOT_ANSWERS for w in words):
        return " ".join(words)
    return None


_PM = re.compile(r"\b(?:pm|tonight|at night|tomorrow night|(?:in the|this|tomorrow) "
                 r"(?:evening|afternoon))\b", re.IGNORECASE)
# "am" only after a number: "remind me that i am ..." is not the morning.
_AM = re.compile(r"(?:(?<=\d)|(?<=\d ))am\b|\b(?:in the|this|tomorrow) morning\b",
                 re.IGNORECASE)


# An hour and perhaps minutes, not followed by a unit: "for 10 minutes" is no time of day.
_HOUR = r"(\d{1,2})(?:[: ](\d{2}))?\b(?! ?(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|days?)\b)"


_NOT_A_CLOCK = r"(?!\s*(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|percent|%))"


def _written_times(t: str) -> str:
    """Whisper's ways of writing a time, as "H:MM": "6.30" and "10.15pm" → "6:30", "10:15 pm";
    "1230 pm" → "12:30 pm"; "at 705" → "at 7:05" (a duration such as "0.25 hours" is left)."""
    t = re.sub(r"(\d)(am|pm)\b", r"\1 \2", t)
    t = re.sub(rf"\b(\d{{1,2}})\.([0-5]\d)\b{_NOT_A_CLOCK}", r"\1:\2", t)
    t = re.sub(r"\b(\d{1,2})([0-5]\d) (am|pm)\b", r"\1:\2 \3", t)
    return re.sub(rf"\b(at|by)\s+(\d{{1,2}})([0-5]\d)\b{_NOT_A_CLOCK}", r"\1 \2:\3", t)


_CLOCK_AMOUNTS = {5, 10, 15, 20, 25, 30}
"""Minutes said as "N past/to H" without the word "minutes" ("ten to six"); "eight to nine"
reads as a range."""


def clock_time(text: str) -> tuple[int, int, bool] | None:
    """(hour, minute, explicit) from a normalised phrase, where ``explicit`` says the phrase
    settles morning or afternoon (am/pm, "in the evening", noon, 24-hour or zero-padded
    '06:00'); '7' or 'at 7' is not explicit."""
    t = _written_times(text.lower())
    explicit = bool(re.search(r"\b(?:noon|midday|midnight)\b", t))
    t = re.sub(r"\b(?:noon|midday)\b", "12:00", t)
    t = re.sub(r"\bmidnight\b", "0:00", t)
    hour = minute = None
    if m := re.search(r"\b(quarter|half|\d{1,2})( minutes?)? (past|after|to) (\d{1,2})\b", t):
        amount = {"quarter": 15, "half": 30}.get(m.group(1)) or int(m.group(1))
        if not m.group(2) and amount not in _CLOCK_AMOUNTS:
            return None  # "8 to 9" is a range or a mishearing ("at eight tonight"), not 8:52
        hour = int(m.group(4))
        minute = amount if m.group(3) != "to" else 60 - amount
        if m.group(3) == "to":
            hour = (hour - 1) % 24
    elif m := re.search(r"\bhalf (\d{1,2})\b", t):  # British "half seven" is 7:30
        hour, minute = int(m.group(1)), 30
    # "at"/"by" first: in "book a table for 4 at 7 pm" the time is "at 7", not "for 4".
    elif m := (re.search(rf"\b(?:at|by)\s+{_HOUR}", t)
               or re.search(r"\b(\d{1,2})(?:[: ](\d{2}))?\s*(?:am|pm|o'clock)\b", t)
               or re.search(rf"\b(?:for|to|meant|make it|change it to)\s+{_HOUR}", t)
               or re.search(r"\b(\d{1,2}):(\d{2})\b", t)
               # a bare answer to "An alarm for what time?": "7", "7 30"
               or re.fullmatch(r"\s*(\d{1,2})(?:[: ](\d{2}))?\s*", t)):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        # Zero-padded "06:00" is how a 24-hour time is written (and what parse_clock says).
        explicit = explicit or hour > 12 or hour == 0 or bool(re.search(r"\b0\d[: ]\d\d\b", t))
    if hour is None or minute is None or hour > 23 or minute > 59:
        return None
    if _PM.search(t) and hour < 12:
        hour, explicit = hour + 12, True
    elif _PM.search(t) or _AM.search(t):
        explicit = True
        if _AM.search(t) and hour == 12:
            hour = 0
    return hour, minute, explicit


def parse_clock(text: str) -> str | None:
    """'HH:MM' from a normalised phrase: '7 30 pm', 'quarter to 7', 'noon', '6 o'clock', or a
    bare answer ('7 30 pm', '7'). An hour without am/pm is taken as said (an alarm 'at 7' is
    7 in the morning)."""
    found = clock_time(text)
    return None if found is None else f"{found[0]:02d}:{found[1]:02d}"


def capital(text: str) -> str:
    """First letter upper-cased, the rest untouched (str.capitalize lower-cases 'CPU')."""
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    return capital(text) + "."


def join_words(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def say_clock(when: dt.datetime) -> str:
    return f"{when:%-I:%M %p}"


# ---------------------------------------------------------------- timers and alarms


def _name(entry: Entry) -> str:
    """'pasta timer', 'alarm': the user's label said once, with the kind."""
    return f"{entry.label} {entry.kind}" if entry.label else entry.kind


def _alarm_time(entry: Entry) -> str:
    """The time the alarm was set for, '7:30 AM' (as set: the clock may have moved since)."""
    when = dt.datetime.fromtimestamp(entry.due)
    if entry.clock and (m := re.fullmatch(r"(\d\d):(\d\d)", entry.clock)):
        when = when.replace(hour=int(m.group(1)), minute=int(m.group(2)))
    return say_clock(when)


def _done(entry: Entry) -> str:
    if entry.kind == "alarm":
        return f"It's {_alarm_time(entry)}: your {_name(entry)}."
    return f"Your {_name(entry)} for {say_duration(entry.seconds or 0)} is done."


def _missed(entry: Entry) -> str:
    if entry.kind == "alarm":
        label = f"{entry.label} " if entry.label else ""
        return f"your {_alarm_time(entry)} {label}alarm went off"
    return f"your {_name(entry)} for {say_duration(entry.seconds or 0)} finished"


def _service(ctx: SkillContext) -> Schedule:
    return schedule_for(ctx, "timers", "timers.json", _done)


def _unsaved(schedule: Schedule) -> str:
    """What to add to a reply when the schedule could not be written."""
    return f" ({schedule.error}, so it won't survive a restart.)" if schedule.error else ""


@on_start
def restore_timers(ctx: SkillContext) -> None:
    """Re-arm the timers and alarms still running; say once which ones went off while the
    assistant was off."""
    schedule = _service(ctx)
    announce_missed(ctx, schedule.take_missed(),
                    lambda missed: f"While I was off, {join_words([_missed(e) for e in missed])}.")
    if schedule.error:
        ctx.announce(_sentence(schedule.error))


@skill(topic="the time and date",
       read_only=True,
       patterns=[r"\bwhat(?:'s| is) the (?:current )?time\b", r"\bwhat time is it\b",
                 r"\bwhat time it is\b", r"\b(?:tell me|know|have|got) the time\b",
                 r"\bhow late is it\b",
                 r"^(?:the )?(?:current )?time$", r"\bcurrent time\b"])
def get_time(ctx: SkillContext) -> str:
    """Tell the current local time."""
    return f"It's {say_clock(now_for(ctx))}."


@skill(topic="the time and date",
       read_only=True,
       patterns=[r"\bwhat(?:'s| is) (?:the |today's )?date\b", r"\btoday's date\b",
                 r"\b(?:what|which) (?:day|date) (?:of the (?:week|month) )?"
                 r"(?:is it|is today|it is)\b",
                 r"\b(?:tell me|know|have|got) (?:the |today's )?date\b",
                 r"\bwhat(?:'s| is) today\b",
                 r"\b(?:which|what) day it is\b", r"\bdate today\b", r"^(?:the )?date$"])
def get_date(ctx: SkillContext) -> str:
    """Tell today's date and day of the week."""
    return f"Today is {now_for(ctx):%A, %B %-d, %Y}."


@skill(topic="timers and alarms",
       read_only=True,
       patterns=[r"\b(?:what|which|any|list|show|check|how many)\b.*\btimers?\b",
                 r"\bhow (?:much|long) (?:time )?(?:is )?left\b",
                 r"^(?:my )?timers$"])
def list_timers(ctx: SkillContext) -> str:
    """List the running timers and alarms with the time left on each."""
    # (Not in the docstring: that is the LLM's description.) In a room: that room's and the
    # device's, never another room's (Schedule.active).
    active = _service(ctx).active(("timer", "alarm"), ctx.room)
    if not active:
        return "There are no timers running."
    now = ctx.clock.now()
    parts = []
    for t in active:
        parts.append(f"the {_name(t)} has {say_duration(max(0, round(t.due - now)))} left")
    return _sentence("; ".join(parts))


def _cancelled(schedule: Schedule, kind: str, label: str | None,
               cancelled: list[Entry]) -> str | Undoable:
    """The reply to cancelling ``cancelled``; undoing it puts them back."""
    named = f"{label} {kind}" if label else kind
    if not cancelled:
        return f"There is no {named} {'running' if kind == 'timer' else 'set'}."
    text = (f"Cancelled the {named}." if len(cancelled) == 1
            else f"Cancelled {len(cancelled)} {named}s.")

    def undo() -> str:
        back = schedule.restore(cancelled)
        if not back:
            return f"Too late: {'it has' if len(cancelled) == 1 else 'they have'} gone off."
        return f"Okay, the {named}{'s are' if len(back) > 1 else ' is'} back on."

    return Undoable(text, undo)


def _cancel_args(m: re.Match[str]) -> dict[str, Any]:
    return {"label": _label(m.string)}


@skill(topic="timers and alarms",
       patterns=[Pattern(re.compile(
    r"\b(?:cancel|stop|delete|remove|clear|turn off|switch off|get rid of|kill|end|reset)\b"
    r".*\btimers?\b", re.IGNORECASE), _cancel_args)])
def cancel_timer(ctx: SkillContext, label: str | None = None) -> str | Undoable:
    """Cancel a running timer.

    Args:
        label: Name of the timer to cancel, e.g. "pasta"; empty cancels all timers.
    """
    label = clean_label(label)
    schedule = _service(ctx)
    return _cancelled(schedule, "timer", label,
                      schedule.cancel(label, "timer", room=ctx.room))


def _cancel_alarm_args(m: re.Match[str]) -> dict[str, Any]:
    found = re.search(r"\b([a-z]+) alarm", m.string, re.IGNORECASE)
    label = found.group(1).lower() if found else None
    return {"label": None if label in _NOT_LABELS or label in _NOT_ANSWERS else label}


@skill(topic="timers and alarms",
       patterns=[Pattern(re.compile(
    r"\b(?:cancel|stop|delete|remove|clear|turn off|switch off|get rid of|kill|disable)\b"
    r".*\balarms?\b", re.IGNORECASE), _cancel_alarm_args)])
def cancel_alarm(ctx: SkillContext, label: str | None = None) -> str | Undoable:
    """Cancel an alarm that is set.

    Args:
        label: Name of the alarm to cancel, e.g. "gym"; empty cancels all alarms.
    """
    label = clean_label(label)
    schedule = _service(ctx)
    return _cancelled(schedule, "alarm", label,
                      schedule.cancel(label, "alarm", room=ctx.room))


def _cancel_one(schedule: Schedule, entry: Entry, what: str) -> Callable[[], str]:
    """An undo that cancels exactly ``entry`` (not a later timer with the same label)."""
    def undo() -> str:
        if schedule.discard(entry.id) is None:  # it went off, or was cancelled already
            return f"The {what} is no longer running."
        return f"Cancelled the {what}."
    return undo


def _timer_args(m: re.Match[str]) -> dict[str, Any] | None:
    seconds = parse_duration(m.string)
    return {"seconds": seconds, "label": _label(m.string)} if seconds else None


@skill(topic="timers and alarms",
       # "time for 12 minutes" is how tiny.en often hears "timer for 12 minutes"
       patterns=[Pattern(re.compile(r"\btimer\b|\bcount ?down\b|^time for (?=\d|an? )",
                                    re.IGNORECASE), _timer_args)],
       examples=["set a timer for an hour", "a quarter of an hour countdown"],
       slots={"seconds": Slot(parse_duration, "A timer for how long?"),
              "label": Slot(parse_label, "What should I call it?")})
def set_timer(ctx: SkillContext, seconds: int, label: str | None = None) -> Undoable:
    """Start a countdown timer that announces itself when it ends.

    Args:
        seconds: Length of the timer in seconds, e.g. 330 for five and a half minutes.
        label: Optional short name for the timer, e.g. "pasta".
    """
    if seconds <= 0 or seconds > 7 * 86400:
        raise ValueError("a timer must be between 1 second and 7 days")
    label = clean_label(label)
    schedule = _service(ctx)
    entry, _ = schedule.add("timer", ctx.clock.now() + seconds, label=label, seconds=seconds,
                            room=ctx.room)
    what = f"{_duration_adjective(seconds)} {_name(entry)}"
    return Undoable(f"{capital(_name(entry))} set for {say_duration(seconds)}."
                    + _unsaved(schedule), _cancel_one(schedule, entry, what))


def _alarm_args(m: re.Match[str]) -> dict[str, Any] | None:
    clock = parse_clock(m.string)
    if clock is None:
        return None
    label = None
    if lm := re.search(r"\b(?:called|named|labell?ed)\s+([a-z]+)$", m.string, re.IGNORECASE):
        label = lm.group(1).lower()
    return {"time": clock, "label": label}


@skill(topic="timers and alarms",
       patterns=[Pattern(re.compile(r"\balarm\b|\bwake me\b", re.IGNORECASE), _alarm_args)],
       examples=["wake me up at seven"],
       slots={"time": Slot(parse_clock, "An alarm for what time?")})
def set_alarm(ctx: SkillContext, time: str, label: str | None = None) -> Undoable:
    """Set an alarm for the next time the clock shows the given time.

    Args:
        time: Time of day, 24-hour "HH:MM", e.g. "07:30".
        label: Optional short name for the alarm.
    """
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time.strip())
    if m is None:
        raise ValueError(f"'{time}' is not a time of day like 07:30")
    now = now_for(ctx)
    due = now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
    if due <= now:
        due += dt.timedelta(days=1)
    label = clean_label(label)
    schedule = _service(ctx)
    entry, _ = schedule.add("alarm", due.timestamp(), label=label, clock=f"{due:%H:%M}",
                            room=ctx.room)
    day = "today" if due.date() == now.date() else "tomorrow"
    what = f"{say_clock(due)} {label + ' ' if label else ''}alarm"
    return Undoable(f"{capital(_name(entry))} set for {say_clock(due)} {day}."
                    + _unsaved(schedule), _cancel_one(schedule, entry, what))
