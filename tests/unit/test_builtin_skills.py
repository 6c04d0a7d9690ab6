"""The built-in skills, called through a registry loaded from the entry point."""

import subprocess
import sys
import time

import pytest

from assistant.skills import SkillContext, SkillRegistry
from skills.maths import evaluate
from skills.spoken import parse_clock, parse_duration, say_duration
from tests.fixtures.skills import wait_for


def call(registry: SkillRegistry, context: SkillContext, name: str, **arguments):
    return registry.call(name, arguments, context)


# ---------------------------------------------------------------- calculate

@pytest.mark.parametrize(("expression", "expected"), [
    ("17*23", "391"), ("2^10", "1024"), ("(1+2)/3", "1"), ("7/2", "3.5"), ("-3+5", "2"),
    ("10%3", "1"), ("2.5*4", "10"), ("1000000*3", "3,000,000"),
])
def test_calculate(builtin_registry, context, expression, expected):
    r = call(builtin_registry, context, "calculate", expression=expression)
    assert r.ok is True, r.result
    assert r.result.endswith(f"is {expected}.")


def test_calculate_divide_by_zero(builtin_registry, context):
    # An answer, not a failure: "You can't divide by zero." is what the user should hear.
    r = call(builtin_registry, context, "calculate", expression="1/0")
    assert r.ok is True
    assert r.result == "You can't divide by zero."


@pytest.mark.parametrize("expression", [
    "__import__('os')", "open('/etc/passwd')", "x+1", "1+", "2**'a'", "[1,2]", "1 if 1 else 2",
])
def test_calculate_rejects_non_arithmetic(builtin_registry, context, expression):
    r = call(builtin_registry, context, "calculate", expression=expression)
    assert r.ok is False
    assert "ValueError" in r.result


def test_calculate_huge_exponent(builtin_registry, context):
    r = call(builtin_registry, context, "calculate", expression="2^99999")
    assert r.ok is False
    assert "too large" in r.result


def test_calculate_nested_huge_power_is_rejected_quickly():
    code = ("from skills.maths import evaluate\n"
            "try:\n    evaluate('((10^999)^999)^999')\n"
            "except ValueError:\n    print('rejected')\n")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=2.0)
    except subprocess.TimeoutExpired:
        pytest.fail("evaluate() was still computing after 2 s")
    assert done.stdout.strip() == "rejected"


def test_evaluate_returns_numbers():
    assert evaluate("17*23") == 391
    assert evaluate("2^10") == 1024
    assert evaluate("3×4÷2") == 6
    with pytest.raises(ValueError):
        evaluate("2^1001")


# ---------------------------------------------------------------- convert_units

@pytest.mark.parametrize(("value", "src", "dst", "expected"), [
    (26.2, "mi", "km", "42.16"),
    (100, "f", "c", "37.78"),
    (0, "c", "k", "273.15"),
    (1, "kg", "lb", "2.2"),
    (60, "mph", "kmh", "96.56"),
    (90, "min", "h", "1.5"),
    (1, "cup", "ml", "236.59"),
    (-40, "celsius", "fahrenheit", "-40"),
])
def test_convert_units(builtin_registry, context, value, src, dst, expected):
    r = call(builtin_registry, context, "convert_units", value=value, from_unit=src, to_unit=dst)
    assert r.ok is True, r.result
    assert f" is {expected} " in r.result


def test_convert_incompatible_units(builtin_registry, context):
    r = call(builtin_registry, context, "convert_units", value=1, from_unit="kg", to_unit="mi")
    assert r.ok is False
    assert "mass" in r.result and "length" in r.result


def test_convert_unknown_unit(builtin_registry, context):
    r = call(builtin_registry, context, "convert_units", value=1, from_unit="furlong",
             to_unit="m")
    assert r.ok is False
    assert "furlong" in r.result


# ---------------------------------------------------------------- timers and alarms

def test_timer_fires_and_is_listed_before(builtin_registry, context, announced):
    r = call(builtin_registry, context, "set_timer", seconds=1, label="Tea")
    assert r.ok is True
    assert r.result == "Tea timer set for 1 second."
    listed = call(builtin_registry, context, "list_timers")
    assert listed.ok and "tea timer" in listed.result.lower()
    assert announced == []
    assert wait_for(lambda: len(announced) == 1, timeout=3.0), "the timer never went off"
    assert announced == ["Your tea timer for 1 second is done."]
    after = call(builtin_registry, context, "list_timers")
    assert after.result == "There are no timers running."


