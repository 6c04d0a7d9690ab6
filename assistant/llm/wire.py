"""The OpenAI chat-completions wire format, as pure functions: the request body, the
server-sent events of a streamed answer, and what their chunks say (text, end, token
counts). :mod:`assistant.llm.remote` does the HTTP.

Servers differ in the details this module absorbs: llama.cpp's llama-server reports its
prompt cache in ``timings`` (``cache_n``), OpenAI, vLLM and Ollama in
``usage.prompt_tokens_details.cached_tokens``; llama-cpp-python's server sends no usage at
all. A JSON schema is asked for as ``response_format`` in one of two shapes (see
:data:`SCHEMA_SHAPES`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from assistant.llm.engine import Generation, Message

SchemaShape = Literal["json_schema", "json_object"]
SCHEMA_SHAPES: tuple[SchemaShape, ...] = ("json_schema", "json_object")
"""``response_format`` shapes, in the order they are tried: OpenAI's ``json_schema`` (vLLM,
Ollama, LM Studio, llama-server), then ``json_object`` with a ``schema`` (llama-cpp-python's
server, which refuses the first with HTTP 500; llama-server takes both)."""

CHARS_PER_TOKEN = 3.5
"""An English BPE token is about 3.5-4 characters: the lower bound, so that estimates err
towards fitting the context."""

MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message (role, start and end markers)."""


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt(messages: list[Message]) -> int:
    return sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


def response_format(schema: dict[str, Any], shape: SchemaShape) -> dict[str, Any]:
    if shape == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": True}}
    return {"type": "json_object", "schema": schema}


def request_body(model: str, messages: list[Message], *, max_tokens: int, temperature: float,
                 seed: int, repeat_penalty: float, json_schema: dict[str, Any] | None,
                 shape: SchemaShape) -> dict[str, Any]:
    """A streamed chat completion. The messages go as chat messages, so the server applies
    its model's own template. ``cache_prompt`` and ``repeat_penalty`` are llama.cpp's
    (llama-server, llama-cpp-python); other servers ignore fields they do not know."""
    body: dict[str, Any] = {
        "model": model, "messages": messages, "stream": True,
        "stream_options": {"include_usage": True}, "max_tokens": max_tokens,
        "temperature": temperature, "seed": seed, "repeat_penalty": repeat_penalty,
        "cache_prompt": True,
    }
    if json_schema is not None:
        body["response_format"] = response_format(json_schema, shape)
    return body


def sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event (its ``data:`` lines joined by newlines, as
    the SSE spec says); comments and other fields are skipped."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


@dataclass(frozen=True)
class Chunk:
    """What one ``chat.completion.chunk`` says."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None


def parse_chunk(data: str) -> Chunk:
    """One event's JSON. Raises ValueError when it is no chunk (the server said an error
    inside the stream, or sent something else)."""
    try:
        obj = json.loads(data)
    except json.JSONDecodeError:
        raise ValueError(f"not JSON: {data[:80]!r}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"not a chunk: {data[:80]!r}")
    if "error" in obj:
        error = obj["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise ValueError(f"the server reported: {message}")
    choices = obj.get("choices")
    if not isinstance(choices, list):
        raise ValueError(f"a chunk without choices: {data[:80]!r}")
    text, finish = "", None
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        finish = choice.get("finish_reason")
    usage = obj.get("usage") or {}
    timings = obj.get("timings") or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens", timings.get("cache_n"))
    prompt = usage.get("prompt_tokens")
    if prompt is None and "prompt_n" in timings:
        prompt = timings["prompt_n"] + timings.get("cache_n", 0)
    completion = usage.get("completion_tokens", timings.get("predicted_n"))
    return Chunk(text, finish, prompt, cached, completion)


def count_into(stats: Generation, chunk: Chunk) -> None:
    """The server's own token counts, where it gives them, over the client's."""
    if chunk.prompt_tokens is not None:
        stats.prompt_tokens = chunk.prompt_tokens
    if chunk.cached_tokens is not None:
        stats.cached_tokens = chunk.cached_tokens
    if chunk.completion_tokens is not None:
        stats.tokens = chunk.completion_tokens


def error_detail(body: bytes) -> str:
    """An error response's message, on one line and short."""
    text = body.decode("utf-8", "replace")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        error = obj.get("error", obj.get("detail", obj))
        text = str(error.get("message", error) if isinstance(error, dict) else error)
    line = " ".join(text.split())
    return line[:200] + ("..." if len(line) > 200 else "")
