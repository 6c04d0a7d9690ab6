"""The skill registry: plain Python functions the assistant can call, by pattern or by the LLM.

A skill is a function (sync or async) decorated with :func:`skill`. Its name, description and
JSON schema come from the signature, type hints and docstring (an ``Args:`` section gives each
parameter its description). Arguments are validated by pydantic before every call; failures,
exceptions, timeouts and junk results become a short explanation, never a crash.

A parameter annotated :class:`SkillContext` is not part of the schema: the registry passes the
running assistant's context (data folder, an ``announce`` callback for asynchronous messages,
with ``announce_in`` and ``room`` to say them in the room that asked, ``stop`` to cut the
current answer short, and a dict of shared services).

Skills are found in three places: the entry-point group ``assistant.skills`` (the built-in
``skills`` package is registered there like any third-party plugin), and the ``.py`` files in
the folders of ``skills.dirs``. A plugin that fails to load, or takes longer than
``skills.import_timeout_s`` to import, is reported and skipped.

What a skill returns is bounded where it leaves the registry: a result is cut at
:data:`RESULT_CHARS` characters (said plainly), an audit entry at :data:`AUDIT_ENTRY_BYTES`.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import inspect
import json
import math
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from assistant import AssistantError
from assistant.text import clean
from assistant.timeline import SkillClock, WallClock

ENTRY_POINT_GROUP = "assistant.skills"
Risk = Literal["safe", "confirm"]
RESULT_CHARS = 2000
"""Longest skill result the turn sees, says and prints (a 10 MB result went whole to stdout
and the audit log on every call)."""
AUDIT_ENTRY_BYTES = 4096
"""Longest line of the audit log, arguments and result included."""
CUT_MARK = " …(cut)"


@dataclass
class SkillContext:
    """What a running assistant lends to skills."""

    data_dir: Path
    """Folder for a skill's persistent files."""
    announce: Callable[[str], None] = print
    """Say something outside a turn (a timer going off), through whatever output is active."""
    stop: Callable[[], None] = lambda: None
    """Stop speaking and cancel the answer in progress."""
    services: dict[str, Any] = field(default_factory=dict)
    """Objects shared across calls within one process, e.g. the timer table."""
    channel: str = "chat"
    """How the current request arrived: "chat", "voice" or "cli" (recorded with facts)."""
    memory: Callable[[], Any] | None = None
    """Returns the user's memory store (:class:`assistant.memory.MemoryStore`), opening it on
    first use; None where the host has no memory."""
    room: str = ""
    """The room the current request came from ("" = this device)."""
    announce_in: Callable[[str, str], None] | None = None
    """Say ``text`` in ``room`` (``announce_in(room, text)``): the hub routes it to that room's
    satellite. None: everything goes to :attr:`announce`."""
    clock: SkillClock = field(default_factory=WallClock)
    """The time that timers, alarms and "what time is it" follow: the wall clock, or a file
    run's input timeline (see :mod:`assistant.timeline`). Look it up when it is needed."""

    def announce_to(self, room: str, text: str) -> None:
        """Say ``text`` in ``room`` through :attr:`announce_in` when there is one and ``room``
        is not "", else through :attr:`announce`. Both are looked up now: a host may replace
        them after the skills (and their timers) were set up."""
        if room and self.announce_in is not None:
            self.announce_in(room, text)
        else:
            self.announce(text)

    def service(self, key: str, factory: Callable[[], Any]) -> Any:
        """The shared object under ``key``, created by ``factory`` on first use."""
        if key not in self.services:
            self.services[key] = factory()
        return self.services[key]


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


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
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
        summary, arg_docs = _parse_docstring(fn.__doc__ or "")
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


@dataclass
class ToolResult:
    """The outcome of one skill call, as logged and as returned in ``--json`` output."""

    name: str
    arguments: dict[str, Any]
    result: Any
    """The skill's return value (JSON-able), or a short explanation when ``ok`` is False."""
    ok: bool
    ms: float
    undo: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    """How to take the call back, when the skill returned :class:`Undoable`."""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, "result": self.result,
                "ok": self.ok, "ms": round(self.ms, 2)}


