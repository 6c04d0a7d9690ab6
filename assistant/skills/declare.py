"""Declaring a skill: the :func:`skill` decorator reads a function's signature, type hints
and docstring into a :class:`Skill`; :class:`Pattern`, :class:`Slot`, :class:`Plan`,
:class:`Undoable` and :func:`on_start` say how it is matched, asked about, confirmed, undone
and started."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant.skills.context import SkillContext
from assistant.skills.words import content_words, signature, spoken_name

Risk = Literal["safe", "confirm"]


@dataclass(frozen=True)
class Pattern:
    """A fast-path rule: a regex over the normalised utterance and how to turn a match into
    arguments (by default the named groups, with empty groups left out)."""

    regex: re.Pattern[str]
    extract: Callable[[re.Match[str]], dict[str, Any] | None] | None = None

    def arguments(self, match: re.Match[str]) -> dict[str, Any] | None:
        if self.extract is not None:
            return self.extract(match)
        return {k: v for k, v in match.groupdict().items() if v is not None}


@dataclass(frozen=True)
class Slot:
    """How one argument is read from the user's own words, and what to ask when it is missing.

    The turn uses it three ways: a command that names the skill but whose ``parse`` finds
    nothing is answered with ``ask`` ("A timer for how long?"), and the next utterance is
    parsed to fill it; a correction ("no, I meant ten minutes") is parsed to amend the last
    call; and an argument the LLM chose is accepted only if ``parse`` reads the same value
    from the utterance."""

    parse: Callable[[str], Any]
    """Normalised text (see :func:`assistant.fastpath.normalise`) → the value, or None."""
    ask: str
    """One short question for when the value is missing, e.g. "A timer for how long?"."""


@dataclass(frozen=True)
class Plan:
    """Exactly what a call will do, said before it runs: the confirmation question, and the
    arguments it will then run with (``forget`` pins the ids of the records it named)."""

    question: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Undoable:
    """A skill result that can be taken back ("cancel that", "no, I meant ten minutes")."""

    text: str
    """What to say now."""
    undo: Callable[[], str]
    """Takes the action back and returns what to say, e.g. "Cancelled the 5 minute timer."."""


def on_start(func: Callable[[SkillContext], None]) -> Callable[[SkillContext], None]:
    """Mark a function of a skill module to run once when an assistant starts, with its
    :class:`SkillContext` (reminders announce what fell due while it was off). Export it like
    a skill (in ``__all__``, or as the entry point)."""
    func.__on_start__ = True  # type: ignore[attr-defined]
    return func


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    func: Callable[..., Any]
    args_model: type[BaseModel]
    """Validates and coerces arguments; its JSON schema is what the LLM sees."""
    risk: Risk = "safe"
    timeout_s: float | None = None
    """None = the config default (skills.timeout_s)."""
    read_only: bool = False
    """It only reads (the time, a sum, the disk): the voice loop may run it while the user
    might still go on, and throw the answer away if they do."""
    patterns: tuple[Pattern, ...] = ()
    examples: tuple[str, ...] = ()
    context_param: str | None = None
    source: str = ""
    topic: str = ""
    """A few words for "what can you do" ("timers and alarms"); skills that share one are
    said together. Empty: the skill's name, in words."""
    slots: dict[str, Slot] = field(default_factory=dict)
    """Arguments the turn can read from the user's words (see :class:`Slot`)."""
    plan: Callable[..., Plan | str] | None = None
    """Called with the validated arguments (and the context, if the skill takes one) before a
    confirmed call: the :class:`Plan` to put to the user, or a sentence when there is nothing
    to do. Without it the question is built from the arguments."""
    schema: dict[str, Any] | None = None
    """The JSON schema the LLM sees, when it is richer than ``args_model``'s (an MCP tool's
    own, nested fields and all; ``args_model`` then checks the top level)."""
    trusted: bool = True
    """False for a tool of an untrusted MCP server: its results are a stranger's data, so
    no call that acts may follow one in the same turn."""

    # Derived once: the voice loop asks for these on every partial transcript, and pydantic's
    # model_json_schema takes a few ms across the registry. Treat them as read-only.
    @cached_property
    def parameters(self) -> dict[str, Any]:
        if self.schema is not None:
            return self.schema
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema

    @cached_property
    def signature(self) -> str:
        return signature(self.tool_schema())

    @cached_property
    def keywords(self) -> set[str]:
        """Content words of the name, description, argument docs and examples."""
        texts = [spoken_name(self.name), self.description, *self.examples]
        texts += [p.get("description", "") for p in self.parameters.get("properties", {}).values()]
        return content_words(" ".join(texts))

    def tool_schema(self) -> dict[str, Any]:
        """The OpenAI-style function description handed to the LLM."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Summary paragraph and per-argument descriptions from a Google-style docstring.
    An argument starts at the section's first indentation; deeper lines continue it."""
    doc = inspect.cleandoc(doc or "")
    summary, _, rest = doc.partition("\nArgs:")
    params: dict[str, str] = {}
    current, indent = None, None
    for line in rest.splitlines():
        if not line.strip():
            current = None
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        m = re.match(r"\s*(\w+)(?:\s*\([^)]*\))?:\s*(.*)", line)
        if depth == indent and m:
            current = m.group(1)
            params[current] = m.group(2).strip()
        elif depth > indent and current:
            params[current] += " " + line.strip()
        elif depth < indent:
            break  # the next section (Returns:, Raises:) begins
    return " ".join(summary.split()), params


def _compile(pattern: str | re.Pattern[str] | Pattern) -> Pattern:
    if isinstance(pattern, Pattern):
        return pattern
    if isinstance(pattern, str):
        pattern = re.compile(pattern, re.IGNORECASE)
    return Pattern(pattern)


def skill(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    risk: Risk = "safe",
    timeout_s: float | None = None,
    read_only: bool = False,
    patterns: Iterable[str | re.Pattern[str] | Pattern] = (),
    examples: Iterable[str] = (),
    slots: dict[str, Slot] | None = None,
    plan: Callable[..., Plan | str] | None = None,
    topic: str = "",
) -> Any:
    """Mark a function as a skill. Usable bare (``@skill``) or with options."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        summary, arg_docs = parse_docstring(fn.__doc__ or "")
        hints = get_type_hints(fn)
        fields: dict[str, Any] = {}
        context_param = None
        for pname, param in inspect.signature(fn).parameters.items():
            annotation = hints.get(pname, Any)
            if annotation is SkillContext:
                context_param = pname
                continue
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
        model = create_model(
            f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields
        )
        fn.__skill__ = Skill(  # type: ignore[attr-defined]
            name=name or fn.__name__,
            description=summary or spoken_name(fn.__name__),
            func=fn,
            args_model=model,
            risk=risk,
            timeout_s=timeout_s,
            read_only=read_only,
            patterns=tuple(_compile(p) for p in patterns),
            examples=tuple(examples),
            context_param=context_param,
            source=fn.__module__,
            slots=dict(slots or {}),
            plan=plan,
            topic=topic,
        )
        return fn

    return wrap(func) if func is not None else wrap
