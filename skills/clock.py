"""Time, date, timers and alarms. Timers and alarms fire on background threads and announce
themselves through ``SkillContext.announce`` (printed in the chat, spoken in voice mode)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field

from assistant.skills import Pattern, SkillContext, skill

_UNIT_SECONDS = {"hour": 3600, "hr": 3600, "minute": 60, "min": 60, "second": 1, "sec": 1}
_DURATION = re.compile(
    r"(?P<n>\d+(?:\.\d+)?|an?|half an?|a quarter of an?|quarter of an?)\s*-?\s*"
    r"(?P<unit>hour|hr|minute|min|second|sec)s?\b",
    re.IGNORECASE,
)
_NOT_LABELS = {"a", "an", "the", "my", "this", "that", "new", "one", "hour", "minute", "second",
               "hours", "minutes", "seconds", "min", "mins", "sec", "secs", "countdown", "me",
               "all", "every", "each", "current", "running", "of", "is", "for", "and"}


def parse_duration(text: str) -> int | None:
    """Seconds in a normalised phrase such as '5 minutes and 30 seconds' or 'half an hour'."""
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


def _label(text: str) -> str | None:
    for rx in (r"\b(?:called|named|labell?ed)\s+(?:the\s+)?([a-z]+)",
               r"\b([a-z]+)\s+timer",
               r"\btimer\s+for\s+(?:the|my)\s+([a-z]+)",
               r"\bfor\s+(?:the|my)\s+([a-z]+)$"):
        m = re.search(rx, text, re.IGNORECASE)
        if m and m.group(1).lower() not in _NOT_LABELS:
            return m.group(1).lower()
    return None


_PM = re.compile(r"\b(?:pm|in the evening|at night|tonight|in the afternoon)\b", re.IGNORECASE)
_AM = re.compile(r"\b(?:am|in the morning)\b", re.IGNORECASE)


def parse_clock(text: str) -> str | None:
    """'HH:MM' from a normalised phrase: '7 30 pm', 'quarter to 7', 'noon', '6 o'clock'."""
    t = re.sub(r"\b(?:noon|midday)\b", "12:00", text.lower())
    t = re.sub(r"\bmidnight\b", "0:00", t)
    hour = minute = None
    if m := re.search(r"\b(quarter|half|\d{1,2})(?: minutes?)? (past|after|to) (\d{1,2})\b", t):
        amount = {"quarter": 15, "half": 30}.get(m.group(1)) or int(m.group(1))
        hour = int(m.group(3))
        minute = amount if m.group(2) != "to" else 60 - amount
        if m.group(2) == "to":
            hour = (hour - 1) % 24
    elif m := re.search(r"\b(?:at|for|to|by)\s+(\d{1,2})(?:[: ](\d{2}))?\b", t) or re.search(
        r"\b(\d{1,2})(?:[: ](\d{2}))?\s*(?:am|pm|o'clock)\b", t
    ) or re.search(r"\b(\d{1,2}):(\d{2})\b", t):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour is None or minute is None or hour > 23 or minute > 59:
        return None
    if _PM.search(t) and hour < 12:
        hour += 12
    elif _AM.search(t) and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


@dataclass
class _Timer:
    label: str | None
    due: float
    """time.monotonic() deadline."""
    kind: str
    handle: threading.Timer = field(repr=False)


class TimerService:
    """The running timers and alarms of one assistant process."""

    def __init__(self, announce: callable) -> None:  # type: ignore[valid-type]
        self._announce = announce
        self._lock = threading.Lock()
        self._timers: list[_Timer] = []

    def start(self, seconds: float, label: str | None, kind: str, message: str) -> None:
        def fire() -> None:
            with self._lock:
                self._timers = [t for t in self._timers if t.handle is not handle]
            self._announce(message)

        handle = threading.Timer(seconds, fire)
        handle.daemon = True
        with self._lock:
            self._timers.append(_Timer(label, time.monotonic() + seconds, kind, handle))
        handle.start()

    def cancel(self, label: str | None, kind: str = "timer") -> list[_Timer]:
        with self._lock:
            chosen = [t for t in self._timers if t.kind == kind
                      and (label is None or t.label == label)]
            for t in chosen:
                t.handle.cancel()
            self._timers = [t for t in self._timers if t not in chosen]
        return chosen

    def active(self) -> list[_Timer]:
        with self._lock:
            return sorted(self._timers, key=lambda t: t.due)


def _sentence(text: str) -> str:
    """First letter upper-cased, the rest untouched (str.capitalize lower-cases 'CPU')."""
    return text[:1].upper() + text[1:] + "."


def _service(ctx: SkillContext) -> TimerService:
    return ctx.service("timers", lambda: TimerService(ctx.announce))


@skill(read_only=True,
       patterns=[r"\bwhat(?:'s| is) the (?:current )?time\b", r"\bwhat time is it\b",
                 r"\bwhat time it is\b", r"\b(?:tell me|know|have|got) the time\b",
                 r"\bhow late is it\b",
                 r"^(?:the )?(?:current )?time$", r"\bcurrent time\b"])
