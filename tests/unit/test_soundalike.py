"""Misheard commands (assistant.understand.soundalike) on the built-in skills: what sounds
like a command is found, and questions that only share a word with one are left alone."""

from __future__ import annotations

import re

import pytest

from assistant.skills import SkillRegistry, skill
from assistant.speech.phonemes import phonemes
from assistant.understand.classify import classify
from assistant.understand.soundalike import repair, vocabulary


def test_phonemes_hear_homophones_and_drop_marks():
    assert phonemes("too") == phonemes("two")
    assert phonemes("check") == "tʃɛk"
    assert phonemes("...") == ""


@pytest.mark.parametrize(("heard", "skill", "meant"), [
    ("Chet my timers please.", "list_timers", "check my timers"),
    ("What Tyler's do I have?", "list_timers", "what timers do i have"),
    ("convert two cuts to milliliters.", "convert_units", "convert 2 cups to milliliters"),
    ("how many ounces is too pound", "convert_units", "how many ounces is 2 pound"),
    ("which day of a week is it?", "get_date", "which day of the week is it"),
    ("20 minutes remind me to check the oven", "set_reminder",
     "in 20 minutes remind me to check the oven"),
    # A skill's word heard with its ending lost, in a command that would act.
    ("Set a time for three hours.", "set_timer", "set a timer for 3 hours"),
    ("Cancel my laundry time, please.", "cancel_timer", "cancel my laundry timer"),
])
def test_a_misheard_command_is_found(builtin_registry, heard, skill, meant):
    u = classify(builtin_registry, heard)
    assert (u.kind, u.skill.name if u.skill else None, u.rest) == ("misheard", skill, meant)


@pytest.mark.parametrize("text", [
    "what time does the bakery open",  # "time does" sounds like "timers": a skill word kept
    "Where do I buy the spice mix for the Moroccan lamb dish?",  # lamb/ram: too short
    "no, keep it",  # not "note keep it"
    "not that one",  # not "note that 1": a "not" is never changed
    "what time does the last train leave",  # a question: its "time" never grows into "timer"
    "tell me what time the train leaves",  # nor into a read-only command ("what timers...")
    "tell me a joke",
    "who wrote hamlet",
    "my mum always reminds me to call her on sundays",
    "Chet",  # one word is too little to go on
    # "tyres" -> "timers" matches a loose pattern, with four words left unexplained
    "what pressure should the boat trailer tyres have?",
    "chet " * 13,  # too long to be a command said badly
])
def test_questions_are_not_turned_into_commands(builtin_registry, text):
    assert classify(builtin_registry, text).kind != "misheard"
    assert repair(builtin_registry, " ".join(text.split()).lower()) is None


def test_a_plugins_patterns_extend_the_vocabulary():
    @skill(read_only=True, patterns=[re.compile(r"^water the (?P<plant>\w+)$")])
    def water(plant: str) -> str:
        """Water a plant.

        Args:
            plant: Which one.
        """
        return f"Watered the {plant}."

    registry = SkillRegistry([water.__skill__])
    words = vocabulary(registry)
    assert "water" in words
    assert "plant" not in words and "w" not in words  # regex syntax and group names
    fixed = repair(registry, "watter the ferns")
    assert fixed is not None and fixed.text == "water the ferns"
    assert fixed.arguments == {"plant": "ferns"}
