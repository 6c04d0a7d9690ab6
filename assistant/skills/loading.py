"""What plugins are made of, for the registry's loaders: the skills and start hooks a module
exports, and a plugin's import within a time limit (one that hangs must not hang every
command that loads skills)."""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.skills.bounds import started
from assistant.skills.context import SkillContext
from assistant.skills.declare import Skill

ENTRY_POINT_GROUP = "assistant.skills"


def skills_in(obj: Any) -> list[Skill]:
    """Skills exported by a module, a decorated function, or a list of either."""
    if hasattr(obj, "__skill__"):
        return [obj.__skill__]
    if isinstance(obj, types.ModuleType):
        # __all__, when present, sets the order (the fast path tries patterns in order).
        names = getattr(obj, "__all__", None) or list(vars(obj))
        return [v.__skill__ for n in names if hasattr(v := getattr(obj, n), "__skill__")]
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in skills_in(item)]
    raise TypeError(f"{obj!r} exports no skills")


def starters_in(obj: Any) -> list[Callable[[SkillContext], None]]:
    """The :func:`on_start` functions exported by a module (or given directly)."""
    if getattr(obj, "__on_start__", False):
        return [obj]
    if isinstance(obj, types.ModuleType):
        names = getattr(obj, "__all__", None) or list(vars(obj))
        return [v for n in names if getattr(v := getattr(obj, n), "__on_start__", False)]
    return []


def exec_file(path: Path, module_name: str) -> types.ModuleType:
    """Run a skills folder's file as the module ``module_name`` (registered before it runs,
    as an import would)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError("not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # exec_module takes no import lock: a file that hangs blocks nothing else.
    spec.loader.exec_module(module)
    return module


def imported(loads: list[tuple[str, Callable[[], Any]]], timeout_s: float) -> list[Any]:
    """What each ``(name, load)``'s ``load()`` (a plugin's import) returns, in order, or the
    exception that stands for its failure, within ``timeout_s`` for all of them: they run at
    once, so that plugins which sleep or wait on the network at import cost one timeout, not
    one each. A hung import holds only its own module's import lock, so the others go on."""
    running = [started(load, f"import-{name}") for name, load in loads]
    deadline = time.monotonic() + timeout_s
    out: list[Any] = []
    for worker, box in running:
        worker.join(max(0.0, deadline - time.monotonic()))
        error = box.get("error")
        if worker.is_alive():
            out.append(TimeoutError(f"import took longer than {timeout_s:g} seconds"))
        elif isinstance(error, Exception):
            out.append(error)
        elif error is not None:  # a plugin's sys.exit() at import must not end the assistant
            out.append(RuntimeError(f"{type(error).__name__} raised at import"))
        else:
            out.append(box["value"])
    return out
