"""Reminders: "remind me to call mum at 6 pm", "in 20 minutes remind me to check the oven".

Owns ``set_reminder``, ``list_reminders``, ``cancel_reminder``, the ``restore_reminders``
start hook, and the parsers that split a reminder command into what and when (also the
:class:`~assistant.skills.Slot` parsers of ``set_reminder``).

A reminder is an entry of a :class:`skills.schedule.Schedule` (the one timers run on), kept in
``<data>/reminders.json``: it fires on a background thread as "Reminder: call mum.", and one
that fell due while the assistant was off is said once at start. Like a timer, it is said in
the room it was set from, and a room lists and cancels its own and the device's reminders.

"remind me about X" / "remind me of X" is not a reminder but a question about what the user
told the assistant: that is ``recall`` (:mod:`skills.memory`), tried first.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from assistant.memory.facts import second_person
from assistant.skills import Pattern, SkillContext, Slot, Undoable, on_start, skill
from skills.schedule import Entry, Schedule, announce_missed, now_for, schedule_for
from skills.spoken import (
    DURATION_RX,
    capital,
    clock_time,
    join_words,
    parse_duration,
    say_clock,
    say_duration,
)

MAX_AHEAD_S = 7 * 86400
"""The furthest ahead a reminder may be set (the same bound as a timer)."""

# ---------------------------------------------------------------- what and when

_CLOCK = (r"(?:(?:quarter|half|\d{1,2})(?: minutes?)? (?:past|after|to) \d{1,2}|half \d{1,2}"
          r"|\d{1,2}(?:[: ]\d{2})?(?: ?(?:am|pm|o'clock))?|noon|midday|midnight)"
          r"(?: (?:in the (?:morning|afternoon|evening)|at night|tonight|"
          r"this (?:morning|afternoon|evening)))?")
_DAY = r"(?:tomorrow|today|tonight)(?: (?:morning|afternoon|evening|night))?"
_AT = rf"(?:{_DAY} )?(?:at|by) {_CLOCK}(?: {_DAY})?"
_DELAY = rf"(?:in {DURATION_RX}|{DURATION_RX} from now|after {DURATION_RX})"
_WHEN = rf"(?:{_AT}|{_DELAY})"
_TRIGGER = (r"(?:remind me|(?:set|create|add|make) (?:me )?(?:a |an )?(?:new )?reminder|"
            r"(?:a |new )?reminder)")

_COMMAND = re.compile(rf"^(?:(?P<lead>{_WHEN}),? )?(?:please )?{_TRIGGER}\b,? ?(?P<rest>.*)$",
                      re.IGNORECASE)
_FRONT = re.compile(rf"^(?:for )?(?P<when>{_WHEN}|{_CLOCK}|{DURATION_RX})(?= to\b| that\b|,|$)"
                    r",? ?(?P<rest>.*)$", re.IGNORECASE)
_FRONT_DAY = re.compile(r"^(?:for |on )?(?P<day>tomorrow|tonight)\b,? ?(?P<rest>.*)$",
                        re.IGNORECASE)
_TAIL = re.compile(rf"^(?P<what>.+?),? (?P<when>{_WHEN})$", re.IGNORECASE)
_INTRO = re.compile(r"^(?:to|that|about|of)\b\s*", re.IGNORECASE)
_ONLY_WHEN = re.compile(rf"^(?:{_WHEN}|{_CLOCK}|{DURATION_RX}|{_DAY})$", re.IGNORECASE)


def _clean_what(text: str) -> str | None:
    what = _INTRO.sub("", text.strip(" ,.")).strip(" ,.")
    return what or None


def split_reminder(text: str) -> tuple[str | None, str | None]:
    """(what, when) of a normalised reminder command, each None when it is not there:
    'remind me to call mum at 6 pm' → ('call mum', 'at 6 pm'); 'in 20 minutes remind me to
    check the oven' → ('check the oven', 'in 20 minutes'); 'remind me at 7 to take the bins
    out'; 'remind me tomorrow at 9 am to ...'. Not a reminder command: (None, None)."""
    m = _COMMAND.match(text.strip())
    if m is None:
        return None, None
    when, rest = m.group("lead"), m.group("rest").strip()
    day = None
    if when is None and (d := _FRONT_DAY.match(rest)):
        day, rest = d.group("day").lower(), d.group("rest")
    if when is None and (f := _FRONT.match(rest)):
        when, rest = f.group("when"), f.group("rest")
    # What to be reminded of comes after "to" or "that": "remind me in well-hower with a
    # timer" is a misheard time, not a reminder "in well-hower with a timer".
    introduced = _INTRO.match(rest) is not None
    rest = _INTRO.sub("", rest)
    if when is None and (t := _TAIL.match(rest)):
        rest, when = t.group("what"), t.group("when")
    if day and when and not re.search(r"\b(?:tomorrow|tonight)\b", when, re.IGNORECASE):
        when = f"{day} {when}"
    return _clean_what(rest) if introduced else None, when


