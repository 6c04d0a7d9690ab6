"""The LLM path of a turn: the tool rounds (what the model may call, and under which
rules), then the answer, streamed, or a sentence of the user's notes quoted instead.

The model is not trusted to act: a skill that acts is offered only when it has no patterns
of its own (:meth:`Assistant.model_may_call`), with its arguments limited to what the user
said (:mod:`assistant.understand.grounding`); the call is proposed, not run, unless
``llm.tools_trusted``. Retrieved passages join only the answer, never the tool decision."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.agent.prompt import decide
from assistant.agent.result import TurnMetrics, TurnResult
from assistant.fastpath import normalise
from assistant.llm import Generation, Message
from assistant.skills import ToolResult
from assistant.understand.grounding import grounded_parameters, ungrounded

if TYPE_CHECKING:
    from assistant.agent.assistant import Assistant
    from assistant.memory.retrieval import Retrieved

_ASKS_FOR_MORE = re.compile(r"\b(?:story|stories|poem|essay|list|lists|steps|explain|describe|"
                            r"in detail|detailed|at length|long|longer|more about|everything)\b",
                            re.IGNORECASE)


def llm_turn(a: Assistant, text: str, on_text: Callable[[str], None] | None, start: float,
             tools: bool = True) -> TurnResult:
    """Answer ``text`` with the model (``tools``: it may call the skills offered)."""
    llm = a.config.llm
    messages = a.messages(text)
    gens: list[Generation] = []
    calls: list[ToolResult] = []
    candidates = a.offered(text) if tools else []
    if candidates:
        calls, asked = tool_rounds(a, text, messages, gens, candidates)
        if asked is not None:
            asked.tool_calls[:0] = calls
            return asked
    # Retrieved text joins only the answer, after any tool decision: a document can
    # never steer which tool runs, and the decision prompt stays short.
    retrieved = a.retrieve(text)
    if retrieved and retrieved.quote and not calls:
        return quote_turn(retrieved, gens, on_text, start)
    if retrieved and retrieved.hits:
        messages[len(a.history) + 1] = {"role": "user", "content": retrieved.prompt(text)}
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
    for piece in a.engine.stream(messages, max_tokens=llm.max_tokens,
                                 temperature=llm.temperature, cancel=a.cancel, stats=answer):
        if answer.text.lstrip()[:1] in ("{", "["):
            # A small model, shown tool calls and results as JSON, sometimes answers in
            # JSON too: never read that aloud; say what the tools said instead.
            piece = said_by(calls)
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
    metrics = TurnMetrics(
        "llm",
        ttft_ms=((first_piece_at or time.perf_counter()) - start) * 1000,
        total_ms=(time.perf_counter() - start) * 1000,
        tokens=sum(g.tokens for g in gens),
        tokens_per_s=answer.tokens_per_s,
        prompt_tokens=answer.prompt_tokens,
        cached_tokens=answer.cached_tokens,
        retrieval_ms=retrieved.ms if retrieved else 0.0,
    )
    return TurnResult("".join(reply).strip(), calls, metrics, interrupted=answer.cancelled,
                      sources=retrieved.ids if retrieved else [], kind="chat")


def quote_turn(retrieved: Retrieved, gens: list[Generation],
               on_text: Callable[[str], None] | None, start: float) -> TurnResult:
    """Answer with the sentence of the user's notes that answers the question."""
    reply = retrieved.answer()
    if on_text:
        on_text(reply)
    elapsed = (time.perf_counter() - start) * 1000
    metrics = TurnMetrics("memory", ttft_ms=elapsed, total_ms=elapsed,
                          tokens=sum(g.tokens for g in gens), retrieval_ms=retrieved.ms)
    return TurnResult(reply, [], metrics, sources=retrieved.ids, kind="chat")


def tool_rounds(a: Assistant, text: str, messages: list[Message], gens: list[Generation],
                candidates: list[str]) -> tuple[list[ToolResult], TurnResult | None]:
    """Let the model call the candidate tools for up to ``max_tool_steps`` rounds; extends
    ``messages`` with each decision and the results. Returns the calls made, and the turn's
    reply when a call that acts is put to the user instead.

    After a call that acts there is no further round. Each skill runs at most once a turn.
    A ``confirm`` skill is never run unasked, read-only or not, and after a result from an
    untrusted tool (an MCP server's) only read-only calls follow: a stranger's data must not
    lead to an action."""
    norm = normalise(text)
    skills = a.registry.skills
    tools = []
    for name in candidates:
        s = skills[name]
        params = s.parameters if s.read_only else grounded_parameters(s, norm)
        if params is not None:
            tools.append({**s.tool_schema(), "parameters": params})
    made: list[ToolResult] = []
    used: set[str] = set()
    for _ in range(a.config.llm.max_tool_steps):
        if not tools:
            break
        raw, wanted, gen = decide(a.engine, messages, tools, a.cancel)
        gens.append(gen)
        # The grammar keeps the model to the tools offered; a model server that does not
        # honour it must not reach the others (after an untrusted result: any that act).
        offered = {t["name"] for t in tools}
        wanted = [c for c in wanted if c["name"] in offered]
        reading = [c for c in wanted if skills[c["name"]].read_only
                   and skills[c["name"]].risk == "safe"]
        acting = [c for c in wanted if c not in reading][:1]
        if acting:
            s = skills[acting[0]["name"]]
            arguments = acting[0]["arguments"]
            if ungrounded(s, arguments, norm) is not None:
                break  # a value the user never said: answer in words, act on nothing
            if not a.config.llm.tools_trusted:
                return made, a.commands.propose(s, arguments)
        results = list(a.tool_pool.map(lambda c: a.run_skill(c["name"], c["arguments"]),
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


def said_by(calls: list[ToolResult]) -> str:
    """An answer made of the tools' own words, for when the model gives none."""
    said = [c.result for c in calls if c.ok and isinstance(c.result, str) and c.result]
    if said:
        return " ".join(said)
    if calls:
        return "Done." if all(c.ok for c in calls) else "Sorry, that didn't work."
    return "Sorry, I don't have an answer to that."
