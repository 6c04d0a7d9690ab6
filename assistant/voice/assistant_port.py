"""The voice loop's side of the :class:`~assistant.agent.Assistant`: the one place where its
hooks are wired (announcements and "stop" from skills, tool calls and memory searches
reported as events) and where the loop's questions about words (is it a command, may it be
answered early, what are the stop phrases) are put to it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant import fastpath
from assistant.agent import Assistant, TurnResult
from assistant.llm import ModelServerError
from assistant.speech.audio import Clock
from assistant.speech.words import TYPED, Heard
from assistant.voice.events import Retrieval, ToolCall

if TYPE_CHECKING:
    from assistant.memory.retrieval import Retrieved
    from assistant.skills import ToolResult


class AssistantPort:
    """``announce(text)`` speaks outside a turn (timers), ``stop()`` cuts the answer in
    progress, ``report`` receives the events of the answer being generated."""

    def __init__(self, assistant: Assistant, clock: Clock, *, announce: Callable[[str], None],
                 stop: Callable[[], None], report: Callable[[ToolCall | Retrieval], None]) -> None:
        self.assistant = assistant
        self.clock = clock
        self.report = report
        assistant.context.announce = announce
        assistant.context.stop = stop
        assistant.context.channel = "voice"
        assistant.on_tool = self._tool_called
        assistant.on_retrieval = self._retrieved
        stop_skill = assistant.registry.skills.get("stop")
        self.stop_phrases: tuple[str, ...] = tuple(stop_skill.examples) if stop_skill else ()
        """The stop skill's phrases ("stop", "be quiet", "cancel that", ...)."""

    def is_command(self, text: str) -> bool:
        return fastpath.match(self.assistant.registry, text) is not None

    def acts(self, text: str) -> bool:
        return fastpath.acts(self.assistant.registry, text)

    def speculable(self, words: str, heard: Heard = TYPED) -> bool:
        return self.assistant.speculable(words, heard)

    def turn(self, text: str, on_text: Callable[[str], None], remember: bool,
             heard: Heard = TYPED) -> TurnResult:
        return self.assistant.turn(text, on_text=on_text, remember=remember, heard=heard)

    def remember(self, text: str, result: TurnResult) -> None:
        self.assistant.remember(text, result)

    def mark_interrupted(self, heard: str) -> None:
        self.assistant.mark_interrupted(heard)

    def prefill(self, words: str) -> None:
        self.assistant.prefill(words)

    def warm_up(self) -> None:
        # A model server that is not up yet: the first LLM turn says so, aloud.
        with contextlib.suppress(ModelServerError):
            self.assistant.warm_up()

    def cancel(self) -> None:
        """Stop the answer being generated, at its next token."""
        self.assistant.cancel.set()

    def close(self) -> None:
        self.assistant.close()

    def _tool_called(self, call: ToolResult) -> None:
        self.report(ToolCall(self.clock.now(), call.name, call.arguments, call.result, call.ok))

    def _retrieved(self, found: Retrieved) -> None:
        self.report(Retrieval(self.clock.now(), found.ids,
                              [h.record.attribution for h in found.hits], round(found.ms, 1)))
