"""What the model is shown and how it chooses tools: the system message (the stable,
cacheable prefix of every prompt), the assistant's account of itself, and one
grammar-constrained tool decision."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from assistant.llm import Engine, Generation, Message
from assistant.skills import SkillRegistry
from assistant.understand import about

TOOLS_PREAMBLE = (
    "You have tools. When one is needed, the reply is JSON "
    '{"calls": [{"name": ..., "arguments": {...}}]}, else {"calls": []}. '
    "After tool results arrive, answer in plain words.\nTools:\n"
)


def decision_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON schema of a tool decision: a (possibly empty) list of well-formed calls."""
    call_variants = [
        {"type": "object",
         "properties": {"name": {"const": t["name"]}, "arguments": t["parameters"]},
         "required": ["name", "arguments"]}
        for t in tools
    ]
    return {"type": "object",
            "properties": {"calls": {"type": "array", "items": {"anyOf": call_variants},
                                     "maxItems": 3}},
            "required": ["calls"]}


def system_message(prompt: str, tools: list[str], memory: str = "") -> Message:
    """System prompt, then tool signatures, then memory: the stable, cacheable prefix."""
    content = prompt
    if tools:
        content += "\n\n" + TOOLS_PREAMBLE + "\n".join(tools)
    if memory:
        content += "\n\n" + memory
    return {"role": "system", "content": content}


def capabilities(registry: SkillRegistry) -> str:
    """The system prompt's account of the assistant: what it can do, and today's date."""
    return (f"Today is {dt.date.today():%A, %B %-d, %Y}. You work offline: you have no "
            "internet, no live news, weather, prices or scores, and no smart-home control; "
            "never make those up. " + about.skills_sentence(registry))


def decide(engine: Engine, messages: list[Message], tools: list[dict[str, Any]],
           cancel: threading.Event | None = None) -> tuple[str, list[dict[str, Any]], Generation]:
    """One grammar-constrained tool decision: (raw JSON, the calls wanted, metrics).
    The calls are well-formed by construction; an empty list means 'answer directly'."""
    stats = Generation()
    raw = "".join(engine.stream(messages, max_tokens=256, temperature=0.0,
                                json_schema=decision_schema(tools), cancel=cancel, stats=stats))
    try:
        wanted = json.loads(raw)["calls"]
    except (json.JSONDecodeError, KeyError, TypeError):
        wanted = []  # cancelled mid-JSON or cut at max_tokens: answer without tools
    calls: list[dict[str, Any]] = []
    for call in wanted:  # small models repeat themselves; a repeated call runs once
        if call not in calls:
            calls.append(call)
    return raw, calls, stats
