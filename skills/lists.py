"""The shopping list and the to-do list: "add milk to my shopping list", "what's on my to-do
list", "take eggs off the list", "clear my shopping list".

Owns ``add_to_list``, ``remove_from_list``, ``read_list`` and ``clear_list``, the list-name
normaliser and the item parser (the :class:`~assistant.skills.Slot` of ``add_to_list``).
Both lists live in ``<data>/lists.json``, rewritten atomically on every change. There are
exactly two lists: a name that is neither is a clear error, not a third list made by a
mishearing.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from assistant.memory.facts import second_person
from assistant.skills import Pattern, Plan, SkillContext, Slot, Undoable, skill
from skills.jsonfile import JsonFile
from skills.spoken import capital, join_words

LISTS = ("shopping", "to-do")
MAX_ITEMS = 200
"""Per list: past this an "add" is refused (a runaway loop, not a shopping trip)."""

_NAMES = {"shopping": "shopping", "shop": "shopping", "grocery": "shopping",
          "groceries": "shopping", "to-do": "to-do", "todo": "to-do", "to do": "to-do",
          "to-dos": "to-do", "todos": "to-do", "to dos": "to-do",
          # tiny.en's hearings of "to-do": "2 list", "two list"
          "2": "to-do", "two": "to-do", "2 do": "to-do", "two do": "to-do", "task": "to-do",
          "tasks": "to-do", "things to do": "to-do"}


def normalise_list_name(name: str | None) -> str:
    """"shopping" or "to-do" for the ways people name them ("my shopping list", "todo",
    "the to do list", "groceries"); ValueError for any other list."""
    words = re.sub(r"\b(?:my|the|our|list)\b", " ", (name or "shopping").lower())
    key = " ".join(words.replace("_", " ").split())
    if key in _NAMES:
        return _NAMES[key]
    raise ValueError(f"I only keep a shopping list and a to-do list, not a '{name}' list")


def _say_list(name: str) -> str:
    return f"your {name} list"


def split_items(text: str) -> list[str]:
    """'eggs and bread' → ['eggs', 'bread']; 'milk, eggs, and bread' → three. Articles go
    ('some milk' → 'milk'); case is kept for names ('call Sam')."""
    parts = re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*", text.strip(" .,"))
    items = []
    for part in parts:
        item = re.sub(r"^(?:a|an|some|the|more)\s+", "", part.strip(" .,"), flags=re.IGNORECASE)
        if item and item.lower() not in (i.lower() for i in items):
            items.append(item)
    return items


_LIST = (r"(?:(?:my|the|our) )?(?:(?P<list_name>shopping|grocery|groceries|to-?do|to do|todo|"
         r"2 do|2) )?list")
_ADD = re.compile(rf"^(?:add|put|stick|pop|write|include|throw) (?P<item>.+?) "
                  rf"(?:to|on|onto|in|into) {_LIST}$", re.IGNORECASE)
# "we need coffee, put it on the shopping list": the item comes first, named by "it".
_NEED = re.compile(rf"^(?:we|i)(?: need| are out of|'re out of| have run out of|'ve run out of|"
                   rf" ran out of) "
                   rf"(?P<item>.+?),? (?:so |and )?(?:put|add|stick|pop) (?:it|them|that|those|"
                   rf"some) (?:to|on|onto) {_LIST}$", re.IGNORECASE)
_REMOVE = re.compile(rf"^(?:remove|delete|take|cross|strike|scratch|tick) (?:off )?"
                     rf"(?P<item>.+?) (?:off|from|off of) {_LIST}$", re.IGNORECASE)
_CORRECTION = re.compile(r"^(?:no\b,? ?|sorry\b,? ?|actually\b,? ?)*(?:i meant |i said |"
                         r"make it |just )?", re.IGNORECASE)


# Words that stand for an item without naming one: "add something to the list" asks what.
_PLACEHOLDERS = {"something", "anything", "stuff", "things", "an item", "item", "items",
                 "it", "them", "that", "this", "some", "more"}


def _named(item: str) -> bool:
    return item.strip(" .,").lower() not in _PLACEHOLDERS


def _item_args(*forms: re.Pattern[str]) -> Callable[[re.Match[str]], dict[str, Any] | None]:
    def extract(m: re.Match[str]) -> dict[str, Any] | None:
        found = next((f for rx in forms if (f := rx.match(m.string))), None)
        if found is None or not _named(found.group("item")):
            return None
        return {"item": found.group("item"),
                "list_name": normalise_list_name(found.group("list_name"))}
    return extract


def _item_parser(*forms: re.Pattern[str]) -> Callable[[str], str | None]:
    def parse(text: str) -> str | None:
        """The item of a command, or a bare answer ("milk", "no i meant oat milk")."""
        if found := next((f for rx in forms if (f := rx.match(text.strip()))), None):
            return found.group("item") if _named(found.group("item")) else None
        answer = _CORRECTION.sub("", text.strip()).strip(" .,")
        words = answer.lower().split()
        # A command or a question is not an answer naming an item.
        if not words or "list" in words or words[0] in _NOT_ITEMS or not _named(answer):
            return None
        return answer
    return parse


_NOT_ITEMS = {"add", "put", "remove", "delete", "take", "what", "what's", "whats", "read",
              "clear", "empty", "cancel", "stop", "yes", "no", "yeah", "nope", "ok", "okay",
              "nothing", "never"}
def parse_list_name(text: str) -> str | None:
    """The list a command or a correction names ("... to my to-do list", "no, I meant the
    shopping list"), or None when it names none (the skill's default then applies)."""
    if m := re.search(rf"\b{_LIST}\b", text, re.IGNORECASE):
        return normalise_list_name(m.group("list_name")) if m.group("list_name") else None
    # a bare answer to "Which list?": "shopping", "the to-do one"
    answer = _CORRECTION.sub("", text.strip()).strip(" .,")
    if m := re.fullmatch(r"(?:the |my )?(?P<name>shopping|grocery|groceries|to-?do|to do|todo)"
                         r"(?: one)?", answer, re.IGNORECASE):
        return normalise_list_name(m.group("name"))
    return None


parse_item = _item_parser(_ADD, _NEED)
"""The Slot parser of ``add_to_list``'s item."""
parse_removal = _item_parser(_REMOVE)


class ListStore:
    """Both lists, in memory and in ``lists.json``; calls may come from concurrent skill
    threads, hence the lock."""

    def __init__(self, file: JsonFile) -> None:
        self._file = file
        self._lock = threading.Lock()
        document = file.load()
        saved = document.get("lists") if isinstance(document, dict) else None
        saved = saved if isinstance(saved, dict) else {}
        self._lists: dict[str, list[dict[str, str]]] = {}
        for name in LISTS:
            entries = saved.get(name)
            # Entries that are not {"id": str, "item": str} are dropped, not fatal.
            self._lists[name] = [e for e in entries if isinstance(e, dict)
                                 and isinstance(e.get("item"), str)
                                 and isinstance(e.get("id"), str)
                                 ] if isinstance(entries, list) else []

    @property
    def error(self) -> str | None:
        return self._file.error

    def _save(self) -> bool:
        return self._file.save({"version": 1, "lists": self._lists})

    def items(self, name: str) -> list[dict[str, str]]:
        with self._lock:
            return list(self._lists[name])

    def add(self, name: str, items: list[str]) -> tuple[list[dict[str, str]], list[str]]:
        """Append the items not already there; returns (the new entries, those already
        on the list)."""
        with self._lock:
            have = {i["item"].lower() for i in self._lists[name]}
            if len(self._lists[name]) + len(items) > MAX_ITEMS:
                raise ValueError(f"your {name} list already has {len(self._lists[name])} "
                                 "items; clear some first")
            new = [{"id": uuid.uuid4().hex[:12], "item": i} for i in items
                   if i.lower() not in have]
            self._lists[name].extend(new)
            if new:
                self._save()
        return new, [i for i in items if i.lower() in have]

    def take(self, name: str, ids: set[str]) -> list[tuple[int, dict[str, str]]]:
        """Remove these entries; returns them with where they were, for an undo."""
        with self._lock:
            taken = [(n, i) for n, i in enumerate(self._lists[name]) if i["id"] in ids]
            self._lists[name] = [i for i in self._lists[name] if i["id"] not in ids]
            if taken:
                self._save()
        return taken

    def put_back(self, name: str, taken: list[tuple[int, dict[str, str]]]) -> None:
        with self._lock:
            present = {i["id"] for i in self._lists[name]}
            for where, entry in sorted(taken, key=lambda t: t[0]):
                if entry["id"] not in present:
                    self._lists[name].insert(min(where, len(self._lists[name])), entry)
            self._save()


def _store(ctx: SkillContext) -> ListStore:
    return ctx.service("lists", lambda: ListStore(JsonFile(ctx.data_dir / "lists.json")))


def _find(entries: list[dict[str, str]], item: str) -> dict[str, str] | None:
    """The entry meant by ``item``: the same words, then singular/plural ('egg' for
    'eggs'), then the only entry containing those words ('milk' for 'oat milk')."""
    def key(text: str) -> str:
        return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w
                        for w in text.lower().split())

    wanted = key(item)
    for test in (lambda e: e["item"].lower() == item.lower(),
                 lambda e: key(e["item"]) == wanted):
        if found := next((e for e in entries if test(e)), None):
            return found
    containing = [e for e in entries if re.search(rf"\b{re.escape(wanted)}\b", key(e["item"]))]
    return containing[0] if len(containing) == 1 else None


