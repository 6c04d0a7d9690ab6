"""skills.lists: the shopping and to-do lists, persisted, with undo, slots and a plan."""

from __future__ import annotations

import json

import pytest

from assistant import fastpath
from assistant.skills import Plan, SkillContext, SkillRegistry, ToolResult
from skills.lists import (
    normalise_list_name,
    parse_item,
    parse_list_name,
    parse_removal,
    split_items,
)


def call(registry: SkillRegistry, ctx: SkillContext, name: str, **arguments: object
         ) -> ToolResult:
    result = registry.call(name, arguments, ctx, confirm=lambda _q: True)
    assert result.ok, result.result
    return result


def read(registry: SkillRegistry, ctx: SkillContext, list_name: str = "shopping") -> str:
    return call(registry, ctx, "read_list", list_name=list_name).result


def test_add_read_remove(builtin_registry, context) -> None:
    assert read(builtin_registry, context) == "Your shopping list is empty."
    added = call(builtin_registry, context, "add_to_list", item="milk")
    assert added.result == "Added milk to your shopping list."
    two = call(builtin_registry, context, "add_to_list", item="eggs and bread")
    assert two.result == "Added eggs and bread to your shopping list."
    assert read(builtin_registry, context) == \
        "Your shopping list has 3 items: milk, eggs and bread."
    gone = call(builtin_registry, context, "remove_from_list", item="egg")
    assert gone.result == "Took eggs off your shopping list."
    assert read(builtin_registry, context) == "Your shopping list has 2 items: milk and bread."
    missing = call(builtin_registry, context, "remove_from_list", item="cheese")
    assert missing.result == "Cheese isn't on your shopping list." and missing.undo is None


