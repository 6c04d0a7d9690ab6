"""Our skills as MCP tools: the pure mapping between a :class:`~assistant.skills.Skill` (and
the :class:`~assistant.skills.ToolResult` of a call) and the MCP SDK's types.

A tool is named, described and validated exactly as the skill is: its input schema is
``Skill.parameters``, the schema our own registry validates with. The annotations say what
the skill says of itself: ``readOnlyHint`` = ``read_only``, ``destructiveHint`` = ``risk ==
"confirm"`` (a skill that acts without asking, like a timer, only adds), so that a client
knows which calls to put to its user. Tools our registry took from other MCP servers are not
passed on. Nothing here talks to a client; see
:mod:`assistant.mcp.server`.
"""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult, TextContent, Tool, ToolAnnotations

from assistant.skills import Skill, ToolResult, spoken_name

CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Yes, do it",
                               "description": "Tick to let the assistant go ahead."}},
    "required": ["confirm"],
}
"""What a confirmation asks the client's user for (MCP form elicitation): one yes."""


def served(skill: Skill) -> bool:
    """Whether ``skill`` is one of ours to offer: not a tool of another MCP server that our
    registry passes on (:mod:`assistant.mcp.tools`), which would be a stranger's tool under
    our name, and a loop when a client of ours is also a server of ours."""
    return not skill.source.startswith("mcp:")


def tool_for(skill: Skill) -> Tool:
    """The MCP tool that calls ``skill``."""
    title = spoken_name(skill.name).capitalize()
    return Tool(
        name=skill.name,
        title=title,
        description=skill.description,
        input_schema=skill.parameters,
        annotations=ToolAnnotations(title=title, read_only_hint=skill.read_only,
                                    destructive_hint=skill.risk == "confirm",
                                    idempotent_hint=skill.read_only),
    )


def result_for(call: ToolResult) -> CallToolResult:
    """A call's outcome as the client sees it: the sentence the assistant would say (numbers
    as text), ``is_error`` when the call did not succeed."""
    return CallToolResult(content=[TextContent(type="text", text=str(call.result))],
                          is_error=not call.ok)


def unknown(name: str) -> CallToolResult:
    """The answer to a call of a tool we do not offer."""
    return CallToolResult(is_error=True, content=[TextContent(
        type="text", text=f"There is no tool called {name}.")])


def unconfirmed(name: str, question: str) -> CallToolResult:
    """The refusal of a ``confirm`` skill for a client that cannot ask its user (it declared
    no elicitation): nothing ran. The question says what the call would have done."""
    return CallToolResult(is_error=True, content=[TextContent(type="text", text=(
        f"Nothing was done: {name} needs the user's yes to \"{question}\", and this MCP "
        "client cannot ask for it (it does not support elicitation); use a client that "
        "does, or ask the assistant itself."))])


def confirmed(answer: dict[str, Any] | None) -> bool:
    """Whether an accepted elicitation's form says yes (``{"confirm": true}``, nothing less)."""
    return (answer or {}).get("confirm") is True