def _next(hour: int, minute: int, now: dt.datetime) -> dt.datetime:
    """The next time the clock shows hour:minute."""
    due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due if due > now else due + dt.timedelta(days=1)


def parse_when(text: str, now: dt.datetime | None = None) -> str | None:
    """When a reminder is due, in a canonical form: "18:00" (the next 6 pm), "tomorrow
    09:00", or "in 1200 seconds"; None when the text says no time. Reads a whole command
    ('remind me to call mum at 6') or a bare answer ('at 6 pm', '20 minutes', 'no i meant
    7'). An hour without am/pm is the sooner of the two: 'at 6' said at 3 pm is 18:00."""
    if re.search(rf"^(?:(?:{_WHEN}),? )?(?:please )?{_TRIGGER}\b", text, re.IGNORECASE):
        text = split_reminder(text)[1] or ""  # the time phrase only, not "buy 2 eggs"
    t = text.lower()
    if (m := re.search(rf"\b{_DELAY}", t)) and (seconds := parse_duration(m.group(0))):
        return f"in {seconds} seconds"
    # "no i meant 10 minutes" corrects a delay; only "at", am/pm or "7:30" make it a clock.
    if (seconds := parse_duration(t)) and not re.search(
            r"\b(?:at|by|am|pm|o'clock|noon|midday|midnight)\b|\d:\d", t):
        return f"in {seconds} seconds"
    if found := clock_time(t):
        hour, minute, explicit = found
        if re.search(r"\btomorrow\b", t):
            return f"tomorrow {hour:02d}:{minute:02d}"
        if not explicit and 1 <= hour <= 12:
            now = now or dt.datetime.now()
            hour = min((hour % 12, hour % 12 + 12), key=lambda h: _next(h, minute, now))
        return f"{hour:02d}:{minute:02d}"
    return None


def parse_what(text: str) -> str | None:
    """What to be reminded of, from a command ('remind me to call mum at 6' → 'call mum')
    or a bare answer to "What should I remind you about?" ('to call mum', 'no i meant call
    dad'); None for an answer that is only a time ('no i meant 10 minutes')."""
    if re.search(rf"^(?:(?:{_WHEN}),? )?(?:please )?{_TRIGGER}\b", text, re.IGNORECASE):
        return split_reminder(text)[0]
    answer = re.sub(r"^(?:no\b,? ?|sorry\b,? ?|actually\b,? ?)*(?:i meant |i said |make it )?",
                    "", text.strip(), flags=re.IGNORECASE)
    if (t := _TAIL.match(answer)) and not _ONLY_WHEN.match(answer):
        answer = t.group("what")  # "call dad at 7": the time is the other slot's
    what = _clean_what(answer)
    if what is None or _ONLY_WHEN.match(what) or what.lower() in ("yes", "no", "okay", "ok"):
        return None
    return what


