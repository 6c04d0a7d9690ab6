"""assistant.fastpath: speech normalisation and LLM-free command matching."""

import json
from pathlib import Path

import pytest

from assistant import fastpath
from assistant.fastpath import normalise

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(("spoken", "expected"), [
    ("what's seventeen times twenty three", "what's 17 times 23"),
    ("set a timer for thirty seconds", "set a timer for 30 seconds"),
    ("thirty second timer", "30 second timer"),
    ("um, wake me at seven a.m. please", "wake me at 7 am"),
    ("set an alarm for six thirty p.m.", "set an alarm for 6 30 pm"),
    ("uh okay can you set a timer for five minutes and thirty seconds thanks",
     "set a timer for 5 minutes and 30 seconds"),
    ("Hey assistant, could you please tell me the time?", "tell me the time"),
    ("set a timer for an hour and a half", "set a timer for 1.5 hour"),
    ("two and a half minutes", "2.5 minutes"),
    ("a hundred", "100"),
    ("Remember that my car is on level three.", "Remember that my car is on level 3"),
    ("what’s the date", "what's the date"),
    ("Note that I lent Tom $20.", "Note that I lent Tom 20 dollars"),  # not a bare "20"
    ("it was £4.50", "it was 4.50 pounds"),
    ("Set an alarm for half-past six in the evening.",
     "Set an alarm for half past 6 in the evening"),
    ("  ", ""),
])
def test_normalise(spoken, expected):
    assert normalise(spoken) == expected


def test_hyphenated_clock_phrases_set_the_alarm(builtin_registry):
    for heard, time in [("Set an alarm for half-past six in the evening.", "18:30"),
                        ("Hey, alarm for half-past five in the afternoon.", "17:30"),
                        ("Wake me at quarter-to seven.", "06:45")]:
        m = fastpath.match(builtin_registry, heard)
        assert m is not None and m.arguments["time"] == time, heard


def test_normalise_upper_case_am_pm(builtin_registry):
    assert normalise("Set an alarm for 7 A.M.").lower() == "set an alarm for 7 am"
    m = fastpath.match(builtin_registry, "Set an alarm for 7 P.M.")
    assert m is not None and m.arguments["time"] == "19:00"


def load_jsonl(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def exactly_right(registry, item: dict) -> bool:
    m = fastpath.match(registry, item["text"])
    if m is None or m.skill.name != item["name"]:
        return False
    model = m.skill.args_model
    return model.model_validate(m.arguments) == model.model_validate(item["arguments"])


@pytest.mark.parametrize("dataset", ["commands.jsonl", "commands_heldout.jsonl"])
def test_fast_path_accuracy(builtin_registry, dataset):
    items = load_jsonl(dataset)
    assert len(items) >= 50
    wrong = [item for item in items if not exactly_right(builtin_registry, item)]
    accuracy = 1 - len(wrong) / len(items)
    assert accuracy >= 0.95, f"{accuracy:.1%} right; first misses: {wrong[:5]}"


def test_dataset_labels_are_valid(builtin_registry):
    """Guards the accuracy test: every expected call must itself be a valid call."""
    for item in load_jsonl("commands.jsonl") + load_jsonl("commands_heldout.jsonl"):
        s = builtin_registry.skills[item["name"]]
        s.args_model.model_validate(item["arguments"])


def test_exactly_right_detects_wrong_arguments(builtin_registry):
    item = {"text": "set a timer for 5 minutes", "name": "set_timer", "arguments": {"seconds": 300}}
    assert exactly_right(builtin_registry, item)
    assert not exactly_right(builtin_registry, {**item, "arguments": {"seconds": 301}})
    assert not exactly_right(builtin_registry, {**item, "name": "list_timers"})


def test_chitchat_matches_no_skill(builtin_registry):
    lines = [line.strip() for line in (DATA / "chitchat.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert len(lines) >= 20
    matched = {line: m.skill.name for line in lines
               if (m := fastpath.match(builtin_registry, line)) is not None}
    assert matched == {}


@pytest.mark.parametrize(("text", "name", "arguments"), [
    ("what's seventeen times twenty three", "calculate", {"expression": "17*23"}),
    ("set a pasta timer for ten minutes", "set_timer", {"seconds": 600, "label": "pasta"}),
    ("wake me up at half past six", "set_alarm", {"time": "06:30", "label": None}),
    ("convert twenty six point two miles to kilometres", "convert_units",
     {"value": 26.2, "from_unit": "mi", "to_unit": "km"}),
    ("cancel the pasta timer", "cancel_timer", {"label": "pasta"}),
    ("how much time is left on my timers", "list_timers", {}),
    ("stop", "stop", {}),
])
def test_match_examples(builtin_registry, text, name, arguments):
    m = fastpath.match(builtin_registry, text)
    assert m is not None
    assert (m.skill.name, m.arguments) == (name, arguments)
    assert m.normalised == normalise(text)


@pytest.mark.parametrize("text", ["", "   ", "um", "set a timer", "what is 5",
                                  "tell me about timers in history books and their makers"])
def test_no_match(builtin_registry, text):
    m = fastpath.match(builtin_registry, text)
    assert m is None or m.skill.name != "set_timer"
    if text.strip() in ("", "um", "set a timer", "what is 5"):
        assert m is None


def test_match_skips_patterns_whose_arguments_are_invalid(tmp_path):
    from assistant.skills import SkillRegistry, skill

    @skill(patterns=[r"^repeat (?P<n>\w+) times$"])
    def repeat_int(n: int) -> str:
        """Repeat, with a number."""
        return "x" * n

    @skill(patterns=[r"^repeat (?P<word>\w+) times$"])
    def repeat_word(word: str) -> str:
        """Repeat, with a word."""
        return word

    reg = SkillRegistry([repeat_int.__skill__, repeat_word.__skill__])
    assert fastpath.match(reg, "repeat 3 times").skill.name == "repeat_int"
    assert fastpath.match(reg, "repeat many times").skill.name == "repeat_word"
