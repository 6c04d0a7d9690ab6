"""The turns about commands: running one the user gave, asking for a missing value or for a
yes, taking the answer to that question, and undoing or amending the last action.

The conversation's :class:`~assistant.understand.dialogue.Dialogue` (the waiting question,
the last action) belongs to its :class:`~assistant.agent.Assistant`; these are the turn's
paths that write it. Skills run through ``Assistant.run_skill``, which tells its hooks and
records the last action (the registry audits each call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.agent.result import TurnKind, TurnResult
from assistant.fastpath import normalise
from assistant.skills import Skill, SkillContext, SkillRegistry, ToolResult, spoken_name
from assistant.understand.classify import Understanding, classify, missing_slot, read_slots
from assistant.understand.dialogue import Action, Dialogue, Proposal, Question, is_no, is_yes

Call = Callable[[str, dict[str, Any], bool], ToolResult]
"""Run a skill: (name, arguments, confirmed: the user said yes to exactly this call)."""


def speakable(call: ToolResult) -> str:
    """A call's result as words to say."""
    if isinstance(call.result, str):
        return call.result
    return str(call.result) if call.ok else "Sorry, that didn't work."


class Commands:
    """One conversation's command paths. ``asks_in_words()``: whether a ``confirm`` skill is
    put to the user as a question in the conversation (no host callback answers for them)."""

    def __init__(self, registry: SkillRegistry, context: SkillContext, dialogue: Dialogue,
                 call: Call, *, asks_in_words: Callable[[], bool]) -> None:
        self.registry = registry
        self.context = context
        self.dialogue = dialogue
        self.call = call
        self.asks_in_words = asks_in_words

    def run(self, s: Skill, arguments: dict[str, Any],
            kind: TurnKind = "command") -> TurnResult:
        """Run a command the user gave in words; one that needs a yes is asked first."""
        if s.risk == "confirm" and self.asks_in_words():
            return self.propose(s, arguments)
        call = self.call(s.name, arguments, False)
        return TurnResult(speakable(call), [call], kind=kind)

    def propose(self, s: Skill, arguments: dict[str, Any]) -> TurnResult:
        """Put a call to the user as a question; the next utterance's yes runs it."""
        try:
            plan = self.registry.plan(s.name, arguments, self.context)
        except Exception as exc:  # a plan is the skill's code: its failure is one sentence
            return TurnResult(f"Sorry, I couldn't prepare that: {exc}.", kind="command")
        if isinstance(plan, str):  # nothing to do ("I have nothing saved about that.")
            return TurnResult(plan, kind="command")
        self.dialogue.pending = Proposal(s.name, plan.arguments)
        return TurnResult(plan.question, kind="confirm")

    def misheard(self, s: Skill, arguments: dict[str, Any], heard_as: str,
                 question: str = "Did you mean") -> TurnResult:
        """Words that sound like a command, or a command heard with unsure words: ask
        whether it was meant; a yes runs it."""
        self.dialogue.pending = Proposal(s.name, arguments, heard_as=heard_as)
        return TurnResult(f"{question}: {heard_as}?", kind="clarify")

    def ask(self, s: Skill, known: dict[str, Any], slot: str, tries: int = 1,
            prefix: str = "") -> TurnResult:
        """Ask for the value a command lacks; the next utterance fills it."""
        question = prefix + s.slots[slot].ask
        self.dialogue.pending = Question(s.name, known, slot, tries=tries)
        return TurnResult(question, kind="clarify")

    def reply_to(self, pending: Question | Proposal, text: str) -> TurnResult | None:
        """The answer to a waiting question, or None when ``text`` is a new request."""
        norm = normalise(text)
        if isinstance(pending, Proposal):
            if is_yes(norm) and pending.heard_as and pending.skill in self.registry.skills:
                return self.run(self.registry.skills[pending.skill], pending.arguments)
            if is_yes(norm):
                call = self.call(pending.skill, pending.arguments, True)
                return TurnResult(speakable(call), [call], kind="command")
            if is_no(norm):
                return TurnResult("Okay, I won't.", kind="cancelled")
            return None
        s = self.registry.skills.get(pending.skill)
        if s is None:
            return None
        if is_no(norm):
            return TurnResult("Okay, never mind.", kind="cancelled")
        known = {**pending.arguments, **{k: v for k, v in read_slots(s, norm).items()
                                         if k not in pending.arguments or k == pending.slot}}
        if pending.slot in known:
            slot = missing_slot(s, known)
            if slot is not None:
                return self.ask(s, known, slot)
            return self.run(s, known)
        if classify(self.registry, text).kind != "chat" or len(norm.split()) > 4:
            return None  # a new request, not an answer: the question is dropped
        if pending.tries < 2:
            return self.ask(s, pending.arguments, pending.slot, pending.tries + 1,
                            prefix="Sorry, I didn't get that. ")
        return TurnResult("Sorry, I still didn't get it, so I've left it.", kind="cancelled")

    def correct(self, u: Understanding, last: Action) -> TurnResult | None:
        """Undo or amend the last action; None when the words are not about it after all."""
        if u.kind == "undo":
            return TurnResult(self.undo(last), kind="undo")
        s = self.registry.skills.get(last.skill)
        redo = classify(self.registry, u.rest)
        if redo.kind == "command" and redo.skill is not None and not redo.skill.read_only:
            undone = self.undo(last) if last.undo else ""
            result = self.run(redo.skill, redo.arguments, kind="correction")
            result.text = " ".join(p for p in (undone, result.text) if p)
            return result
        new = read_slots(s, u.rest) if s is not None else {}
        if s is None or not new:
            return None
        if last.undo is None:
            return TurnResult(f"Sorry, I can't change that: {spoken_name(last.skill)} "
                              "can't be undone.", kind="correction")
        self.undo(last, quiet=True)
        result = self.run(s, {**last.arguments, **new}, kind="correction")
        if result.tool_calls and result.tool_calls[0].ok:
            result.text = "Changed it. " + result.text
        return result

    def undo(self, last: Action, quiet: bool = False) -> str:
        """Undo the last action; what was said about it ("" when ``quiet`` and it worked)."""
        self.dialogue.last = None
        if last.undo is None:
            return f"Sorry, I can't undo {spoken_name(last.skill)}."
        try:
            said = last.undo()
        except Exception as exc:
            return f"Sorry, I couldn't undo that: {exc}."
        self.registry.audit({"kind": "undo", "name": last.skill, "arguments": last.arguments,
                             "result": said})
        return "" if quiet else said