def _resolve(canonical: str, now: dt.datetime) -> dt.datetime:
    if m := re.fullmatch(r"in (\d+) seconds", canonical):
        return now + dt.timedelta(seconds=int(m.group(1)))
    m = re.fullmatch(r"(tomorrow )?(\d\d):(\d\d)", canonical)
    assert m is not None, canonical  # parse_when says only these
    hour, minute = int(m.group(2)), int(m.group(3))
    if m.group(1):
        day = now.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(hour, minute))
    return _next(hour, minute, now)


def _say_when(due: dt.datetime, now: dt.datetime) -> str:
    """'in 20 minutes', 'at 6:00 PM today', 'tomorrow at 9:00 AM', 'on Friday at 9:00 AM'."""
    ahead = (due - now).total_seconds()
    if ahead < 3600:
        # Whole minutes once there are a few: "in 19 minutes", not "... and 58 seconds".
        seconds = round(ahead / 60) * 60 if ahead >= 120 else max(1, round(ahead))
        return f"in {say_duration(seconds)}"
    if due.date() == now.date():
        return f"at {say_clock(due)} today"
    if due.date() == now.date() + dt.timedelta(days=1):
        return f"tomorrow at {say_clock(due)}"
    return f"on {due:%A} at {say_clock(due)}"


def _said(entry: Entry) -> str:
    """The reminder's words back to the user: 'call my mum' → 'call your mum'."""
    return second_person(entry.text or "")


def _done(entry: Entry) -> str:
    return f"Reminder: {_said(entry)}."


def _service(ctx: SkillContext) -> Schedule:
    return schedule_for(ctx, "reminders", "reminders.json", _done)


def _while_off(missed: list[Entry]) -> str:
    """What to say at start about the reminders that fell due while the assistant was off."""
    if len(missed) == 1:
        return f"While I was off, a reminder was due: {_said(missed[0])}."
    return (f"While I was off, {len(missed)} reminders were due: "
            f"{'; '.join(_said(e) for e in missed)}.")


@on_start
def restore_reminders(ctx: SkillContext) -> None:
    """Re-arm the reminders still to come; say once those that fell due while the
    assistant was off."""
    schedule = _service(ctx)
    announce_missed(ctx, schedule.take_missed(), _while_off)
    if schedule.error:
        ctx.announce(capital(schedule.error) + ".")


# ---------------------------------------------------------------- skills


def _reminder_args(m: re.Match[str]) -> dict[str, Any] | None:
    what, when = split_reminder(m.string)
    canonical = parse_when(when) if when else None
    # No time said: no fast-path match, so the turn asks "When should I remind you?".
    if what is None or canonical is None:
        return None
    return {"text": what, "when": canonical}


# The pattern also says when a command is a reminder lacking its time or text (the turn then
# asks for it): a trigger followed by "to"/"that", by a time alone, or by nothing. "Remind me
# in well-hower with a timer" is neither: a misheard timer, left to set_timer's question.
_REMINDER = re.compile(rf"\b{_TRIGGER}\b(?=.*\b(?:to|that)\b|,? (?:for |on )?(?:{_WHEN}|{_DAY}|"
                       rf"{_CLOCK}|{DURATION_RX})$|$)", re.IGNORECASE)


@skill(topic="reminders",
       patterns=[Pattern(_REMINDER, _reminder_args)],
       examples=["remind me to call mum at 6 pm", "in 20 minutes remind me to stir the soup"],
       slots={"text": Slot(parse_what, "What should I remind you about?"),
              "when": Slot(parse_when, "When should I remind you?")})