def _put_back(store: ListStore, name: str, taken: list[tuple[int, dict[str, str]]],
              what: str, one: bool | None = None) -> Callable[[], str]:
    """An undo that puts exactly these entries back where they were; ``one`` says whether
    ``what`` takes "is" (by default: when it is one item)."""
    def undo() -> str:
        store.put_back(name, taken)
        singular = len(taken) == 1 if one is None else one
        return f"Okay, {what} {'is' if singular else 'are'} back on {_say_list(name)}."
    return undo


@skill(topic="shopping and to-do lists",
       patterns=[Pattern(re.compile(r"^(?:add|put|stick|pop|write|include|throw) .+ list$",
                                    re.IGNORECASE), _item_args(_ADD)),
                 Pattern(_NEED, _item_args(_NEED))],
       examples=["add milk to my shopping list", "put eggs and bread on the shopping list",
                 "add water the plants to my to-do list"],
       slots={"item": Slot(parse_item, "What should I add?"),
              "list_name": Slot(parse_list_name, "Which list, shopping or to-do?")})
def add_to_list(ctx: SkillContext, item: str, list_name: str = "shopping") -> Undoable | str:
    """Add one or more items to the shopping list or the to-do list.

    Args:
        item: What to add, e.g. "milk", or "eggs and bread" for two items.
        list_name: "shopping" or "to-do".
    """
    name = normalise_list_name(list_name)
    items = split_items(item)
    if not items:
        raise ValueError("there was nothing to add")
    store = _store(ctx)
    new, already = store.add(name, items)
    if not new:
        return f"{capital(join_words(already))} {'is' if len(already) == 1 else 'are'} " \
               f"already on {_say_list(name)}."
    said = join_words([second_person(e["item"]) for e in new])
    text = f"Added {said} to {_say_list(name)}."
    if already:
        text += f" {capital(join_words(already))} {'was' if len(already) == 1 else 'were'} " \
                "already there."
    if store.error:
        text += f" ({store.error}.)"

    def undo() -> str:
        store.take(name, {e["id"] for e in new})
        return f"Okay, I took {said} off {_say_list(name)}."

    return Undoable(text, undo)


