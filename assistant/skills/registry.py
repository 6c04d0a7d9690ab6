"""The registry: the loaded skills, safe calls (validated, confirmed, time-limited, their
results bounded) and the audit log; :func:`build_registry` builds the one a running
assistant uses."""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant import AssistantError
from assistant.skills.bounds import audit_line, cut, on_thread, one_line_sentence, usable
from assistant.skills.context import SkillContext
from assistant.skills.declare import Plan, Skill, Undoable
from assistant.skills.loading import (
    ENTRY_POINT_GROUP,
    exec_file,
    imported,
    skills_in,
    starters_in,
)
from assistant.skills.words import content_words, describe_call, spoken_name
from assistant.text import clean


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
        self.warmers: list[Callable[[], None]] = []
        """What a host that keeps running may do before the first call, such as starting an
        MCP server's process (see :meth:`warm`); a one-shot command never does it."""
        self._audit_lock = threading.Lock()
        for s in skills:
            self.add(s)

    def add(self, s: Skill) -> None:
        if s.name in self.skills and self.skills[s.name].func is not s.func:
            self.errors.append(f"{s.source}: skill '{s.name}' already defined; kept the first")
            return
        self.skills[s.name] = s

    def load_entry_points(self) -> None:
        points = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        loaded = imported([(ep.name, ep.load) for ep in points], self.import_timeout_s)
        for ep, module in zip(points, loaded, strict=True):
            try:
                self._take(module)
            except Exception as exc:  # a broken plugin must never stop the assistant
                self.errors.append(f"plugin '{ep.name}' ({ep.value}): {type(exc).__name__}: {exc}")

    def load_dir(self, folder: Path) -> None:
        if not folder.is_dir():
            self.errors.append(f"skills folder not found: {folder}")
            return
        files = sorted(folder.glob("*.py"))
        names = [f"assistant_user_skills.{path.stem}" for path in files]
        loaded = imported([(path.stem, partial(exec_file, path, name))
                           for path, name in zip(files, names, strict=True)],
                          self.import_timeout_s)
        for path, name, module in zip(files, names, loaded, strict=True):
            try:
                self._take(module)
            except Exception as exc:
                sys.modules.pop(name, None)  # half-run: nothing may import it
                self.errors.append(f"{path}: {type(exc).__name__}: {exc}")

    def _take(self, loaded: Any) -> None:
        """Add the skills and start hooks of a loaded plugin (or raise its failure)."""
        if isinstance(loaded, Exception):
            raise loaded
        for s in skills_in(loaded):
            self.add(s)
        self.starters += starters_in(loaded)

    def start(self, context: SkillContext) -> None:
        """Run every :func:`on_start` function once; one that fails is reported, not fatal."""
        for starter in self.starters:
            try:
                starter(context)
            except Exception as exc:
                self.errors.append(f"{starter.__module__}.{starter.__name__} at start: "
                                   f"{type(exc).__name__}: {exc}")

    def warm(self) -> None:
        """Run every warmer, side by side, and return when all are done (each keeps its
        own time limit and reports its own failures)."""
        workers = [threading.Thread(target=w, name="warm", daemon=True) for w in self.warmers]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

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
        box = on_thread(run, timeout, f"skill-{s.name}")
        if box is None:
            return False, f"{s.name} took longer than {timeout:g} seconds, so I gave up on it."
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, AssistantError):  # already a sentence for the user
                return False, str(exc)
            return False, one_line_sentence(f"{s.name} failed: {type(exc).__name__}: {exc}")
        return usable(s.name, box.get("value"))

    def audit(self, record: dict[str, Any]) -> None:
        """Append ``record`` (a skill call, a memory search) to the JSONL audit log."""
        if self.audit_log is None:
            return
        line = audit_line({"ts": time.time(), **record})
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
