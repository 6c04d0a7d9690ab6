"""skills.clock with skills.schedule and skills.spoken: timers and alarms that survive a
restart, undo, slots and labels."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant import fastpath
from assistant.skills import SkillContext, SkillRegistry
from skills.jsonfile import JsonFile
from skills.schedule import Schedule
from skills.spoken import clean_label, clock_time, parse_clock, parse_duration, parse_label
from tests.fixtures.skills import Said, SaidIn, call, close_schedules, in_room, wait_for


def test_starters_are_exported(builtin_registry: SkillRegistry) -> None:
    names = [s.__name__ for s in builtin_registry.starters]
    assert names == ["restore_timers", "restore_reminders"]


# ---------------------------------------------------------------- persistence


def test_timers_and_alarms_survive_a_restart(builtin_registry, context, restart) -> None:
    call(builtin_registry, context, "set_timer", seconds=600, label="pasta")
    call(builtin_registry, context, "set_alarm", time="07:30", label="gym")
    saved = json.loads((context.data_dir / "timers.json").read_text())
    assert sorted(e["kind"] for e in saved["entries"]) == ["alarm", "timer"]
    assert list(context.data_dir.glob("*.tmp")) == []  # written through a temp file

    again = restart(context)
    assert again.announce == []  # nothing fell due
    listed = call(builtin_registry, again, "list_timers").result.lower()
    assert "the pasta timer has 9 minutes" in listed or "the pasta timer has 10 minutes" in listed
    assert "gym alarm" in listed


def test_a_restored_timer_fires_once(builtin_registry, context, restart) -> None:
    call(builtin_registry, context, "set_timer", seconds=1, label="tea")
    again = restart(context)  # the old process's thread is gone; the new one re-armed it
    assert wait_for(lambda: len(again.announce) == 1), "the restored timer never went off"
    time.sleep(0.2)
    assert again.announce == ["Your tea timer for 1 second is done."]
    assert context.announce == []
    assert json.loads((context.data_dir / "timers.json").read_text())["entries"] == []


def _age(data_dir: Path, kind: str, seconds_ago: float = 60.0) -> None:
    """Make the saved ``kind`` entries due ``seconds_ago``, as if the assistant had been off."""
    path = data_dir / "timers.json"
    document = json.loads(path.read_text())
    for entry in document["entries"]:
        if entry["kind"] == kind:
            entry["due"] = time.time() - seconds_ago
    path.write_text(json.dumps(document))


def test_what_fell_due_while_off_is_said_once_at_start(builtin_registry, context,
                                                       restart) -> None:
    call(builtin_registry, context, "set_timer", seconds=300, label="pasta")
    call(builtin_registry, context, "set_alarm", time="07:30")
    call(builtin_registry, context, "set_timer", seconds=900, label="eggs")
    close_schedules(context)
    _age(context.data_dir, "alarm", 30)
    path = context.data_dir / "timers.json"
    document = json.loads(path.read_text())
    for entry in document["entries"]:
        if entry.get("label") == "pasta":
            entry["due"] = time.time() - 60
    path.write_text(json.dumps(document))

    again = restart(context)
    assert again.announce == ["While I was off, your pasta timer for 5 minutes finished "
                              "and your 7:30 AM alarm went off."]
    assert "eggs timer" in call(builtin_registry, again, "list_timers").result
    third = restart(again)
    assert third.announce == []  # said once, then removed
    assert [e["label"] for e in json.loads(path.read_text())["entries"]] == ["eggs"]


def test_missed_entries_wait_for_a_start(builtin_registry, context, restart) -> None:
    """A host that calls a skill before the start hooks loses nothing."""
    call(builtin_registry, context, "set_timer", seconds=300, label="pasta")
    close_schedules(context)
    _age(context.data_dir, "timer")
    early = SkillContext(data_dir=context.data_dir, announce=Said())
    assert call(builtin_registry, early, "list_timers").result == "There are no timers running."
    close_schedules(early)
    again = restart(early)
    assert again.announce == ["While I was off, your pasta timer for 5 minutes finished."]


def test_a_damaged_file_is_kept_aside_and_reported(builtin_registry, context,
                                                   restart) -> None:
    context.data_dir.mkdir(parents=True)
    (context.data_dir / "timers.json").write_text("{not json")
    again = restart(context)
    assert again.announce == ["Timers.json was damaged; I kept it as timers.json.corrupt."]
    assert (context.data_dir / "timers.json.corrupt").read_text() == "{not json"
    call(builtin_registry, again, "set_timer", seconds=60)
    assert len(json.loads((context.data_dir / "timers.json").read_text())["entries"]) == 1


def test_unusable_entries_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(json.dumps({"version": 1, "entries": [
        {"kind": "timer"}, "junk", {"id": "x", "kind": "timer", "due": "soon"},
        {"id": "ok", "kind": "timer", "due": time.time() + 600, "seconds": 600}]}))
    schedule = Schedule(tmp_path / "t.json", Said(), lambda e: "done")
    try:
        assert [e.id for e in schedule.active()] == ["ok"]
    finally:
        schedule.close()


def test_a_full_disk_keeps_the_timer_running(builtin_registry, context, monkeypatch) -> None:
    monkeypatch.setattr(JsonFile, "save", lambda self, doc: setattr(
        self, "error", "I couldn't save timers.json: No space left on device") or False)
    r = call(builtin_registry, context, "set_timer", seconds=60)
    assert r.result == ("Timer set for 1 minute. (I couldn't save timers.json: No space left "
                        "on device, so it won't survive a restart.)")
    assert "timer has" in call(builtin_registry, context, "list_timers").result


# ---------------------------------------------------------------- undo


def test_undo_cancels_exactly_the_timer_that_call_set(builtin_registry, context,
                                                      restart) -> None:
    first = call(builtin_registry, context, "set_timer", seconds=300, label="pasta")
    call(builtin_registry, context, "set_timer", seconds=600, label="pasta")
    assert first.undo is not None
    assert first.undo() == "Cancelled the 5 minute pasta timer."
    listed = call(builtin_registry, context, "list_timers").result
    assert listed.count("pasta timer") == 1
    assert "has 9 minutes" in listed or "has 10 minutes" in listed  # the 10 minute one
    assert first.undo() == "The 5 minute pasta timer is no longer running."
    again = restart(context)
    assert call(builtin_registry, again, "list_timers").result.count("pasta timer") == 1


def test_undo_of_an_unlabelled_timer_and_an_alarm(builtin_registry, context) -> None:
    timer = call(builtin_registry, context, "set_timer", seconds=330)
    assert timer.result == "Timer set for 5 minutes and 30 seconds."
    assert timer.undo() == "Cancelled the 5 minute 30 second timer."
    alarm = call(builtin_registry, context, "set_alarm", time="07:30", label="gym")
    assert alarm.undo() == "Cancelled the 7:30 AM gym alarm."
    assert call(builtin_registry, context, "list_timers").result == "There are no timers running."


def test_cancel_can_be_undone(builtin_registry, context) -> None:
    call(builtin_registry, context, "set_timer", seconds=600, label="pasta")
    cancelled = call(builtin_registry, context, "cancel_timer", label="pasta")
    assert cancelled.result == "Cancelled the pasta timer."
    assert cancelled.undo() == "Okay, the pasta timer is back on."
    assert "pasta timer" in call(builtin_registry, context, "list_timers").result


def test_cancel_alarm(builtin_registry, context) -> None:
    call(builtin_registry, context, "set_alarm", time="07:30", label="gym")
    call(builtin_registry, context, "set_timer", seconds=600)
    m = fastpath.match(builtin_registry, "cancel my gym alarm")
    assert m is not None and (m.skill.name, m.arguments) == ("cancel_alarm", {"label": "gym"})
    assert call(builtin_registry, context, "cancel_alarm", label="gym").result == \
        "Cancelled the gym alarm."
    assert call(builtin_registry, context, "cancel_alarm").result == "There is no alarm set."
    assert "timer has" in call(builtin_registry, context, "list_timers").result


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(("label", "said"), [
    ("timer", "Timer set for 1 minute."),
    ("Pasta Timer", "Pasta timer set for 1 minute."),
    ("the eggs timer", "Eggs timer set for 1 minute."),
    ("alarm", "Timer set for 1 minute."),
    (None, "Timer set for 1 minute."),
])
def test_a_kind_word_is_never_a_label(builtin_registry, context, label, said) -> None:
    assert call(builtin_registry, context, "set_timer", seconds=60, label=label).result == said


def test_the_announcement_says_the_label_once(builtin_registry, context) -> None:
    call(builtin_registry, context, "set_timer", seconds=1, label="pasta timer")
    assert wait_for(lambda: len(context.announce) == 1)
    assert context.announce == ["Your pasta timer for 1 second is done."]


@pytest.mark.parametrize(("label", "clean"), [
    ("pasta", "pasta"), ("Pasta Timer", "pasta"), ("timer", None), ("my tea timer", "tea"),
    ("", None), (None, None), ("reminder", None), ("boiled eggs", "boiled eggs"),
])
def test_clean_label(label, clean) -> None:
    assert clean_label(label) == clean


@pytest.mark.parametrize(("text", "label"), [
    ("set a pasta timer for 10 minutes", "pasta"),
    ("timer for 5 minutes called tea", "tea"),
    ("set a timer for 10 minutes", None),
    ("set a timer timer for 5 minutes", None),
    ("pasta", "pasta"),
    ("call it pasta", "pasta"),
    ("the eggs one", "eggs"),
    ("no i meant 10 minutes", None),
    ("no", None),
    ("set a timer", None),
])
def test_parse_label(text, label) -> None:
    assert parse_label(text) == label


# ---------------------------------------------------------------- slots


def test_slots_are_declared(builtin_registry) -> None:
    timer = builtin_registry.skills["set_timer"].slots
    assert set(timer) == {"seconds", "label"}
    assert timer["seconds"].ask == "A timer for how long?"
    assert timer["label"].ask == "What should I call it?"
    alarm = builtin_registry.skills["set_alarm"].slots
    assert set(alarm) == {"time"} and alarm["time"].ask == "An alarm for what time?"


@pytest.mark.parametrize(("text", "seconds"), [
    ("10 minutes", 600), ("no i meant 10 minutes", 600), ("make it half an hour", 1800),
    ("set a timer for 1.5 hour", 5400), ("pasta", None),
])
def test_duration_slot_reads_answers_and_corrections(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "clock"), [
    ("7 30 pm", "19:30"), ("7", "07:00"), ("7 30", "07:30"), ("no i meant 8", "08:00"),
    ("make it 6 am", "06:00"), ("half 7", "07:30"), ("half past 7", "07:30"),
    ("set an alarm for 10 minutes", None), ("for 10 minutes", None), ("pasta", None),
    ("06:00", "06:00"), ("book a table for 4 at 7 pm", "19:00"),
])
def test_clock_slot_reads_answers_and_corrections(text, clock) -> None:
    assert parse_clock(text) == clock


def test_slot_values_match_the_fast_path(builtin_registry) -> None:
    """What the slots read from a command is what the pattern extracts from it."""
    for text in ("set a pasta timer for 10 minutes", "wake me up at half past 6",
                 "set an alarm for 7 30 pm"):
        m = fastpath.match(builtin_registry, text)
        assert m is not None
        for name, slot in m.skill.slots.items():
            assert slot.parse(m.normalised) == m.arguments.get(name), (text, name)


def test_a_closed_schedule_never_overwrites_a_newer_one(builtin_registry, context,
                                                        restart) -> None:
    call(builtin_registry, context, "set_timer", seconds=600, label="pasta")
    again = restart(context)
    call(builtin_registry, again, "set_timer", seconds=900, label="eggs")
    context.services["timers"].cancel(None, "timer")  # the old process, after its end
    saved = json.loads((context.data_dir / "timers.json").read_text())["entries"]
    assert sorted(e["label"] for e in saved) == ["eggs", "pasta"]


# ---------------------------------------------------------------- rooms


def test_each_room_hears_its_own_timer(builtin_registry, hub) -> None:
    kitchen, hall = in_room(hub, "kitchen"), in_room(hub, "hall")
    call(builtin_registry, kitchen, "set_timer", seconds=1, label="pasta")
    call(builtin_registry, hall, "set_timer", seconds=1, label="tea")
    assert wait_for(lambda: len(hub.announce_in) == 2), hub.announce_in
    assert sorted(hub.announce_in) == [("hall", "Your tea timer for 1 second is done."),
                                       ("kitchen", "Your pasta timer for 1 second is done.")]
    assert hub.announce == []


def test_the_devices_own_timer_is_said_on_the_device(builtin_registry, hub) -> None:
    call(builtin_registry, hub, "set_timer", seconds=1, label="eggs")
    assert wait_for(lambda: len(hub.announce) == 1)
    assert hub.announce == ["Your eggs timer for 1 second is done."]
    assert hub.announce_in == []


def test_without_announce_in_a_rooms_timer_is_said_as_before(builtin_registry,
                                                             context) -> None:
    call(builtin_registry, context, "list_timers")  # the device makes the schedule
    kitchen = SkillContext(data_dir=context.data_dir, announce=Said(),
                           services=context.services, room="kitchen")
    call(builtin_registry, kitchen, "set_timer", seconds=1, label="pasta")
    assert wait_for(lambda: len(context.announce) == 1)
    assert context.announce == ["Your pasta timer for 1 second is done."]  # the schedule's
    assert kitchen.announce == []


def test_a_room_lists_and_cancels_its_own_first(builtin_registry, hub) -> None:
    kitchen, hall = in_room(hub, "kitchen"), in_room(hub, "hall")
    call(builtin_registry, kitchen, "set_timer", seconds=600, label="pasta")
    call(builtin_registry, hall, "set_timer", seconds=900, label="pasta")
    call(builtin_registry, hub, "set_timer", seconds=1200, label="eggs")
    listed = call(builtin_registry, kitchen, "list_timers").result
    assert listed.count("pasta timer") == 1 and "eggs timer" in listed  # not the hall's
    assert "has 9 minutes" in listed or "has 10 minutes" in listed
    assert call(builtin_registry, hub, "list_timers").result.count("pasta timer") == 2

    # "cancel the pasta timer" / "cancel the timer" in the kitchen: the kitchen's only
    cancelled = call(builtin_registry, kitchen, "cancel_timer", label="pasta")
    assert cancelled.result == "Cancelled the pasta timer."
    assert call(builtin_registry, kitchen, "cancel_timer", label="pasta").result == \
        "There is no pasta timer running."  # the hall's is not the kitchen's to cancel
    assert "pasta timer" in call(builtin_registry, hall, "list_timers").result
    assert cancelled.undo() == "Okay, the pasta timer is back on."
    assert call(builtin_registry, kitchen, "cancel_timer").result == "Cancelled the timer."
    # with none of its own left, the device's timer is the one a room can cancel
    assert call(builtin_registry, kitchen, "cancel_timer").result == "Cancelled the timer."
    assert call(builtin_registry, hub, "list_timers").result.startswith(
        "The pasta timer has 1")  # the hall's alone is left (14 or 15 minutes)


def test_a_room_cancels_its_own_alarm(builtin_registry, hub) -> None:
    kitchen, hall = in_room(hub, "kitchen"), in_room(hub, "hall")
    call(builtin_registry, hall, "set_alarm", time="07:30")
    assert call(builtin_registry, kitchen, "cancel_alarm").result == "There is no alarm set."
    assert call(builtin_registry, hall, "cancel_alarm").result == "Cancelled the alarm."


def test_a_restart_keeps_the_room(builtin_registry, hub, restart) -> None:
    call(builtin_registry, in_room(hub, "kitchen"), "set_timer", seconds=600, label="pasta")
    call(builtin_registry, in_room(hub, "hall"), "set_timer", seconds=2, label="tea")
    saved = json.loads((hub.data_dir / "timers.json").read_text())["entries"]
    assert {e["label"]: e["room"] for e in saved} == {"pasta": "kitchen", "tea": "hall"}

    again = restart(hub, announce_in=SaidIn())
    assert again.announce == [] and again.announce_in == []
    assert "pasta timer" in call(builtin_registry, in_room(again, "kitchen"), "list_timers").result
    assert "pasta timer" not in call(builtin_registry, in_room(again, "hall"),
                                     "list_timers").result
    assert wait_for(lambda: len(again.announce_in) == 1), "the restored timer never went off"
    assert again.announce_in == [("hall", "Your tea timer for 2 seconds is done.")]


def test_what_fell_due_while_off_is_said_in_each_room(builtin_registry, hub,
                                                      restart) -> None:
    call(builtin_registry, in_room(hub, "kitchen"), "set_timer", seconds=300, label="pasta")
    call(builtin_registry, in_room(hub, "hall"), "set_alarm", time="07:30")
    call(builtin_registry, hub, "set_timer", seconds=600, label="eggs")
    close_schedules(hub)
    _age(hub.data_dir, "timer")
    _age(hub.data_dir, "alarm")

    again = restart(hub, announce_in=SaidIn())
    assert again.announce_in == [
        ("kitchen", "While I was off, your pasta timer for 5 minutes finished."),
        ("hall", "While I was off, your 7:30 AM alarm went off."),
    ]
    assert again.announce == ["While I was off, your eggs timer for 10 minutes finished."]


def test_missed_entries_of_rooms_on_a_host_without_rooms(builtin_registry, hub,
                                                        restart) -> None:
    """A data folder from a hub, opened by a plain assistant: one sentence, as before."""
    call(builtin_registry, in_room(hub, "kitchen"), "set_timer", seconds=300, label="pasta")
    call(builtin_registry, in_room(hub, "hall"), "set_timer", seconds=600, label="tea")
    close_schedules(hub)
    _age(hub.data_dir, "timer")
    assert restart(hub).announce == ["While I was off, your pasta timer for 5 minutes "
                                     "finished and your tea timer for 10 minutes finished."]


def test_a_file_without_rooms_still_loads(builtin_registry, hub, restart) -> None:
    """Entries saved before there were rooms belong to the device: every room sees them,
    and they are said on the device."""
    close_schedules(hub)
    now = time.time()
    hub.data_dir.mkdir(parents=True, exist_ok=True)
    (hub.data_dir / "timers.json").write_text(json.dumps({"version": 1, "entries": [
        {"id": "old1", "kind": "timer", "due": now + 1, "label": "tea", "seconds": 1,
         "created": now - 599},
        {"id": "old2", "kind": "timer", "due": now + 600, "label": "pasta", "seconds": 900,
         "created": now - 300},
        {"id": "old3", "kind": "timer", "due": now - 60, "label": "eggs", "seconds": 300,
         "created": now - 360},
    ]}))
    again = restart(hub, announce_in=SaidIn())
    assert again.announce == ["While I was off, your eggs timer for 5 minutes finished."]
    assert "pasta timer" in call(builtin_registry, in_room(again, "kitchen"),
                                 "list_timers").result
    assert wait_for(lambda: len(again.announce) == 2)
    assert again.announce[1] == "Your tea timer for 1 second is done."
    assert again.announce_in == []
    saved = json.loads((hub.data_dir / "timers.json").read_text())["entries"]
    assert [e["id"] for e in saved] == ["old2"] and "room" not in saved[0]  # as it was


@pytest.mark.parametrize(("phrase", "expected"), [
    ("at 10 to 6", (5, 50)), ("at quarter past 4", (4, 15)), ("at 8 minutes to 9", (8, 52)),
    ("at 25 past 7 pm", (19, 25)), ("at 8 to 9", None), ("at 7 past 3", None),
])
def test_minutes_past_or_to_an_hour_only_as_a_clock_says_them(phrase, expected) -> None:
    # "remind me ... at eight tonight" heard as "at 8 to 9" was set for 8:52
    got = clock_time(phrase)
    assert (got[:2] if got else None) == expected