@skill(topic="shopping and to-do lists",
       patterns=[Pattern(re.compile(
           r"^(?:remove|delete|take|cross|strike|scratch|tick)\b.*\b(?:off|from)\b.*\blist$",
           re.IGNORECASE), _item_args(_REMOVE))],
       examples=["take milk off my shopping list", "remove eggs from the shopping list"],
       slots={"item": Slot(parse_removal, "What should I take off?"),
              "list_name": Slot(parse_list_name, "Which list, shopping or to-do?")})
def remove_from_list(ctx: SkillContext, item: str, list_name: str = "shopping") -> Undoable | str:
    """Remove items from the shopping list or the to-do list.

    Args:
        item: What to remove, e.g. "milk", or "eggs and bread".
        list_name: "shopping" or "to-do".
    """
    name = normalise_list_name(list_name)
    store = _store(ctx)
    entries = store.items(name)
    found, missing = [], []
    for wanted in split_items(item):
        entry = _find(entries, wanted)
        if entry is None:
            missing.append(wanted)
        elif entry not in found:
            found.append(entry)
    if not found:
        return f"{capital(join_words(missing or [item]))} isn't on {_say_list(name)}."
    taken = store.take(name, {e["id"] for e in found})
    said = join_words([second_person(e["item"]) for _, e in taken])
    text = f"Took {said} off {_say_list(name)}."
    if missing:
        text += f" {capital(join_words(missing))} wasn't on it."
    return Undoable(text, _put_back(store, name, taken, said))