def test_cancel_timer_by_label(builtin_registry, context):
    assert call(builtin_registry, context, "set_timer", seconds=600, label="pasta").ok
    assert call(builtin_registry, context, "set_timer", seconds=900, label="eggs").ok
    listed = call(builtin_registry, context, "list_timers").result.lower()
    assert "pasta timer" in listed and "eggs timer" in listed
    assert listed.index("pasta") < listed.index("eggs")  # soonest first
    r = call(builtin_registry, context, "cancel_timer", label="Pasta")
    assert r.ok and r.result == "Cancelled the pasta timer."
    listed = call(builtin_registry, context, "list_timers").result.lower()
    assert "pasta" not in listed and "eggs timer" in listed
    again = call(builtin_registry, context, "cancel_timer", label="pasta")
    assert again.result == "There is no pasta timer running."


def test_cancel_all_timers_leaves_alarms(builtin_registry, context):
    for label in ("a", "b"):
        assert call(builtin_registry, context, "set_timer", seconds=600, label=label).ok
    assert call(builtin_registry, context, "set_alarm", time="07:30").ok
    r = call(builtin_registry, context, "cancel_timer")
    assert r.result == "Cancelled 2 timers."
    listed = call(builtin_registry, context, "list_timers").result.lower()
    assert "alarm" in listed and "timer" not in listed


def test_timer_rejects_bad_lengths(builtin_registry, context):
    assert call(builtin_registry, context, "set_timer", seconds=0).ok is False
    assert call(builtin_registry, context, "set_timer", seconds=8 * 86400).ok is False
    assert call(builtin_registry, context, "list_timers").result == "There are no timers running."


def test_alarm_bad_time(builtin_registry, context):
    r = call(builtin_registry, context, "set_alarm", time="25:99")
    assert r.ok is False
    assert "25:99" in r.result


def test_alarm_valid(builtin_registry, context):
    r = call(builtin_registry, context, "set_alarm", time="07:30", label="gym")
    assert r.ok is True
    assert r.result.startswith("Gym alarm set for 7:30 AM")
    assert r.result.endswith(("today.", "tomorrow."))
    listed = call(builtin_registry, context, "list_timers").result.lower()
    assert "gym alarm" in listed


def test_time_and_date(builtin_registry, context):
    t = call(builtin_registry, context, "get_time")
    assert t.ok and t.result.startswith("It's ") and t.result.endswith(("AM.", "PM."))
    d = call(builtin_registry, context, "get_date")
    assert d.ok and d.result.startswith("Today is ")
    assert str(time.localtime().tm_year) in d.result


@pytest.mark.parametrize(("text", "seconds"), [
    ("5 minutes and 30 seconds", 330),
    ("half an hour", 1800),
    ("1.5 hour", 5400),
    ("a quarter of an hour", 900),
    ("an hour", 3600),
    ("a minute", 60),
    ("90 min", 5400),
    ("10 secs", 10),
    ("2 hours 15 minutes", 8100),
    ("set a timer for 45 seconds", 45),
    ("2.5 minutes", 150),
    ("set a timer", None),
    ("0 seconds", None),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "clock"), [
    ("quarter to 7", "06:45"),
    ("half past 6", "06:30"),
    ("10 past 6 in the evening", "18:10"),
    ("7 30 pm", "19:30"),
    ("7:30 am", "07:30"),
    ("at 7", "07:00"),
    ("wake me at 6 o'clock", "06:00"),
    ("noon", "12:00"),
    ("midnight", "00:00"),
    ("12 am", "00:00"),
    ("12 pm", "12:00"),
    ("12 30 am", "00:30"),
    ("at 9 tonight", "21:00"),
    ("quarter to 1 am", "00:45"),
    ("at 25", None),
    ("at 7 75", None),
    ("set an alarm", None),
])
def test_parse_clock(text, clock):
    assert parse_clock(text) == clock


@pytest.mark.parametrize(("text", "clock"), [
    ("quarter to midnight", "23:45"),
    ("half past noon", "12:30"),
])
def test_parse_clock_relative_to_noon_and_midnight(text, clock):
    assert parse_clock(text) == clock


def test_say_duration():
    assert say_duration(330) == "5 minutes and 30 seconds"
    assert say_duration(3601) == "1 hour and 1 second"
    assert say_duration(0) == "0 seconds"


# ---------------------------------------------------------------- system

def test_system_status_mentions_cpu_and_memory(builtin_registry, context):
    r = call(builtin_registry, context, "system_status")
    assert r.ok is True
    text = r.result.lower()
    assert "cpu" in text and "percent" in text
    assert "memory" in text and "gigabytes" in text
    assert "disk" in text


def test_system_status_keeps_cpu_acronym(builtin_registry, context):
    r = call(builtin_registry, context, "system_status")
    assert r.result.startswith("CPU at ")


def test_stop_calls_context_stop(builtin_registry, context):
    assert context.stops == []
    r = call(builtin_registry, context, "stop")
    assert r.ok is True and r.result == ""
    assert context.stops == [True]
