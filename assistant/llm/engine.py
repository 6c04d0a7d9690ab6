"""What every LLM backend is to the rest of the assistant: the :class:`Engine` protocol, the
chat :data:`Message`, the :class:`Generation` metrics a stream fills in, and the errors.

Two backends satisfy it: :class:`assistant.llm.local.LLMEngine` (llama.cpp in this process,
the default) and :class:`assistant.llm.remote.RemoteEngine` (an OpenAI-compatible server).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from assistant import AssistantError

Message = dict[str, str]
"""A chat message: {"role": "system" | "user" | "assistant", "content": text}."""


class LLMError(AssistantError):
    """The model cannot be loaded or used."""


class ModelServerError(LLMError):
    """A remote model server failed a request (down, killed mid-answer, an HTTP error, a
    malformed stream). Unlike a broken model file it is passing: the turn says the message
    and the next one tries again."""


@dataclass
class Generation:
    """Metrics of one generation, filled in while it streams."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens whose KV cache was reused from the previous generation."""
    tokens: int = 0
    """Completion tokens produced."""
    ttft_ms: float = 0.0
    """Call → first text out (prefill of the uncached prompt plus one token)."""
    total_ms: float = 0.0
    cancelled: bool = False
    text: str = ""

    @property
    def tokens_per_s(self) -> float:
        decode_s = (self.total_ms - self.ttft_ms) / 1000
        return (self.tokens - 1) / decode_s if self.tokens > 1 and decode_s > 0 else 0.0


class Engine(Protocol):
    """A chat model the agent can talk to. Implementations are safe to share across
    threads (conversations of several rooms share one)."""

    n_ctx: int
    """The context window, in tokens."""

    @property
    def where(self) -> str:
        """Where the model runs, for people: a file path, or a server's URL and model."""
        ...

    def load(self) -> None:
        """Do now what the first generation would otherwise do first (load the weights)."""
        ...

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 200,
        temperature: float = 0.3,
        json_schema: dict[str, Any] | None = None,
        repeat_penalty: float = 1.1,
        cancel: threading.Event | None = None,
        stats: Generation | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text pieces as they are generated; ``json_schema`` constrains
        the reply to JSON of that schema; ``cancel`` stops it before the next piece;
        closing the iterator stops the generation too; ``stats`` is filled in."""
        ...

    def complete(self, messages: list[Message], **kwargs: Any) -> tuple[str, Generation]:
        """The whole reply of :meth:`stream` at once, with its metrics."""
        ...

    def count(self, messages: list[Message]) -> int:
        """Prompt tokens of ``messages`` (an estimate where there is no local tokenizer)."""
        ...

    def count_text(self, text: str) -> int:
        """Tokens of a piece of text (for budgets such as the memory's passages)."""
        ...

    def fit(self, messages: list[Message], reserve: int) -> list[Message]:
        """Drop the oldest turns (never the system message or the last user message) until
        the prompt plus ``reserve`` tokens fits the context; an over-long last message
        keeps its end."""
        ...

    def prefill(self, messages: list[Message]) -> None:
        """Read the prompt of ``messages`` ahead of the answer, the last message still open
        for more words (a live transcript), where the backend can; else nothing."""
        ...


def fit_messages(messages: list[Message], budget: int, count: Callable[[list[Message]], int],
                 keep_end: Callable[[str, int], str]) -> list[Message]:
    """:meth:`Engine.fit` with a backend's own ``count`` of a prompt's tokens and
    ``keep_end(text, tokens)``: ``text`` without (at least) its first ``tokens`` tokens."""
    system, turns = messages[:1], list(messages[1:])
    while len(turns) > 1 and count(system + turns) > budget:
        turns.pop(0)
    over = count(system + turns) - budget
    if over > 0:
        last = turns[-1]
        turns[-1] = {**last, "content": keep_end(last["content"], over)}
    return system + turns


def complete(engine: Engine, messages: list[Message], **kwargs: Any) -> tuple[str, Generation]:
    """:meth:`Engine.complete` for any backend: the streamed pieces joined."""
    stats = Generation()
    text = "".join(engine.stream(messages, stats=stats, **kwargs))
    return text, stats
