"""What plugins are made of, for the registry's loaders: the skills and start hooks a module
exports, and a plugin's import within a time limit (one that hangs must not hang every
command that loads skills)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from assistant.skills.bounds import on_thread
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


def imported(load: Callable[[], Any], timeout_s: float, name: str) -> Any:
    """What ``load()`` (a plugin's import) returns, within ``timeout_s``: one that sleeps or
    waits on the network at import must not hang every command that loads skills. A hung
    import holds only its own module's import lock, so later imports of other modules go on."""
    box = on_thread(load, timeout_s, f"import-{name}")
    if box is None:
        raise TimeoutError(f"import took longer than {timeout_s:g} seconds")
    error = box.get("error")
    if isinstance(error, Exception):
        raise error
    if error is not None:  # a plugin's sys.exit() at import must not end the assistant
        raise RuntimeError(f"{type(error).__name__} raised at import") from None
    return box["value"]
