"""Time, date, timers and alarms.

Owns: ``get_time``, ``get_date``, ``set_timer``, ``set_alarm``, ``list_timers``,
``cancel_timer``, ``cancel_alarm`` and the ``restore_timers`` start hook. A timer or alarm is
an entry of the persistent :class:`~skills.schedule.Schedule` in ``<data>/timers.json``;
durations, clock times and labels are read and said by :mod:`skills.spoken`. Reminders
(:mod:`skills.reminders`) use the same schedule class with their own file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from assistant.skills import Pattern, SkillContext, Slot, Undoable, on_start, skill
from skills.schedule import Entry, Schedule, announce_missed, now_for, schedule_for
from skills.spoken import (
    NOT_ANSWERS,
    NOT_LABELS,
    capital,
    clean_label,
    duration_adjective,
    full_stop,
    join_words,
    label_in,
    parse_clock,
    parse_duration,
    parse_label,
    say_clock,
    say_duration,
)

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
        ctx.announce(full_stop(schedule.error))


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
    return full_stop("; ".join(parts))


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
    return {"label": label_in(m.string)}


def _cancel_alarm_args(m: re.Match[str]) -> dict[str, Any]:
    found = re.search(r"\b([a-z]+) alarm", m.string, re.IGNORECASE)
    label = found.group(1).lower() if found else None
    return {"label": None if label in NOT_LABELS or label in NOT_ANSWERS else label}


def _cancelling(kind: str, more_verbs: str,
                args: Callable[[re.Match[str]], dict[str, Any]]) -> Pattern:
    """The fast path's pattern for cancelling a ``kind``: a verb, then the noun."""
    return Pattern(re.compile(
        rf"\b(?:cancel|stop|delete|remove|clear|turn off|switch off|get rid of|kill|{more_verbs})"
        rf"\b.*\b{kind}s?\b", re.IGNORECASE), args)


def _cancel(ctx: SkillContext, kind: str, label: str | None) -> str | Undoable:
    label = clean_label(label)
    schedule = _service(ctx)
    return _cancelled(schedule, kind, label, schedule.cancel(label, kind, room=ctx.room))


@skill(topic="timers and alarms", patterns=[_cancelling("timer", "end|reset", _cancel_args)])
def cancel_timer(ctx: SkillContext, label: str | None = None) -> str | Undoable:
    """Cancel a running timer.

    Args:
        label: Name of the timer to cancel, e.g. "pasta"; empty cancels all timers.
    """
    return _cancel(ctx, "timer", label)


@skill(topic="timers and alarms", patterns=[_cancelling("alarm", "disable", _cancel_alarm_args)])
def cancel_alarm(ctx: SkillContext, label: str | None = None) -> str | Undoable:
    """Cancel an alarm that is set.

    Args:
        label: Name of the alarm to cancel, e.g. "gym"; empty cancels all alarms.
    """
    return _cancel(ctx, "alarm", label)


def _cancel_one(schedule: Schedule, entry: Entry, what: str) -> Callable[[], str]:
    """An undo that cancels exactly ``entry`` (not a later timer with the same label)."""
    def undo() -> str:
        if schedule.discard(entry.id) is None:  # it went off, or was cancelled already
            return f"The {what} is no longer running."
        return f"Cancelled the {what}."
    return undo


def _timer_args(m: re.Match[str]) -> dict[str, Any] | None:
    seconds = parse_duration(m.string)
    return {"seconds": seconds, "label": label_in(m.string)} if seconds else None


@skill(topic="timers and alarms",
       # "time for 12 minutes" is how tiny.en often hears "timer for 12 minutes"
       patterns=[Pattern(re.compile(r"\btimer\b|\bcount ?down\b|^time for (?=\d|an? )",
                                    re.IGNORECASE), _timer_args)],
       examples=["set a timer for an hour", "a quarter of an hour countdown",
                 "set a timer for 10 minutes and 30 seconds",
                 "start a timer for a minute and a half"],
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
    what = f"{duration_adjective(seconds)} {_name(entry)}"
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
       examples=["wake me up at seven", "set an alarm for half past six in the evening"],
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
