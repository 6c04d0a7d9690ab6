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

Modules: ``declare`` (the decorator, :class:`Skill` and what a skill declares), ``context``
(:class:`SkillContext`), ``words`` (a skill in words), ``bounds`` (time, result and audit
limits), ``loading`` (plugins), ``registry`` (:class:`SkillRegistry`, :func:`build_registry`).
"""

from assistant.skills.bounds import AUDIT_ENTRY_BYTES, CUT_MARK, RESULT_CHARS, cut
from assistant.skills.context import SkillContext
from assistant.skills.declare import Pattern, Plan, Risk, Skill, Slot, Undoable, on_start, skill
from assistant.skills.loading import ENTRY_POINT_GROUP
from assistant.skills.registry import SkillRegistry, ToolResult, build_registry
from assistant.skills.words import content_words, describe_call, json_types, signature, spoken_name

__all__ = ["AUDIT_ENTRY_BYTES", "CUT_MARK", "ENTRY_POINT_GROUP", "RESULT_CHARS", "Pattern",
           "Plan", "Risk", "Skill", "SkillContext", "SkillRegistry", "Slot", "ToolResult",
           "Undoable", "build_registry", "content_words", "cut", "describe_call", "json_types",
           "on_start", "signature", "skill", "spoken_name"]