def _name_args(m: re.Match[str]) -> dict[str, Any]:
    return {"list_name": normalise_list_name(m.groupdict().get("list_name"))}


@skill(topic="shopping and to-do lists",
       read_only=True,
       patterns=[Pattern(re.compile(form, re.IGNORECASE), _name_args) for form in (
           rf"^(?:what(?:'s| is| do i have| have i got| have we got) (?:on|in) |"
           rf"read (?:me )?(?:out )?|show (?:me )?|check |open |tell me what's on )?{_LIST}$",
           r"^what do (?:i|we) need (?:to buy|to get|from the (?:shops?|store|supermarket))$")])
def read_list(ctx: SkillContext, list_name: str = "shopping") -> str:
    """Read out the shopping list or the to-do list.

    Args:
        list_name: "shopping" or "to-do".
    """
    name = normalise_list_name(list_name)
    items = [second_person(e["item"]) for e in _store(ctx).items(name)]
    if not items:
        return f"{capital(_say_list(name))} is empty."
    count = f"{len(items)} item{'s' if len(items) != 1 else ''}"
    return f"{capital(_say_list(name))} has {count}: {join_words(items)}."


def _clear_plan(ctx: SkillContext, list_name: str = "shopping") -> Plan | str:
    """What clearing will remove, said before the user's yes."""
    name = normalise_list_name(list_name)
    items = [second_person(e["item"]) for e in _store(ctx).items(name)]
    if not items:
        return f"{capital(_say_list(name))} is already empty."
    count = f"{len(items)} item{'s' if len(items) != 1 else ''}"
    return Plan(f"Clear {_say_list(name)} ({count}: {', '.join(items)})?", {"list_name": name})


@skill(topic="shopping and to-do lists",
       risk="confirm", plan=_clear_plan,
       patterns=[Pattern(re.compile(rf"^(?:clear|empty|wipe|delete|erase) (?:out |all of |"
                                    rf"everything (?:on|from) )?{_LIST}(?: out)?$", re.IGNORECASE),
                         _name_args)])
def clear_list(ctx: SkillContext, list_name: str = "shopping") -> Undoable | str:
    """Remove everything from the shopping list or the to-do list.

    Args:
        list_name: "shopping" or "to-do".
    """
    name = normalise_list_name(list_name)
    store = _store(ctx)
    taken = store.take(name, {e["id"] for e in store.items(name)})
    if not taken:
        return f"{capital(_say_list(name))} is already empty."
    n = len(taken)
    return Undoable(f"Cleared {_say_list(name)}: {n} item{'s' if n != 1 else ''} gone.",
                    _put_back(store, name, taken, "everything", one=True))
