"""The :class:`Assistant`: one conversation's state (history, waiting question, last
action, cancel flag) and the turn that answers an utterance by its kind: a waiting
question's answer first, then undo/correction, about, command, near-command, a domain no
skill serves, a misheard command, else the LLM path (:mod:`assistant.agent.answer`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from assistant import AssistantError
from assistant.agent.answer import llm_turn
from assistant.agent.commands import Commands
from assistant.agent.prompt import capabilities, system_message
from assistant.agent.result import TurnMetrics, TurnResult
from assistant.config import Config
from assistant.llm import Engine, Message, ModelServerError, build_engine
from assistant.skills import Skill, SkillContext, SkillRegistry, ToolResult, build_registry
from assistant.speech.words import TYPED, Heard
from assistant.text import MAX_TURN_CHARS, bounded
from assistant.understand import about, hearing, soundalike
from assistant.understand.classify import Understanding, classify
from assistant.understand.dialogue import Action, Dialogue
from assistant.understand.domains import default_matcher

if TYPE_CHECKING:  # chromadb takes ~2 s to import: loaded on first use, off the fast path
    from assistant.memory import MemoryStore
    from assistant.memory.retrieval import Retrieved


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
        self.tool_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tool")
        """Runs a tool round's read-only calls side by side."""
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
        """The waiting question and the last action; written only by :meth:`turn` (its
        command paths, :attr:`commands`, and :meth:`run_skill`)."""
        self.commands = Commands(self.registry, self.context, self.dialogue, self.run_skill,
                                 asks_in_words=lambda: self.confirm is None)
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
        LLM turn only pays for its own words, and start the MCP servers beside it (their first
        call then pays no start). Safe to run on a background thread."""
        self.start_skills()
        if self.registry.warmers:  # MCP servers start beside the model's load
            threading.Thread(target=self.registry.warm, name="warm-skills",
                             daemon=True).start()
        # The domain matcher loads and hassil compiles on first use (0.25-0.5 s): here, not
        # in a turn or on the listener's first partial.
        default_matcher().match("turn on the light")
        if self.config.memory.enabled:
            self.retrieve("")  # opens the store, or records why it cannot be opened
        self.engine.complete([self.system_message()], max_tokens=1)

    def prefill(self, words: str) -> None:
        """Evaluate the answer's prompt up to the user's words so far (a live transcript):
        if the answer comes, it prefills only what follows. Words that change on the way
        cost nothing more: llama.cpp keeps the longest common prefix. (Nothing with a
        remote server: see :meth:`RemoteEngine.prefill`.)"""
        try:
            self.engine.prefill(self.messages(words.strip()))
        except AssistantError:
            return  # no usable model: the turn itself will say so, once

    def messages(self, text: str) -> list[Message]:
        """An answer's prompt: the system message, the history, then ``text`` from the user.
        The prefiller renders the same list, so that its KV cache is the answer's prefix."""
        return [self.system_message(), *self.history, {"role": "user", "content": text}]

    def retrieve(self, text: str) -> Retrieved | None:
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

    def turn(self, text: str, on_text: Callable[[str], None] | None = None,
             remember: bool = True, heard: Heard = TYPED) -> TurnResult:
        """Answer one user utterance. ``on_text`` receives reply text as it streams.
        ``remember=False`` leaves the history alone (a speculative turn: the caller calls
        :meth:`remember` if it turns out to be wanted); such a turn is only ever one that
        :meth:`speculable` allowed, which changes no dialogue state. ``heard``: how the
        recogniser heard it (its words, how sure it was of each, how noisy the room was;
        :data:`TYPED` for typed text); a turn may ask about the unsure words first
        (:mod:`assistant.understand.hearing`)."""
        start = time.perf_counter()
        self.cancel.clear()
        self.start_skills()
        text = bounded(text, MAX_TURN_CHARS)  # escapes, controls and 50 KB pastes: out
        try:
            result = self._answer(text, on_text, start, heard) if text else \
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
                start: float, heard: Heard = TYPED) -> TurnResult:
        """The reply: to a waiting question first, else by the utterance's kind."""
        asked_again, self.dialogue.asked_again = self.dialogue.asked_again, False
        pending = self.dialogue.waiting()
        if pending is not None:
            self.dialogue.pending = None
            answered = self.commands.reply_to(pending, text)
            if answered is not None:
                return answered
        last = self.dialogue.last_action()
        u = classify(self.registry, text, can_undo=last is not None)
        if u.kind in ("undo", "correction") and last is not None:
            fixed = self.commands.correct(u, last)
            if fixed is not None:
                return fixed
            u = classify(self.registry, text)
        if self.doubted(u, text, heard) and not (u.kind == "chat" and asked_again):
            if u.kind == "command" and u.skill is not None:
                return self.commands.misheard(u.skill, u.arguments, text.strip(" .?!"),
                                              question="Did I hear that right")
            self.dialogue.asked_again = True
            return TurnResult("Sorry, I'm not sure I heard that right. Could you say it again?",
                              kind="clarify")
        if u.kind == "about":
            return TurnResult(about.describe(self.registry), kind="about")
        if u.kind == "command" and u.skill is not None:
            return self.commands.run(u.skill, u.arguments)
        if u.kind == "clarify" and u.skill is not None:
            return self.commands.ask(u.skill, u.arguments, u.slot)
        if u.kind == "unsupported" and u.domain is not None and not self.served_by_mcp(text):
            return TurnResult(u.domain.answer, kind="unsupported")
        if u.kind == "misheard" and u.skill is not None:
            return self.commands.misheard(u.skill, u.arguments, u.rest)
        return llm_turn(self, text, on_text, start, tools=u.tools)

    def doubted(self, u: Understanding, text: str, heard: Heard) -> list[str]:
        """The unsure words that make ``u`` ask first (:func:`hearing.doubted`)."""
        if not heard.words:
            return []
        return hearing.doubted(u, text, heard, self.config.asr,
                               soundalike.vocabulary(self.registry))

    def served_by_mcp(self, text: str) -> bool:
        """Whether a connected MCP server's tool may serve ``text`` (Home Assistant's
        HassTurnOn for "turn on the kitchen lights"): then the model chooses, under the
        usual rules, rather than the answer that no such connection is set up."""
        return any(self.registry.skills[n].source.startswith("mcp:")
                   for n in self.offered(text))

    def speculable(self, text: str, heard: Heard = TYPED) -> bool:
        """Can this utterance be answered before the user has surely finished, and the answer
        thrown away if they go on? Only when nothing it may do changes anything, the
        conversation's state included: a fast-path skill declared ``read_only``, a question
        about the assistant, an honest refusal, or an LLM answer with no tool to call."""
        text = bounded(text, MAX_TURN_CHARS)
        if not text or self.dialogue.waiting() is not None:
            return False
        u = classify(self.registry, text, can_undo=self.dialogue.last_action() is not None)
        if self.doubted(u, text, heard):
            return False  # the turn will ask, and a question changes the dialogue
        if u.kind == "command" and u.skill is not None:
            return u.skill.read_only
        if u.kind == "about" or (u.kind == "unsupported" and not self.served_by_mcp(text)):
            return True
        return u.kind == "chat" and not (u.tools and self.offered(text))

    def run_skill(self, name: str, arguments: dict[str, Any],
                  confirmed: bool = False) -> ToolResult:
        """Run a skill (``confirmed``: the user said yes to exactly this call), tell
        :attr:`on_tool`, and remember a call that changed something, for "cancel that" and
        corrections."""
        confirm = (lambda _q: True) if confirmed else self.confirm
        result = self.registry.call(name, arguments, self.context, confirm)
        s = self.registry.skills.get(name)
        if result.ok and s is not None and not s.read_only:
            self.dialogue.last = Action(name, result.arguments, result.undo)
        if self.on_tool is not None:
            self.on_tool(result)
        return result

    def mark_interrupted(self, heard: str) -> None:
        """The user cut the last answer short: keep in the history only what was heard."""
        if self.history and self.history[-1]["role"] == "assistant":
            self.history[-1] = {"role": "assistant",
                                "content": (heard.strip() + " [interrupted]").strip()}

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