def test_the_to_do_list_is_separate(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk")
    todo = call(builtin_registry, context, "add_to_list", item="call my bank", list_name="todo")
    assert todo.result == "Added call your bank to your to-do list."
    assert read(builtin_registry, context, "to do") == "Your to-do list has 1 item: call your bank."
    assert read(builtin_registry, context) == "Your shopping list has 1 item: milk."


def test_duplicates_are_not_added_twice(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk")
    again = call(builtin_registry, context, "add_to_list", item="Milk")
    assert again.result == "Milk is already on your shopping list." and again.undo is None
    some = call(builtin_registry, context, "add_to_list", item="milk and butter")
    assert some.result == "Added butter to your shopping list. Milk was already there."


def test_lists_survive_a_restart(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk, eggs, and bread")
    path = context.data_dir / "lists.json"
    assert [i["item"] for i in json.loads(path.read_text())["lists"]["shopping"]] == \
        ["milk", "eggs", "bread"]
    assert list(context.data_dir.glob("*.tmp")) == []
    fresh = SkillContext(data_dir=context.data_dir)
    builtin_registry.start(fresh)
    assert read(builtin_registry, fresh) == "Your shopping list has 3 items: milk, eggs and bread."


def test_a_damaged_file_does_not_lose_the_old_one(builtin_registry, context) -> None:
    context.data_dir.mkdir(parents=True)
    (context.data_dir / "lists.json").write_text("[broken")
    assert read(builtin_registry, context) == "Your shopping list is empty."
    call(builtin_registry, context, "add_to_list", item="milk")
    assert (context.data_dir / "lists.json.corrupt").read_text() == "[broken"


# ---------------------------------------------------------------- undo


def test_undo_add_takes_off_exactly_what_that_call_added(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk")
    added = call(builtin_registry, context, "add_to_list", item="milk and eggs")
    assert added.undo() == "Okay, I took eggs off your shopping list."
    assert read(builtin_registry, context) == "Your shopping list has 1 item: milk."


def test_undo_remove_puts_items_back_where_they_were(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk, eggs and bread")
    removed = call(builtin_registry, context, "remove_from_list", item="eggs")
    assert removed.undo() == "Okay, eggs is back on your shopping list."
    assert read(builtin_registry, context) == \
        "Your shopping list has 3 items: milk, eggs and bread."


# ---------------------------------------------------------------- clear: plan and confirm


def test_clear_plans_and_asks_with_the_items(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk, eggs and bread")
    plan = builtin_registry.plan("clear_list", {}, context)
    assert plan == Plan("Clear your shopping list (3 items: milk, eggs, bread)?",
                        {"list_name": "shopping"})
    asked: list[str] = []
    refused = builtin_registry.call("clear_list", {}, context,
                                    confirm=lambda q: asked.append(q) or False)
    assert not refused.ok and asked == [plan.question]
    assert "3 items" in read(builtin_registry, context)
    cleared = call(builtin_registry, context, "clear_list", list_name="shopping list")
    assert cleared.result == "Cleared your shopping list: 3 items gone."
    assert read(builtin_registry, context) == "Your shopping list is empty."
    assert cleared.undo() == "Okay, everything is back on your shopping list."
    assert "3 items" in read(builtin_registry, context)


def test_clearing_an_empty_list_asks_nothing(builtin_registry, context) -> None:
    assert builtin_registry.plan("clear_list", {"list_name": "to-do"}, context) == \
        "Your to-do list is already empty."
    asked: list[str] = []
    r = builtin_registry.call("clear_list", {"list_name": "to-do"}, context,
                              confirm=lambda q: asked.append(q) or True)
    assert r.ok and r.result == "Your to-do list is already empty." and asked == []


def test_clear_needs_a_yes(builtin_registry, context) -> None:
    call(builtin_registry, context, "add_to_list", item="milk")
    r = builtin_registry.call("clear_list", {}, context)
    assert r.ok is False
    assert read(builtin_registry, context) == "Your shopping list has 1 item: milk."


# ---------------------------------------------------------------- names, items, slots


@pytest.mark.parametrize(("name", "normal"), [
    ("shopping", "shopping"), ("Shopping List", "shopping"), ("my shopping list", "shopping"),
    ("groceries", "shopping"), ("to-do", "to-do"), ("todo", "to-do"), ("to do list", "to-do"),
    ("the To-Do list", "to-do"), (None, "shopping"),
])
def test_list_names(name, normal) -> None:
    assert normalise_list_name(name) == normal


def test_any_other_list_is_a_clear_error(builtin_registry, context) -> None:
    with pytest.raises(ValueError, match="only keep a shopping list and a to-do list"):
        normalise_list_name("christmas")
    r = builtin_registry.call("add_to_list", {"item": "socks", "list_name": "christmas"},
                              context)
    assert r.ok is False
    assert "I only keep a shopping list and a to-do list, not a 'christmas' list" in r.result


@pytest.mark.parametrize(("text", "items"), [
    ("milk", ["milk"]), ("eggs and bread", ["eggs", "bread"]),
    ("milk, eggs, and bread", ["milk", "eggs", "bread"]), ("some milk", ["milk"]),
    ("call the bank", ["call the bank"]), ("2 eggs & a loaf", ["2 eggs", "loaf"]),
    ("milk and milk", ["milk"]), (" , ", []),
])
def test_split_items(text, items) -> None:
    assert split_items(text) == items


@pytest.mark.parametrize(("text", "name", "arguments"), [
    ("add milk to my shopping list", "add_to_list", {"item": "milk", "list_name": "shopping"}),
    ("put eggs and bread on the shopping list", "add_to_list",
     {"item": "eggs and bread", "list_name": "shopping"}),
    ("add call the bank to my to-do list", "add_to_list",
     {"item": "call the bank", "list_name": "to-do"}),
    ("add go to the gym to my to do list", "add_to_list",
     {"item": "go to the gym", "list_name": "to-do"}),
    ("add two batteries to the list", "add_to_list", {"item": "2 batteries",
                                                      "list_name": "shopping"}),
    ("we need coffee, put it on the shopping list", "add_to_list",
     {"item": "coffee", "list_name": "shopping"}),
    ("we're out of eggs and milk so add them to the list", "add_to_list",
     {"item": "eggs and milk", "list_name": "shopping"}),
    ("take milk off my shopping list", "remove_from_list",
     {"item": "milk", "list_name": "shopping"}),
    ("remove call the bank from the to-do list", "remove_from_list",
     {"item": "call the bank", "list_name": "to-do"}),
    ("what's on my shopping list", "read_list", {"list_name": "shopping"}),
    ("read me my to do list", "read_list", {"list_name": "to-do"}),
    ("what do I need to buy", "read_list", {"list_name": "shopping"}),
    ("my shopping list", "read_list", {"list_name": "shopping"}),
    ("clear my shopping list", "clear_list", {"list_name": "shopping"}),
    ("empty the to-do list", "clear_list", {"list_name": "to-do"}),
])
def test_fast_path(builtin_registry, text, name, arguments) -> None:
    m = fastpath.match(builtin_registry, text)
    assert m is not None and (m.skill.name, m.arguments) == (name, arguments)


@pytest.mark.parametrize("text", ["add milk", "what's on the christmas list", "add 2 and 3",
                                  "add something to the list", "put it on my to-do list",
                                  "remove from my shopping list"])
def test_not_list_commands(builtin_registry, text) -> None:
    """Not a command the list skills act on (no list, or no item named: the turn asks)."""
    m = fastpath.match(builtin_registry, text)
    assert m is None or m.skill.name not in ("add_to_list", "read_list", "remove_from_list")


@pytest.mark.parametrize(("text", "name"), [
    ("add something to the list", "add_to_list"), ("remove from my shopping list",
                                                  "remove_from_list")])
def test_a_list_command_without_an_item_names_its_skill(builtin_registry, text, name) -> None:
    """The skill's pattern finds its words, so the turn asks for the item."""
    s = builtin_registry.skills[name]
    norm = fastpath.normalise(text)
    assert any(p.regex.search(norm) for p in s.patterns)
    assert s.slots["item"].parse(norm) is None


def test_item_slot(builtin_registry) -> None:
    slot = builtin_registry.skills["add_to_list"].slots["item"]
    assert slot.ask == "What should I add?"
    assert slot.parse is parse_item


@pytest.mark.parametrize(("text", "item"), [
    ("add milk to my shopping list", "milk"), ("milk", "milk"),
    ("eggs and bread", "eggs and bread"),
    ("no i meant oat milk", "oat milk"), ("add to my shopping list", None),
    ("we need coffee, put it on the shopping list", "coffee"),
    ("what's on my shopping list", None), ("no", None), ("", None), ("something", None),
    ("add something to my list", None),
])
def test_parse_item(text, item) -> None:
    assert parse_item(text) == item


def test_parse_removal() -> None:
    assert parse_removal("take the milk off my list") == "the milk"
    assert parse_removal("bread") == "bread"


def test_unusable_saved_entries_are_dropped(builtin_registry, context) -> None:
    context.data_dir.mkdir(parents=True)
    (context.data_dir / "lists.json").write_text(json.dumps({"version": 1, "lists": {
        "shopping": [{"id": "a", "item": "milk"}, "junk", {"item": 3}], "to-do": 7}}))
    assert read(builtin_registry, context) == "Your shopping list has 1 item: milk."
    assert read(builtin_registry, context, "to-do") == "Your to-do list is empty."


@pytest.mark.parametrize(("text", "name"), [
    ("add milk to my shopping list", "shopping"), ("no, I meant the shopping list", "shopping"),
    ("put it on the to do list", "to-do"), ("the to-do one", "to-do"), ("shopping", "shopping"),
    ("oat milk", None), ("add milk to the list", None), ("no, I meant oat milk", None),
])
def test_parse_list_name(text, name) -> None:
    """The list_name slot: what the user's words name, so that a correction ("no, I meant
    the shopping list") can move an item, and nothing when they name no list."""
    assert parse_list_name(text) == name


def test_list_slots(builtin_registry) -> None:
    for skill_name in ("add_to_list", "remove_from_list"):
        assert builtin_registry.skills[skill_name].slots["list_name"].parse is parse_list_name