def _skills_in(obj: Any) -> list[Skill]:
    """Skills exported by a module, a decorated function, or a list of either."""
    if hasattr(obj, "__skill__"):
        return [obj.__skill__]
    if isinstance(obj, types.ModuleType):
        # __all__, when present, sets the order (the fast path tries patterns in order).
        names = getattr(obj, "__all__", None) or list(vars(obj))
        return [v.__skill__ for n in names if hasattr(v := getattr(obj, n), "__skill__")]
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in _skills_in(item)]
    raise TypeError(f"{obj!r} exports no skills")


def _starters_in(obj: Any) -> list[Callable[[SkillContext], None]]:
    """The :func:`on_start` functions exported by a module (or given directly)."""
    if getattr(obj, "__on_start__", False):
        return [obj]
    if isinstance(obj, types.ModuleType):
        names = getattr(obj, "__all__", None) or list(vars(obj))
        return [v for n in names if getattr(v := getattr(obj, n), "__on_start__", False)]
    return []


def _usable(name: str, value: Any) -> tuple[bool, Any]:
    """A skill's return value as (ok, text or Undoable): text and numbers are answers; None,
    containers and other objects are not (they would be read out as 'null' or JSON)."""
    if isinstance(value, str | Undoable):
        return True, value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return True, value
    if value is None:
        return False, f"{name} gave no answer."
    return False, f"{name} returned something I can't use ({type(value).__name__})."


def _sentence(text: str) -> str:
    """``text`` on one line, ending like a sentence: it is said to the user."""
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."


def cut(text: str, limit: int = RESULT_CHARS) -> str:
    """``text``, or its first ``limit`` characters and :data:`CUT_MARK` (said with the rest
    of the answer: the user hears that there was more)."""
    return text if len(text) <= limit else text[:limit] + CUT_MARK


def _audit_line(record: dict[str, Any], limit: int = AUDIT_ENTRY_BYTES) -> str:
    """``record`` as one JSON line of at most ``limit`` bytes. One that is longer keeps its
    size (``cut_bytes``), its ts, kind, name and ok while they fit in half the line, and the
    start of its JSON text."""
    line = json.dumps(record, default=str)  # ASCII (ensure_ascii): characters are bytes
    if len(line) <= limit:
        return line
    head: dict[str, Any] = {"cut_bytes": len(line)}
    for key in ("ts", "kind", "name", "ok"):  # each only while they fit in half the line
        if key in record and len(json.dumps({**head, key: record[key]}, default=str)) <= limit // 2:
            head[key] = record[key]
    keep = limit
    while True:  # escaping the kept text makes it longer: shrink by the excess until it fits
        short = json.dumps({**head, "record": line[:keep]}, default=str)
        if len(short) <= limit or keep == 0:
            return short
        keep = max(0, keep - (len(short) - limit))