def set_reminder(ctx: SkillContext, text: str, when: str) -> Undoable:
    """Remind the user of something later, at a given hour or after a delay.

    Args:
        text: What to be reminded of, e.g. "call mum".
        when: "18:00", "tomorrow 09:00" or "in 1200 seconds".
    """
    what = _clean_what(text)
    if what is None:
        raise ValueError("there was nothing to remind you about")
    canonical = parse_when(when)
    if canonical is None:
        raise ValueError(f"I can't tell when '{when}' is; say a time like 6 pm, "
                         "or a delay like in 20 minutes")
    now = now_for(ctx)
    due = _resolve(canonical, now)
    if not 0 < (due - now).total_seconds() <= MAX_AHEAD_S:
        raise ValueError("a reminder must be between 1 second and 7 days away")
    schedule = _service(ctx)
    entry, saved = schedule.add("reminder", due.timestamp(), text=what, room=ctx.room)
    said = f"{_say_when(due, now)}: {_said(entry)}"
    note = "" if saved else f" ({schedule.error}, so it won't survive a restart.)"

    def undo() -> str:
        if schedule.discard(entry.id) is None:
            return f"That reminder has already gone off: {_said(entry)}."
        return f"Cancelled the reminder {said}."

    return Undoable(f"Okay, I'll remind you {said}.{note}", undo)


@skill(topic="reminders",
       read_only=True,
       patterns=[r"\b(?:what|which|any|list|show|read|tell me|check|how many)\b.*\breminders?\b",
                 r"^(?:my )?reminders$"])
def list_reminders(ctx: SkillContext) -> str:
    """List the reminders that are set."""
    active = _service(ctx).active(("reminder",), ctx.room)  # a room's and the device's
    if not active:
        return "You have no reminders."
    now = now_for(ctx)
    parts = [f"{_said(e)} {_say_when(dt.datetime.fromtimestamp(e.due), now)}" for e in active]
    if len(parts) == 1:
        return f"You have one reminder: {parts[0]}."
    return f"You have {len(parts)} reminders: {'; '.join(parts)}."


_CANCEL_WORDS = {"reminder", "reminders", "the", "my", "a", "an", "all", "every", "to", "about",
                 "for", "of", "that", "me", "remind", "one", "ones", "please"}


def _words(text: str) -> set[str]:
    """Content words with a plural 's' dropped, to match 'the oven' with 'check the ovens'."""
    found = re.findall(r"[a-z0-9']+", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in found} - _CANCEL_WORDS


def _cancel_args(m: re.Match[str]) -> dict[str, Any]:
    after = re.search(r"\breminders?\b(?P<words>.*)$", m.string, re.IGNORECASE)
    before = re.search(r"\b(?:the|my) (?P<words>.+?) reminders?\b", m.string, re.IGNORECASE)
    words = " ".join(part.group("words").strip() for part in (before, after) if part)
    words = re.sub(r"^(?:to|about|for|of|that)\s+", "", words.strip(), flags=re.IGNORECASE)
    return {"words": words if _words(words) else None}


@skill(topic="reminders",
       patterns=[Pattern(re.compile(
    r"\b(?:cancel|delete|remove|clear|forget|drop|get rid of|turn off|stop)\b.*\breminders?\b",
    re.IGNORECASE), _cancel_args)])
def cancel_reminder(ctx: SkillContext, words: str | None = None) -> str | Undoable:
    """Cancel reminders: those whose text has these words, or all of them.

    Args:
        words: Words of the reminder to cancel, e.g. "call mum"; empty cancels all.
    """
    wanted = _words(words or "")
    schedule = _service(ctx)
    cancelled = schedule.cancel(None, "reminder",
                                where=lambda e: wanted <= _words(e.text or ""), room=ctx.room)
    if not cancelled:
        if wanted:
            return f"You have no reminder about {second_person(words or '')}."
        return "You have no reminders."
    said = join_words([_said(e) for e in cancelled])
    text = (f"Cancelled the reminder: {said}." if len(cancelled) == 1
            else f"Cancelled {len(cancelled)} reminders: {said}.")

    def undo() -> str:
        back = schedule.restore(cancelled)
        if not back:
            return "Too late: that time has passed."
        return f"Okay, {'that reminder is' if len(back) == 1 else 'those reminders are'} back."

    return Undoable(text, undo)
