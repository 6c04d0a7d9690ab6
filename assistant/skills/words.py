"""A skill in words: its name as said aloud, its one-line signature for the prompt, the
content words that decide which skills the LLM is offered, and a call described."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.skills.declare import Skill


def json_types(prop: dict[str, Any]) -> list[str]:
    """The JSON types a schema property allows ("any" when it names none), ``anyOf`` read."""
    return [v.get("type", "any") for v in prop.get("anyOf", [prop])]


def spoken_name(name: str) -> str:
    """A skill's name as words to say, e.g. "set timer"; an MCP tool's camel case too
    ("home_HassTurnOn" is "home hass turn on", not "home HassTurnOn")."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").lower()


def signature(tool: dict[str, Any]) -> str:
    """A tool as one compact line for the prompt, e.g. ``set_timer(seconds: integer, label:
    string?): Start a countdown timer.`` Far fewer tokens than the JSON schema, which matters
    when prefill runs at ~100 tokens/s on a small CPU; the schema itself drives the grammar."""
    params = tool.get("parameters", {})
    required = set(params.get("required", []))
    args = []
    for pname, prop in params.get("properties", {}).items():
        kinds = json_types(prop)
        arg = f"{pname}: {'|'.join(k for k in kinds if k != 'null')}"
        args.append(arg if pname in required else arg + "?")
    return f"{tool['name']}({', '.join(args)}): {tool.get('description', '')}"


_STOPWORDS = frozenset(
    "and the for with from are was its this that these those you your our what whats how "
    "when where which who can could would will please tell give get set about after all also "
    "any been between did does each into just last left many much only out some than their "
    "them then there they were "
    # words of the skills' own docstrings that say nothing about the skill
    "answer ask asked explicitly given itself optional user wanted five".split()
)


def content_words(text: str) -> set[str]:
    """Lower-case words minus stop words, with a plural 's' dropped: a crude stem that is
    enough to match 'timers' with 'timer'."""
    words = re.findall(r"[a-z]{3,}", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words} - _STOPWORDS


def describe_call(s: Skill, arguments: dict[str, Any]) -> str:
    """A call in words, e.g. "set timer with seconds 3600 and label pasta"."""
    said = [f"{k.replace('_', ' ')} {v}" for k, v in arguments.items()
            if v not in (None, "", [], {})]
    return spoken_name(s.name) + (" with " + " and ".join(said) if said else "")
