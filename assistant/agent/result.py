"""What a turn gives back: its reply, the calls it made, what kind of turn it was, and its
times. The text chat prints it, ``chat --json`` serialises it, the voice loop speaks it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from assistant.skills import ToolResult

TurnKind = Literal["command", "clarify", "confirm", "correction", "undo", "cancelled",
                   "unsupported", "about", "chat", "empty", "failed"]


@dataclass
class TurnMetrics:
    path: Literal["fast", "llm", "memory"]
    """'fast' when a skill pattern answered, 'memory' when a sentence of the user's notes did
    (``memory.answer = "quote"``), 'llm' when the model wrote the answer."""
    ttft_ms: float = 0.0
    """Turn start → first reply text (the whole reply on the fast path)."""
    total_ms: float = 0.0
    tokens: int = 0
    """Tokens generated, tool decisions included."""
    tokens_per_s: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens served from llama.cpp's KV cache (the stable prefix at work)."""
    retrieval_ms: float = 0.0
    """Time spent searching the memory (0 when the turn did not search)."""


@dataclass
class TurnResult:
    text: str
    tool_calls: list[ToolResult] = field(default_factory=list)
    metrics: TurnMetrics = field(default_factory=lambda: TurnMetrics("fast"))
    interrupted: bool = False
    sources: list[str] = field(default_factory=list)
    """Ids of the memory records quoted in the prompt (see ``assistant memory list``)."""
    kind: TurnKind = "command"
    """What the turn did: ran a command, asked a clarifying question ("clarify") or for a
    yes ("confirm"), amended or undid the last action, dropped a question ("cancelled"),
    said plainly that a domain is not served ("unsupported"), described itself ("about"),
    let the LLM answer ("chat"), or could not reach the model server ("failed": the text
    says why; the turn stays out of the history)."""

    def as_dict(self) -> dict[str, Any]:
        metrics = {k: round(v, 2) if isinstance(v, float) else v
                   for k, v in asdict(self.metrics).items()}
        return {"text": self.text, "kind": self.kind,
                "tool_calls": [c.as_dict() for c in self.tool_calls],
                "metrics": metrics, "interrupted": self.interrupted, "sources": self.sources}
