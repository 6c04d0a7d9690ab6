"""An MCP tool as a :class:`~assistant.skills.Skill`, and its result as data.

The skill is named ``<server>_<tool>`` (sanitised), described by the user's override or the
tool's own words cut short, and its risk follows the MCP spec's advice that annotations from
an untrusted server are not to be believed: ``confirm`` and not read-only unless the server
is trusted and the tool says ``readOnlyHint``; the user's per-tool overrides win. Its result
is the structured content when there is one, else the text blocks, truncated: data to say or
to quote, never instructions. ``is_error``, MCP errors and timeouts are ``ok: false`` and one
sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from string import Formatter
from typing import Any

import mcp_types

from assistant import AssistantError
from assistant.config import McpServerConfig, McpToolOverride
from assistant.mcp.pins import Definition
from assistant.mcp.schema import SchemaError, args_model, compile_schema, field_name
from assistant.skills import Pattern, Skill

MAX_RESULT_CHARS = 400
"""Longest result kept: it is read out, or quoted to a small model's short context."""
MAX_DESCRIPTION_CHARS = 160
"""Longest description shown to the model (prefill costs ~10 ms a token on a small CPU)."""
MAX_NAME_CHARS = 64


class ToolFailed(AssistantError):
    """A call the server answered with ``is_error``: the message is the sentence to say."""


def skill_name(server: str, tool: str) -> str:
    """``<server>_<tool>`` with anything but letters, digits and ``_`` made ``_``."""
    return re.sub(r"\W", "_", f"{server}_{tool}", flags=re.ASCII)[:MAX_NAME_CHARS]


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def result_text(result: mcp_types.CallToolResult) -> str:
    """The result as data: structured content (as compact JSON, or the value of a lone
    ``result`` field) if present, else the text blocks; truncated."""
    data: Any = result.structured_content
    if isinstance(data, dict) and list(data) == ["result"]:
        data = data["result"]  # the SDK wraps a plain return value this way
    if data is None:
        text = " ".join(b.text for b in result.content if isinstance(b, mcp_types.TextContent))
    else:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return shorten(text, MAX_RESULT_CHARS)


def _say(template: str, result: mcp_types.CallToolResult, text: str) -> str:
    """``template`` filled from the structured content's fields ({result}: the whole text);
    the plain text when a field it names is missing."""
    fields: dict[str, Any] = {"result": text}
    if isinstance(result.structured_content, dict):
        fields.update(result.structured_content)
    names = [n for _, n, _, _ in Formatter().parse(template) if n]
    if any(n not in fields for n in names):
        return text
    try:
        return shorten(template.format(**fields), MAX_RESULT_CHARS)
    except (ValueError, IndexError, AttributeError):
        return text


def _patterns(regexes: list[str]) -> tuple[Pattern, ...]:
    try:
        return tuple(Pattern(re.compile(r, re.IGNORECASE)) for r in regexes)
    except re.error as exc:
        raise SchemaError(f"pattern {exc.pattern!r} is not a regex: {exc}") from None


def tool_skill(defn: Definition, server: str, cfg: McpServerConfig,
               call: Callable[[str, dict[str, Any]], mcp_types.CallToolResult],
               startup_timeout_s: float) -> Skill:
    """The skill for one tool definition; raises SchemaError when its schema is unusable.
    ``call(tool, arguments)`` reaches the server (raising an AssistantError sentence)."""
    tool = str(defn.get("name", ""))
    if not tool:
        raise SchemaError("a tool has no name")
    compiled = compile_schema(defn.get("input_schema") or {"type": "object"})
    model = args_model(tool, compiled)
    props = compiled.get("properties", {})
    optional = set(props) - set(compiled.get("required", []))
    aliases = {field_name(p): p for p in props}
    override = cfg.tools.get(tool, McpToolOverride())
    annotations = defn.get("annotations") or {}
    trusted = cfg.trust == "trusted"
    claimed_read_only = trusted and bool(annotations.get("read_only_hint", False))
    read_only = override.read_only if override.read_only is not None else claimed_read_only
    risk = override.risk or ("safe" if claimed_read_only else "confirm")
    name = skill_name(server, tool)

    def run(**kwargs: Any) -> str:
        # None is how an optional argument that was left out arrives; the server wants it
        # left out, not null.
        arguments = {aliases[k]: v for k, v in kwargs.items()
                     if not (v is None and aliases[k] in optional)}
        result = call(tool, arguments)
        text = result_text(result)
        if result.is_error:
            raise ToolFailed(f"{name} failed: {text or 'the server gave no reason'}")
        return _say(override.say, result, text) if override.say else text

    description = override.description or shorten(
        str(defn.get("description") or defn.get("title") or tool.replace("_", " ")),
        MAX_DESCRIPTION_CHARS)
    return Skill(
        name=name, description=description, func=run, args_model=model, risk=risk,
        # Our own limits (start, then the call) are tighter: this one is the backstop.
        timeout_s=startup_timeout_s + cfg.timeout_s + 2.0,
        read_only=read_only, patterns=_patterns(override.patterns),
        source=f"mcp:{server}", topic=f"{server.replace('_', ' ')} tools", schema=compiled,
        trusted=trusted,
    )


def server_skills(defs: list[Definition] | tuple[Definition, ...], server: str,
                  cfg: McpServerConfig,
                  call: Callable[[str, dict[str, Any]], mcp_types.CallToolResult],
                  startup_timeout_s: float) -> tuple[list[Skill], list[str]]:
    """The skills of a server's allowed tools, and one line per tool skipped."""
    skills, skipped = [], []
    for defn in defs:
        tool = str(defn.get("name", ""))
        if (cfg.allowed_tools is not None and tool not in cfg.allowed_tools) or \
                tool in cfg.blocked_tools:
            continue
        try:
            skills.append(tool_skill(defn, server, cfg, call, startup_timeout_s))
        except SchemaError as exc:
            skipped.append(f"mcp server '{server}': tool '{tool}' skipped: {exc}")
    return skills, skipped
