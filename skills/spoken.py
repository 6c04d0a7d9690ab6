"""Reading and saying times: durations ("five minutes", "an hour and a half"), clock times
("half past seven", "7:30 pm"), timer labels, and the small phrasing helpers the built-in
skills share. These are also the :class:`~assistant.skills.Slot` parsers of the timer and
reminder skills."""

from __future__ import annotations

import datetime as dt
import re

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
NOT_LABELS = {"a", "an", "the", "my", "this", "that", "new", "one", "hour", "minute", "second",
              "hours", "minutes", "seconds", "min", "mins", "sec", "secs", "me",
              "all", "every", "each", "current", "running", "of", "is", "for", "and",
              "it", "to", "in", "at", "on", "off", *_KIND_WORDS}
# Words that make a short answer a command or a reply rather than a name ("set", "no").
NOT_ANSWERS = {"set", "start", "make", "create", "cancel", "stop", "delete", "remove",
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


def duration_adjective(seconds: int) -> str:
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


def label_in(text: str) -> str | None:
    """The label a command gives a timer ("a pasta timer", "... called tea"), or None."""
    for rx in (r"\b(?:called|named|labell?ed)\s+(?:the\s+)?([a-z]+)",
               r"\b([a-z]+)\s+timer",
               r"\btimer\s+for\s+(?:the|my)\s+([a-z]+)",
               r"\bfor\s+(?:the|my)\s+([a-z]+)$"):
        m = re.search(rx, text, re.IGNORECASE)
        if m and m.group(1).lower() not in NOT_LABELS:
            return m.group(1).lower()
    return None


def parse_label(text: str) -> str | None:
    """A timer's name from a command ("a pasta timer for 10 minutes", "... called tea") or
    from a bare answer to "What should I call it?" ("pasta", "call it the eggs one")."""
    if found := label_in(text):
        return found
    answer = re.sub(r"^(?:no\b,? ?|sorry\b,? ?|actually\b,? ?)*(?:i meant |i said |make it |"
                    r"call it |name it |label it |it's |it is |its )?", "", text.lower().strip())
    words = [w for w in answer.split() if w not in ("the", "my", "a", "an", "one")]
    if 1 <= len(words) <= 2 and all(w.isalpha() and w not in NOT_LABELS
                                    and w not in NOT_ANSWERS for w in words):
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


def full_stop(text: str) -> str:
    """``text`` capitalised, with a full stop."""
    return capital(text) + "."


def join_words(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def say_clock(when: dt.datetime) -> str:
    return f"{when:%-I:%M %p}"
