"""One conversational turn, end to end: decide what kind of request it is, then answer it.

``Assistant.turn(text)`` is the whole brain that the text chat and the voice loop share:

0. A question the assistant asked is answered first (a clarification's missing value, a
   yes or no to a proposed call: :mod:`assistant.understand.dialogue`). Then the utterance
   is classified (:mod:`assistant.understand.classify`): a question about the assistant, an
   undo or correction of the last action, a command, a near-command (ask for what is
   missing), a domain no skill serves (say so), or chat. Only commands the user gave, or
   calls the user confirmed, change anything.
1. The fast path (:mod:`assistant.fastpath`) matches skill patterns; a hit runs the skill and
   its result is the reply, with no LLM at all.
2. Otherwise the LLM decides, under a JSON-schema grammar, which tools to call (possibly
   none). Read-only calls run, once per skill; a call that acts is grounded in the user's
   words (:mod:`assistant.understand.grounding`) and put to the user as a question unless
   the model is trusted with tools (``llm.tools_trusted``); results go back to the model, up
   to ``llm.max_tool_steps`` rounds.
3. Unless the utterance is small talk, the memory is searched
   (:mod:`assistant.memory.retrieval`). When a sentence of the user's notes answers the
   question closely enough, it is the answer (``memory.answer = "quote"``). Otherwise the
   relevant passages are quoted in the user message for the answer (never for the tool
   decision: a document cannot choose a tool).
   The model streams the spoken answer, led by where the passages came from ("From your
   note on ...: ").
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assistant import AssistantError
from assistant.config import Config
from assistant.fastpath import normalise
from assistant.llm import Engine, Generation, Message, ModelServerError, build_engine
from assistant.skills import (
    Skill,
    SkillContext,
    SkillRegistry,
    ToolResult,
    build_registry,
    spoken_name,
)
from assistant.text import MAX_TURN_CHARS, bounded
from assistant.understand import about
from assistant.understand.classify import Understanding, classify, missing_slot, read_slots
from assistant.understand.dialogue import Action, Dialogue, Proposal, Question, is_no, is_yes
from assistant.understand.domains import default_matcher
from assistant.understand.grounding import grounded_parameters, ungrounded

if TYPE_CHECKING:  # chromadb takes ~2 s to import: loaded on first use, off the fast path
    from assistant.memory import MemoryStore
    from assistant.memory.retrieval import Retrieved

TOOLS_PREAMBLE = (
    "You have tools. When one is needed, the reply is JSON "
    '{"calls": [{"name": ..., "arguments": {...}}]}, else {"calls": []}. '
    "After tool results arrive, answer in plain words.\nTools:\n"
)


TurnKind = Literal["command", "clarify", "confirm", "correction", "undo", "cancelled",
                   "unsupported", "about", "chat", "empty", "failed"]
_ASKS_FOR_MORE = re.compile(r"\b(?:story|stories|poem|essay|list|lists|steps|explain|describe|"
                            r"in detail|detailed|at length|long|longer|more about|everything)\b",
                            re.IGNORECASE)


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


class Assistant:
    """The conversation state and everything a turn needs. Models load lazily, once."""

    def __init__(
        self,
        config: Config,
        *,
        announce: Callable[[str], None] = print,
        confirm: Callable[[str], bool] | None = None,
        registry: SkillRegistry | None = None,
        engine: Engine | None = None,
        memory: MemoryStore | None = None,
    ) -> None:
        self.config = config
        data_dir = config.paths.data
        self.registry = registry or build_registry(config.skills, data_dir, config.mcp)
        self.cancel = threading.Event()
        self.context = SkillContext(data_dir=data_dir, announce=announce, stop=self.cancel.set,
                                    memory=self.memory)
        self.confirm = confirm
        self.history: list[Message] = []
        self._engine = engine
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tool")
        self.on_tool: Callable[[ToolResult], None] | None = None
        """Called after every skill call (the voice loop logs it as an event)."""
        self.on_retrieval: Callable[[Retrieved], None] | None = None
        """Called after every memory search of a turn (the voice loop logs it)."""
        self.memory_error = ""
        """Why the memory could not be opened, if it could not ("" otherwise)."""
        self._memory: MemoryStore | None = memory
        self._owns_memory = memory is None
        self._memory_lock = threading.Lock()
        self.dialogue = Dialogue(timeout_s=config.skills.dialogue_timeout_s)
        """The waiting question and the last action; written only by :meth:`turn`."""
        self._started = threading.Lock()
        self._skills_started = False

    def start_skills(self) -> None:
        """Run the skills' start hooks once (reminders that fell due while the assistant was
        off announce themselves), on the first turn or warm-up: by then a host such as the
        voice loop has set ``context.announce`` to speak."""
        with self._started:
            if not self._skills_started:
                self._skills_started = True
                self.registry.start(self.context)

    def conversation(self, room: str = "") -> Assistant:
        """Another conversation with the same skills, model and memory (a room, or one of
        Home Assistant's conversation ids): its own history, waiting question and cancel
        flag, so that conversations can take turns at once (the model decodes for one at a
        time, in order of arrival). The skills' shared objects, such as the timer table, are
        this one's, and their start hooks have run here once. ``room``: where its requests
        come from (a timer set there is announced there)."""
        self.start_skills()
        store = None
        if self.config.memory.enabled and not self.memory_error:
            try:
                store = self.memory()
            except AssistantError as exc:
                self.memory_error = str(exc)
        other = Assistant(self.config, announce=self.context.announce, confirm=self.confirm,
                          registry=self.registry, engine=self.engine, memory=store)
        other.memory_error = self.memory_error
        other.context.services = self.context.services
        other.context.channel = self.context.channel
        other.context.room, other.context.announce_in = room, self.context.announce_in
        other.on_tool, other.on_retrieval = self.on_tool, self.on_retrieval
        other._skills_started = True
        return other

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(self.config)
        return self._engine

    @property
    def uses_tools(self) -> bool:
        return self.config.skills.llm_fallback and bool(self.registry.skills)

    def model_may_call(self, s: Skill) -> bool:
        """Whether the LLM is ever offered ``s``: read-only skills, and skills that act but
        have no patterns of their own. One that has patterns was not recognised by them, not
        even as a near-command, so the model choosing it would be a guess."""
        return s.read_only or not s.patterns

    def offered(self, text: str) -> list[str]:
        """The skills the LLM may choose from for ``text`` (an empty list means just talk)."""
        if not self.uses_tools:
            return []
        return [n for n in self.registry.relevant(text)
                if self.model_may_call(self.registry.skills[n])]

    def system_message(self, memory: str = "") -> Message:
        tools = [s.signature for s in self.registry.skills.values()
                 if self.model_may_call(s)] if self.uses_tools else []
        prompt = self.config.llm.system_prompt + " " + capabilities(self.registry)
        return system_message(prompt, tools, memory)

    def memory(self) -> MemoryStore:
        """The memory store, opened on first use; raises AssistantError (busy, no model)."""
        with self._memory_lock:
            if self._memory is None:
                from assistant.memory import open_store

                self._memory = open_store(self.config)
            return self._memory

    def close(self) -> None:
        """Release the memory store it opened (another process may open it afterwards); a
        store passed in belongs to the caller."""
        with self._memory_lock:
            if self._memory is not None and self._owns_memory:
                self._memory.close()
                self._memory = None

    def warm_up(self) -> None:
        """Open the memory, load the model and prefill the stable prompt prefix, so the first
        LLM turn only pays for its own words. Safe to run on a background thread."""
        self.start_skills()
        # The domain matcher loads and hassil compiles on first use (0.25-0.5 s): here, not
        # in a turn or on the listener's first partial.
        default_matcher().match("turn on the light")
        if self.config.memory.enabled:
            self._retrieve("")  # opens the store, or records why it cannot be opened
        self.engine.complete([self.system_message()], max_tokens=1)

    def prefill(self, words: str) -> None:
        """Evaluate the answer's prompt up to the user's words so far (a live transcript):
        if the answer comes, it prefills only what follows. Words that change on the way
        cost nothing more: llama.cpp keeps the longest common prefix. (Nothing with a
        remote server: see :meth:`RemoteEngine.prefill`.)"""
        try:
            self.engine.prefill(self._messages(words.strip()))
        except AssistantError:
            return  # no usable model: the turn itself will say so, once

    def _messages(self, text: str) -> list[Message]:
        """An answer's prompt: the system message, the history, then ``text`` from the user.
        The prefiller renders the same list, so that its KV cache is the answer's prefix."""
        return [self.system_message(), *self.history, {"role": "user", "content": text}]

    def _retrieve(self, text: str) -> Retrieved | None:
        """Passages for ``text`` (None when the turn should not search or cannot)."""
        from assistant.memory.retrieval import retrieve, wants_retrieval

        if not self.config.memory.enabled or self.memory_error:
            return None
        try:
            store = self.memory()
        except AssistantError as exc:
            self.memory_error = str(exc)
            return None
        if not wants_retrieval(text):
            return None
        try:
            found = retrieve(store, text, self.config.memory, self.engine.count_text)
        except AssistantError as exc:  # a store damaged under us: answer without the notes
            self.memory_error = str(exc)
            return None
        self.registry.audit({"kind": "retrieval", "query": text, "ids": found.ids})
        if self.on_retrieval is not None:
            self.on_retrieval(found)
        return found

    # ------------------------------------------------------------------ turns

    def turn(self, text: str, on_text: Callable[[str], None] | None = None,
             remember: bool = True) -> TurnResult:
        """Answer one user utterance. ``on_text`` receives reply text as it streams.
        ``remember=False`` leaves the history alone (a speculative turn: the caller calls
        :meth:`remember` if it turns out to be wanted); such a turn is only ever one that
        :meth:`speculable` allowed, which changes no dialogue state."""
        start = time.perf_counter()
        self.cancel.clear()
        self.start_skills()
        text = bounded(text, MAX_TURN_CHARS)  # escapes, controls and 50 KB pastes: out
        try:
            result = self._answer(text, on_text, start) if text else \
                TurnResult("I didn't catch anything. What would you like?", kind="empty")
        except ModelServerError as exc:  # the remote model server is down: say so, once
            elapsed = (time.perf_counter() - start) * 1000
            result = TurnResult(str(exc), metrics=TurnMetrics("llm", elapsed, elapsed),
                                kind="failed")
            if on_text:
                on_text(result.text)
        if result.metrics.path == "fast":
            result.metrics.total_ms = result.metrics.ttft_ms = (time.perf_counter() - start) * 1000
            if on_text and result.text:
                on_text(result.text)
        if remember:
            self.remember(text, result)
        return result

    def _answer(self, text: str, on_text: Callable[[str], None] | None,
                start: float) -> TurnResult:
        """The reply: to a waiting question first, else by the utterance's kind."""
        pending = self.dialogue.waiting()
        if pending is not None:
            self.dialogue.pending = None
            answered = self._reply_to(pending, text)
            if answered is not None:
                return answered
        last = self.dialogue.last_action()
        u = classify(self.registry, text, can_undo=last is not None)
        if u.kind in ("undo", "correction") and last is not None:
            fixed = self._correct(u, last)
            if fixed is not None:
                return fixed
            u = classify(self.registry, text)
        if u.kind == "about":
            return TurnResult(about.describe(self.registry), kind="about")
        if u.kind == "command" and u.skill is not None:
            return self._command(u.skill, u.arguments)
        if u.kind == "clarify" and u.skill is not None:
            return self._ask(u.skill, u.arguments, u.slot)
        if u.kind == "unsupported" and u.domain is not None and not self.served_by_mcp(text):
            return TurnResult(u.domain.answer, kind="unsupported")
        if u.kind == "misheard" and u.skill is not None:
            self.dialogue.pending = Proposal(u.skill.name, u.arguments, heard_as=u.rest)
            return TurnResult(f"Did you mean: {u.rest}?", kind="clarify")
        return self._llm_turn(text, on_text, start, tools=u.tools)

    def served_by_mcp(self, text: str) -> bool:
        """Whether a connected MCP server's tool may serve ``text`` (Home Assistant's
        HassTurnOn for "turn on the kitchen lights"): then the model chooses, under the
        usual rules, rather than the answer that no such connection is set up."""
        return any(self.registry.skills[n].source.startswith("mcp:")
                   for n in self.offered(text))

    def speculable(self, text: str) -> bool:
        """Can this utterance be answered before the user has surely finished, and the answer
        thrown away if they go on? Only when nothing it may do changes anything, the
        conversation's state included: a fast-path skill declared ``read_only``, a question
        about the assistant, an honest refusal, or an LLM answer with no tool to call."""
        text = bounded(text, MAX_TURN_CHARS)
        if not text or self.dialogue.waiting() is not None:
            return False
        u = classify(self.registry, text, can_undo=self.dialogue.last_action() is not None)
        if u.kind == "command" and u.skill is not None:
            return u.skill.read_only
        if u.kind == "about" or (u.kind == "unsupported" and not self.served_by_mcp(text)):
            return True
        return u.kind == "chat" and not (u.tools and self.offered(text))

    # ------------------------------------------------------------------ the dialogue

    def _command(self, s: Skill, arguments: dict[str, Any],
                 kind: TurnKind = "command") -> TurnResult:
        """Run a command the user gave in words; one that needs a yes is asked first."""
        if s.risk == "confirm" and self.confirm is None:
            return self._propose(s, arguments)
        call = self._call(s.name, arguments)
        return TurnResult(self._speakable(call), [call], kind=kind)

    def _propose(self, s: Skill, arguments: dict[str, Any]) -> TurnResult:
        """Put a call to the user as a question; the next utterance's yes runs it."""
        try:
            plan = self.registry.plan(s.name, arguments, self.context)
        except Exception as exc:  # a plan is the skill's code: its failure is one sentence
            return TurnResult(f"Sorry, I couldn't prepare that: {exc}.", kind="command")
        if isinstance(plan, str):  # nothing to do ("I have nothing saved about that.")
            return TurnResult(plan, kind="command")
        self.dialogue.pending = Proposal(s.name, plan.arguments)
        return TurnResult(plan.question, kind="confirm")

    def _ask(self, s: Skill, known: dict[str, Any], slot: str, tries: int = 1,
             prefix: str = "") -> TurnResult:
        question = prefix + s.slots[slot].ask
        self.dialogue.pending = Question(s.name, known, slot, tries=tries)
        return TurnResult(question, kind="clarify")

    def _reply_to(self, pending: Question | Proposal, text: str) -> TurnResult | None:
        """The answer to a waiting question, or None when ``text`` is a new request."""
        norm = normalise(text)
        if isinstance(pending, Proposal):
            if is_yes(norm) and pending.heard_as and pending.skill in self.registry.skills:
                return self._command(self.registry.skills[pending.skill], pending.arguments)
            if is_yes(norm):
                call = self._call(pending.skill, pending.arguments, confirmed=True)
                return TurnResult(self._speakable(call), [call], kind="command")
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
                return self._ask(s, known, slot)
            return self._command(s, known)
        if classify(self.registry, text).kind != "chat" or len(norm.split()) > 4:
            return None  # a new request, not an answer: the question is dropped
        if pending.tries < 2:
            return self._ask(s, pending.arguments, pending.slot, pending.tries + 1,
                             prefix="Sorry, I didn't get that. ")
        return TurnResult("Sorry, I still didn't get it, so I've left it.", kind="cancelled")

    def _correct(self, u: Understanding, last: Action) -> TurnResult | None:
        """Undo or amend the last action; None when the words are not about it after all."""
        if u.kind == "undo":
            said = self._undo(last)
            return TurnResult(said, kind="undo")
        s = self.registry.skills.get(last.skill)
        redo = classify(self.registry, u.rest)
        if redo.kind == "command" and redo.skill is not None and not redo.skill.read_only:
            undone = self._undo(last) if last.undo else ""
            result = self._command(redo.skill, redo.arguments, kind="correction")
            result.text = " ".join(p for p in (undone, result.text) if p)
            return result
        new = read_slots(s, u.rest) if s is not None else {}
        if s is None or not new:
            return None
        if last.undo is None:
            return TurnResult(f"Sorry, I can't change that: {spoken_name(last.skill)} "
                              "can't be undone.", kind="correction")
        self._undo(last, quiet=True)
        result = self._command(s, {**last.arguments, **new}, kind="correction")
        if result.tool_calls and result.tool_calls[0].ok:
            result.text = "Changed it. " + result.text
        return result

    def _undo(self, last: Action, quiet: bool = False) -> str:
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

    def _record(self, call: ToolResult) -> None:
        """Remember a call that changed something, for "cancel that" and corrections."""
        s = self.registry.skills.get(call.name)
        if call.ok and s is not None and not s.read_only:
            self.dialogue.last = Action(call.name, call.arguments, call.undo)

    def _call(self, name: str, arguments: dict[str, Any], confirmed: bool = False) -> ToolResult:
        """Run a skill (``confirmed``: the user said yes to exactly this call)."""
        confirm = (lambda _q: True) if confirmed else self.confirm
        result = self.registry.call(name, arguments, self.context, confirm)
        self._record(result)
        if self.on_tool is not None:
            self.on_tool(result)
        return result

    def mark_interrupted(self, heard: str) -> None:
        """The user cut the last answer short: keep in the history only what was heard."""
        if self.history and self.history[-1]["role"] == "assistant":
            self.history[-1] = {"role": "assistant",
                                "content": (heard.strip() + " [interrupted]").strip()}

    @staticmethod
    def _speakable(call: ToolResult) -> str:
        if isinstance(call.result, str):
            return call.result
        return str(call.result) if call.ok else "Sorry, that didn't work."

    @staticmethod
    def _said_by(calls: list[ToolResult]) -> str:
        """An answer made of the tools' own words, for when the model gives none."""
        said = [c.result for c in calls if c.ok and isinstance(c.result, str) and c.result]
        if said:
            return " ".join(said)
        if calls:
            return "Done." if all(c.ok for c in calls) else "Sorry, that didn't work."
        return "Sorry, I don't have an answer to that."

    def remember(self, text: str, result: TurnResult) -> None:
        """Add a finished turn to the conversation history (not one that failed)."""
        if not text or result.kind == "failed":
            return
        reply = result.text + (" [interrupted]" if result.interrupted else "")
        self.history += [{"role": "user", "content": text},
                         {"role": "assistant", "content": reply}]
        turns = self.config.llm.max_history_turns
        if len(self.history) > 2 * turns:
            # Past the limit the older half goes at once, not one turn at each turn: the
            # prompt's start then stays the same for several turns, and llama.cpp reuses
            # its KV cache (trimming one turn a turn re-prefilled the whole history every
            # time: 3-5 s a question after eight turns on 2 cores).
            keep = 2 * max(1, turns // 2) if turns else 0
            self.history = self.history[-keep:] if keep else []

    def _llm_turn(self, text: str, on_text: Callable[[str], None] | None,
                  start: float, tools: bool = True) -> TurnResult:
        llm = self.config.llm
        messages = self._messages(text)
        gens: list[Generation] = []
        calls: list[ToolResult] = []
        candidates = self.offered(text) if tools else []
        if candidates:
            calls, asked = self._tool_rounds(text, messages, gens, candidates)
            if asked is not None:
                asked.tool_calls[:0] = calls
                return asked
        # Retrieved text joins only the answer, after any tool decision: a document can
        # never steer which tool runs, and the decision prompt stays short.
        retrieved = self._retrieve(text)
        if retrieved and retrieved.quote and not calls:
            return self._quote_turn(retrieved, gens, on_text, start)
        if retrieved and retrieved.hits:
            messages[len(self.history) + 1] = {"role": "user",
                                               "content": retrieved.prompt(text)}
        answer = Generation()
        gens.append(answer)
        reply = []
        first_piece_at = 0.0
        # Spoken answers stay short unless the user asked for a story, a list, details.
        word_limit = None if _ASKS_FOR_MORE.search(text) else llm.answer_words
        lead = retrieved.attribution() if retrieved else ""
        if lead:  # spoken while the model prefills the passages
            first_piece_at = time.perf_counter()
            reply.append(lead)
            if on_text:
                on_text(lead)
        for piece in self.engine.stream(messages, max_tokens=llm.max_tokens,
                                        temperature=llm.temperature, cancel=self.cancel,
                                        stats=answer):
            if answer.text.lstrip()[:1] in ("{", "["):
                # A small model, shown tool calls and results as JSON, sometimes answers in
                # JSON too: never read that aloud; say what the tools said instead.
                piece = self._said_by(calls)
                first_piece_at = first_piece_at or time.perf_counter()
                reply.append(piece)
                if on_text:
                    on_text(piece)
                break
            if not reply:
                first_piece_at = time.perf_counter()
            reply.append(piece)
            if on_text:
                on_text(piece)
            said = "".join(reply)
            if word_limit and len(said.split()) >= word_limit and \
                    said.rstrip().endswith((".", "!", "?")):
                break  # closing the stream stops the generation
        total_tokens = sum(g.tokens for g in gens)
        metrics = TurnMetrics(
            "llm",
            ttft_ms=((first_piece_at or time.perf_counter()) - start) * 1000,
            total_ms=(time.perf_counter() - start) * 1000,
            tokens=total_tokens,
            tokens_per_s=answer.tokens_per_s,
            prompt_tokens=answer.prompt_tokens,
            cached_tokens=answer.cached_tokens,
            retrieval_ms=retrieved.ms if retrieved else 0.0,
        )
        return TurnResult("".join(reply).strip(), calls, metrics, interrupted=answer.cancelled,
                          sources=retrieved.ids if retrieved else [], kind="chat")

    def _quote_turn(self, retrieved: Retrieved, gens: list[Generation],
                    on_text: Callable[[str], None] | None, start: float) -> TurnResult:
        """Answer with the sentence of the user's notes that answers the question."""
        reply = retrieved.answer()
        if on_text:
            on_text(reply)
        elapsed = (time.perf_counter() - start) * 1000
        metrics = TurnMetrics("memory", ttft_ms=elapsed, total_ms=elapsed,
                              tokens=sum(g.tokens for g in gens),
                              retrieval_ms=retrieved.ms)
        return TurnResult(reply, [], metrics, sources=retrieved.ids, kind="chat")

    def _tool_rounds(self, text: str, messages: list[Message], gens: list[Generation],
                     candidates: list[str]) -> tuple[list[ToolResult], TurnResult | None]:
        """Let the model call the candidate tools for up to ``max_tool_steps`` rounds; extends
        ``messages`` with each decision and the results. Returns the calls made, and the
        turn's reply when a call that acts is put to the user instead.

        The model is not trusted to act: a skill that acts is offered only when it has no
        patterns of its own (:meth:`model_may_call`), with its arguments limited to what the
        user said; the call is proposed, not run, unless
        ``llm.tools_trusted``; after a call that acts there is no further round. Each skill
        runs at most once a turn. A ``confirm`` skill is never run unasked, read-only or
        not, and after a result from an untrusted tool (an MCP server's) only read-only
        calls follow: a stranger's data must not lead to an action."""
        norm = normalise(text)
        tools = []
        for name in candidates:
            s = self.registry.skills[name]
            params = s.parameters if s.read_only else grounded_parameters(s, norm)
            if params is not None:
                tools.append({**s.tool_schema(), "parameters": params})
        made: list[ToolResult] = []
        used: set[str] = set()
        skills = self.registry.skills
        for _ in range(self.config.llm.max_tool_steps):
            if not tools:
                break
            raw, wanted, gen = decide(self.engine, messages, tools, self.cancel)
            gens.append(gen)
            # The grammar keeps the model to the tools offered; a model server that does not
            # honour it must not reach the others (after an untrusted result: any that act).
            offered = {t["name"] for t in tools}
            wanted = [c for c in wanted if c["name"] in offered]
            reading = [c for c in wanted if skills[c["name"]].read_only
                       and skills[c["name"]].risk == "safe"]
            acting = [c for c in wanted if c not in reading][:1]
            if acting:
                s = self.registry.skills[acting[0]["name"]]
                arguments = acting[0]["arguments"]
                if ungrounded(s, arguments, norm) is not None:
                    break  # a value the user never said: answer in words, act on nothing
                if not self.config.llm.tools_trusted:
                    return made, self._propose(s, arguments)
            results = list(self._pool.map(lambda c: self._call(c["name"], c["arguments"]),
                                          reading + acting))
            made += results
            used |= {c["name"] for c in reading + acting}
            tainted = any(not skills[r.name].trusted for r in made)
            tools = [t for t in tools if t["name"] not in used and not (
                tainted and (skills[t["name"]].risk != "safe" or not skills[t["name"]].read_only))]
            if not results or acting:
                break
            messages += [
                {"role": "assistant", "content": raw},
                {"role": "user", "content": "Tool results:\n" + "\n".join(
                    json.dumps({"name": r.name, "ok": r.ok, "result": r.result})
                    for r in results) + "\nNow answer my request in one short sentence."},
            ]
        return made, None