def _on_thread(fn: Callable[[], Any], timeout_s: float, name: str) -> dict[str, Any] | None:
    """``fn()`` on a daemon thread, waited for at most ``timeout_s``: ``{"value": ...}``,
    ``{"error": exception}``, or None when it is still running. It is then abandoned: a
    daemon thread cannot block exit."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # a plugin's sys.exit() or Ctrl-C is its failure
            box["error"] = exc

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return None if worker.is_alive() else box


def _imported(load: Callable[[], Any], timeout_s: float, name: str) -> Any:
    """What ``load()`` (a plugin's import) returns, within ``timeout_s``: one that sleeps or
    waits on the network at import must not hang every command that loads skills. A hung
    import holds only its own module's import lock, so later imports of other modules go on."""
    box = _on_thread(load, timeout_s, f"import-{name}")
    if box is None:
        raise TimeoutError(f"import took longer than {timeout_s:g} seconds")
    error = box.get("error")
    if isinstance(error, Exception):
        raise error
    if error is not None:  # a plugin's sys.exit() at import must not end the assistant
        raise RuntimeError(f"{type(error).__name__} raised at import") from None
    return box["value"]


class SkillRegistry:
    """Holds the loaded skills, calls them safely and writes the audit log."""

    def __init__(
        self,
        skills: Iterable[Skill] = (),
        *,
        default_timeout_s: float = 5.0,
        audit_log: Path | None = None,
        import_timeout_s: float = 5.0,
    ) -> None:
        self.skills: dict[str, Skill] = {}
        self.errors: list[str] = []
        """One line per plugin that failed to load."""
        self.default_timeout_s = default_timeout_s
        self.import_timeout_s = import_timeout_s
        self.audit_log = audit_log
        self.starters: list[Callable[[SkillContext], None]] = []
        """The loaded modules' :func:`on_start` functions (see :meth:`start`)."""
        self._audit_lock = threading.Lock()
        for s in skills:
            self.add(s)

    def add(self, s: Skill) -> None:
        if s.name in self.skills and self.skills[s.name].func is not s.func:
            self.errors.append(f"{s.source}: skill '{s.name}' already defined; kept the first")
            return
        self.skills[s.name] = s

    def load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = _imported(ep.load, self.import_timeout_s, ep.name)
                for s in _skills_in(loaded):
                    self.add(s)
                self.starters += _starters_in(loaded)
            except Exception as exc:  # a broken plugin must never stop the assistant
                self.errors.append(f"plugin '{ep.name}' ({ep.value}): {type(exc).__name__}: {exc}")

    def load_dir(self, folder: Path) -> None:
        if not folder.is_dir():
            self.errors.append(f"skills folder not found: {folder}")
            return
        for path in sorted(folder.glob("*.py")):
            module_name = f"assistant_user_skills.{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                # exec_module takes no import lock: a file that hangs blocks nothing else.
                _imported(partial(spec.loader.exec_module, module), self.import_timeout_s,
                          path.stem)
                for s in _skills_in(module):
                    self.add(s)
                self.starters += _starters_in(module)
            except Exception as exc:
                sys.modules.pop(module_name, None)  # half-run: nothing may import it
                self.errors.append(f"{path}: {type(exc).__name__}: {exc}")

    def start(self, context: SkillContext) -> None:
        """Run every :func:`on_start` function once; one that fails is reported, not fatal."""
        for starter in self.starters:
            try:
                starter(context)
            except Exception as exc:
                self.errors.append(f"{starter.__module__}.{starter.__name__} at start: "
                                   f"{type(exc).__name__}: {exc}")

    def remove(self, names: Iterable[str]) -> None:
        for n in names:
            self.skills.pop(n, None)

    def tool_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        chosen = self.skills if names is None else names
        return [self.skills[n].tool_schema() for n in chosen]

    def relevant(self, text: str, k: int = 3) -> list[str]:
        """Up to ``k`` skill names sharing content words with ``text``, best first: the
        tools a small model is allowed to pick from (an empty list means just talk)."""
        words = content_words(text)
        scored = [(len(words & s.keywords), n) for n, s in self.skills.items()]
        return [n for score, n in sorted(scored, key=lambda x: -x[0]) if score > 0][:k]

    def call(
        self,
        name: str,
        arguments: dict[str, Any],
        context: SkillContext,
        confirm: Callable[[str], bool] | None = None,
    ) -> ToolResult:
        """Validate, confirm if needed, run with a time limit, log. Never raises."""
        start = time.perf_counter()
        ok, value = self._call(name, arguments, context, confirm)
        undo = value.undo if isinstance(value, Undoable) else None
        text = value.text if isinstance(value, Undoable) else value
        if isinstance(text, str):  # a failure's sentence may be long too (an exception's text)
            text = cut(text)
        tool_result = ToolResult(name, arguments, text, ok,
                                 (time.perf_counter() - start) * 1000, undo=undo)
        self.audit(tool_result.as_dict())
        return tool_result

    def _call(self, name: str, arguments: dict[str, Any], context: SkillContext,
              confirm: Callable[[str], bool] | None) -> tuple[bool, Any]:
        s = self.skills.get(name)
        if s is None:
            return False, f"I don't have a skill called {name}."
        if not isinstance(arguments, dict):
            return False, f"Invalid arguments for {name}: expected an object."
        try:
            args = s.args_model.model_validate(arguments)
        except ValidationError as err:
            first = err.errors()[0]
            # an argument's name is the caller's text: one line, short
            where = clean(".".join(str(p) for p in first["loc"]))[:60] or "arguments"
            return False, f"Invalid arguments for {name}: {where}: {first['msg']}."
        kwargs = {k: getattr(args, k) for k in type(args).model_fields}
        if s.risk == "confirm" and confirm is not None:
            plan = self.plan(name, arguments, context)
            if isinstance(plan, str):
                return True, plan
            if not confirm(plan.question):
                return False, f"Okay, I did not {spoken_name(name)}."
            kwargs = _kwargs(s, plan.arguments)
        elif s.risk == "confirm":
            return False, f"I need you to confirm before I {spoken_name(name)}."
        if s.context_param:
            kwargs[s.context_param] = context
        return self._run(s, kwargs)

    def plan(self, name: str, arguments: dict[str, Any], context: SkillContext) -> Plan | str:
        """What calling ``name`` with ``arguments`` would do, as a question to confirm (or a
        sentence when there is nothing to do). The arguments must be valid."""
        s = self.skills[name]
        if s.plan is None:
            return Plan(f"Should I {describe_call(s, arguments)}?", dict(arguments))
        kwargs = _kwargs(s, arguments)
        if s.context_param:
            kwargs[s.context_param] = context
        return s.plan(**kwargs)

    def _run(self, s: Skill, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        def run() -> Any:
            value = s.func(**kwargs)
            return asyncio.run(_await(value)) if inspect.isawaitable(value) else value

        timeout = s.timeout_s if s.timeout_s is not None else self.default_timeout_s
        box = _on_thread(run, timeout, f"skill-{s.name}")
        if box is None:
            return False, f"{s.name} took longer than {timeout:g} seconds, so I gave up on it."
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, AssistantError):  # already a sentence for the user
                return False, str(exc)
            return False, _sentence(f"{s.name} failed: {type(exc).__name__}: {exc}")
        return _usable(s.name, box.get("value"))

    def audit(self, record: dict[str, Any]) -> None:
        """Append ``record`` (a skill call, a memory search) to the JSONL audit log."""
        if self.audit_log is None:
            return
        line = _audit_line({"ts": time.time(), **record})
        try:
            with self._audit_lock:
                self.audit_log.parent.mkdir(parents=True, exist_ok=True)
                with self.audit_log.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        except OSError as exc:  # a full disk must not cost the user the answer
            self.errors.append(f"audit log {self.audit_log}: {exc}")


def _kwargs(s: Skill, arguments: dict[str, Any]) -> dict[str, Any]:
    """Validated keyword arguments for ``s`` (raises pydantic's ValidationError)."""
    args = s.args_model.model_validate(arguments)
    return {k: getattr(args, k) for k in type(args).model_fields}


def describe_call(s: Skill, arguments: dict[str, Any]) -> str:
    """A call in words, e.g. "set timer with seconds 3600 and label pasta"."""
    said = [f"{k.replace('_', ' ')} {v}" for k, v in arguments.items()
            if v not in (None, "", [], {})]
    return spoken_name(s.name) + (" with " + " and ".join(said) if said else "")


async def _await(value: Any) -> Any:
    return await value


def build_registry(skills_cfg: Any, data_dir: Path, mcp_cfg: Any = None) -> SkillRegistry:
    """The registry a running assistant uses: entry points, user folders, then the tools of
    the MCP servers in ``mcp_cfg`` (the ``[mcp]`` section), minus disabled."""
    registry = SkillRegistry(
        default_timeout_s=skills_cfg.timeout_s, audit_log=data_dir / "audit.jsonl",
        import_timeout_s=skills_cfg.import_timeout_s,
    )
    registry.load_entry_points()
    for folder in skills_cfg.dirs:
        registry.load_dir(Path(folder).expanduser())
    if mcp_cfg is not None and mcp_cfg.servers:
        from assistant.mcp.servers import add_servers  # the SDK loads only when configured

        add_servers(registry, mcp_cfg, data_dir)
    registry.remove(skills_cfg.disabled)
    return registry