def get_time() -> str:
    """Tell the current local time."""
    now = dt.datetime.now()
    return f"It's {now:%-I:%M %p}."


@skill(read_only=True,
       patterns=[r"\bwhat(?:'s| is) (?:the |today's )?date\b", r"\btoday's date\b",
                 r"\b(?:what|which) (?:day|date) (?:of the (?:week|month) )?"
                 r"(?:is it|is today|it is)\b",
                 r"\b(?:tell me|know|have|got) (?:the |today's )?date\b",
                 r"\bwhat(?:'s| is) today\b",
                 r"\b(?:which|what) day it is\b", r"\bdate today\b", r"^(?:the )?date$"])
def get_date() -> str:
    """Tell today's date and day of the week."""
    return f"Today is {dt.date.today():%A, %B %-d, %Y}."


@skill(read_only=True,
       patterns=[r"\b(?:what|which|any|list|show|check|how many)\b.*\btimers?\b",
                 r"\bhow (?:much|long) (?:time )?(?:is )?left\b",
                 r"^(?:my )?timers$"])
def list_timers(ctx: SkillContext) -> str:
    """List the running timers and alarms with the time left on each."""
    active = _service(ctx).active()
    if not active:
        return "There are no timers running."
    now = time.monotonic()
    parts = []
    for t in active:
        name = f"{t.label} {t.kind}" if t.label else t.kind
        parts.append(f"the {name} has {say_duration(max(0, round(t.due - now)))} left")
    return _sentence("; ".join(parts))


def _cancel_args(m: re.Match[str]) -> dict:
    return {"label": _label(m.string)}


@skill(patterns=[Pattern(re.compile(
    r"\b(?:cancel|stop|delete|remove|clear|turn off|switch off|get rid of|kill|end|reset)\b"
    r".*\btimers?\b", re.IGNORECASE), _cancel_args)])
def cancel_timer(ctx: SkillContext, label: str | None = None) -> str:
    """Cancel a running timer.

    Args:
        label: Name of the timer to cancel, e.g. "pasta"; empty cancels all timers.
    """
    label = label.lower() if label else None
    cancelled = _service(ctx).cancel(label)
    if not cancelled:
        return f"There is no {label + ' ' if label else ''}timer running."
    if len(cancelled) == 1:
        return f"Cancelled the {label + ' ' if label else ''}timer."
    return f"Cancelled {len(cancelled)} timers."


def _timer_args(m: re.Match[str]) -> dict | None:
    seconds = parse_duration(m.string)
    return {"seconds": seconds, "label": _label(m.string)} if seconds else None


@skill(patterns=[Pattern(re.compile(r"\btimer\b|\bcount ?down\b", re.IGNORECASE), _timer_args)],
       examples=["set a timer for an hour", "a quarter of an hour countdown"])
def set_timer(ctx: SkillContext, seconds: int, label: str | None = None) -> str:
    """Start a countdown timer that announces itself when it ends.

    Args:
        seconds: Length of the timer in seconds, e.g. 330 for five and a half minutes.
        label: Optional short name for the timer, e.g. "pasta".
    """
    if seconds <= 0 or seconds > 7 * 86400:
        raise ValueError("a timer must be between 1 second and 7 days")
    label = label.lower() if label else None
    name = f"{label} timer" if label else "timer"
    message = f"Your {name} for {say_duration(seconds)} is done."
    _service(ctx).start(seconds, label, "timer", message)
    return f"{name.capitalize()} set for {say_duration(seconds)}."


def _alarm_args(m: re.Match[str]) -> dict | None:
    clock = parse_clock(m.string)
    if clock is None:
        return None
    label = None
    if lm := re.search(r"\b(?:called|named|labell?ed)\s+([a-z]+)$", m.string, re.IGNORECASE):
        label = lm.group(1).lower()
    return {"time": clock, "label": label}


@skill(patterns=[Pattern(re.compile(r"\balarm\b|\bwake me\b", re.IGNORECASE), _alarm_args)],
       examples=["wake me up at seven"])
def set_alarm(ctx: SkillContext, time: str, label: str | None = None) -> str:
    """Set an alarm for the next time the clock shows the given time.

    Args:
        time: Time of day, 24-hour "HH:MM", e.g. "07:30".
        label: Optional short name for the alarm.
    """
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time.strip())
    if m is None:
        raise ValueError(f"'{time}' is not a time of day like 07:30")
    now = dt.datetime.now()
    due = now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
    if due <= now:
        due += dt.timedelta(days=1)
    name = f"{label} alarm" if label else "alarm"
    _service(ctx).start((due - now).total_seconds(), label, "alarm",
                        f"It's {due:%-I:%M %p}: your {name}.")
    day = "today" if due.date() == now.date() else "tomorrow"
    return f"{name.capitalize()} set for {due:%-I:%M %p} {day}."
