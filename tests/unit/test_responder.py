"""assistant.voice.responder: a request in (with a fake assistant), clauses and events out."""

from __future__ import annotations

from assistant.config import VoiceTuning
from assistant.skills import SkillRegistry, ToolResult
from assistant.speech.audio import Clock
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.events import EventLog, LLMFirstToken, ToolCall
from assistant.voice.frames import Clause, ReplyEnd, Request
from assistant.voice.reply import Replies, ReplyHandle, ReplyTimes
from assistant.voice.responder import Responder
from tests.fixtures.fakes import FakeAssistant

STORY = ["The moon ", "is a rock, ", "and it orbits ", "the Earth."]


class Bench:
    def __init__(self, registry: SkillRegistry, **assistant: object) -> None:
        self.assistant = FakeAssistant(registry, **assistant)
        self.clock, self.events, self.replies = Clock(), EventLog(), Replies()
        self.out: list[Clause | ReplyEnd] = []
        self.on_clause = lambda _clause: None
        port = AssistantPort(self.assistant, self.clock, announce=lambda _t: None,
                             stop=lambda: None, report=lambda e: self.responder.report(e))
        self.responder = Responder(port, self.replies, self.events, self.clock, self._speak,
                                   VoiceTuning(first_piece_wait_s=0.0))

    def _speak(self, frame: Clause | ReplyEnd) -> None:
        self.out.append(frame)
        if isinstance(frame, Clause):
            self.on_clause(frame)

    def ask(self, text: str, speculative: bool = False) -> ReplyHandle:
        reply = self.replies.new(text, ReplyTimes(1.0, 1.2, 1.2, speculative=speculative))
        if speculative:
            self.replies.take(reply)  # the listener gives a speculation the speaker
        self.responder.handle(Request(reply))
        return reply

    def said(self) -> str:
        return " ".join(f.text for f in self.out if isinstance(f, Clause))


def test_an_answer_is_cut_into_clauses_for_the_speaker(builtin_registry: SkillRegistry) -> None:
    bench = Bench(builtin_registry, answers={"tell me about the moon": STORY})
    reply = bench.ask("tell me about the moon")
    assert bench.said().split() == "".join(STORY).split()
    assert len(bench.out) > 2 and bench.out[-1] == ReplyEnd(reply)
    assert bench.replies.holds(reply) and bench.replies.live(reply.id) is reply
    assert [e.t for e in bench.events.of_type(LLMFirstToken)] == [reply.times.first_text]
    assert bench.assistant.history[0] == {"role": "user", "content": "tell me about the moon"}
    assert bench.responder.active is None


def test_a_speculative_answers_tool_calls_wait_for_its_confirmation(
        builtin_registry: SkillRegistry) -> None:
    call = ToolResult("get_time", {}, "It's noon.", True, 0.1)
    bench = Bench(builtin_registry, answers={"what time is it": ["It's noon."]},
                  tools={"what time is it": call}, path="fast")
    reply = bench.ask("what time is it", speculative=True)
    assert bench.events.of_type(ToolCall) == []  # not reported: it may be dropped
    assert bench.assistant.history == []  # nor remembered
    held, result = reply.confirm(decided=1.4)
    assert [e.name for e in held] == ["get_time"] and result.text == "It's noon."
    assert bench.events.of_type(LLMFirstToken) == []  # the fast path has no first token


def test_a_speculation_confirmed_while_it_was_answered_is_remembered_by_the_responder(
        builtin_registry: SkillRegistry) -> None:
    bench = Bench(builtin_registry, answers={"tell me about the moon": STORY})
    bench.on_clause = lambda clause: clause.reply.confirm(decided=1.4)
    bench.ask("tell me about the moon", speculative=True)
    assert [m["role"] for m in bench.assistant.history] == ["user", "assistant"]


def test_a_dropped_speculation_is_not_answered(builtin_registry: SkillRegistry) -> None:
    bench = Bench(builtin_registry)
    reply = bench.replies.new("tell me", ReplyTimes(1.0, 1.1, 1.1, speculative=True))
    reply.drop()
    bench.responder.handle(Request(reply))
    assert bench.assistant.asked == [] and bench.out == []


def test_an_answer_interrupted_while_written_keeps_only_what_was_heard(
        builtin_registry: SkillRegistry) -> None:
    bench = Bench(builtin_registry, answers={"tell me about the moon": STORY})

    def barge_in(clause: Clause) -> None:
        bench.replies.interrupt()
        clause.reply.interrupted("The moon")
        bench.assistant.cancel.set()

    bench.on_clause = barge_in
    bench.ask("tell me about the moon")
    assert bench.assistant.interrupted == ["The moon"]  # applied once the turn was complete
    assert len([f for f in bench.out if isinstance(f, Clause)]) == 1  # no more after it
    assert isinstance(bench.out[-1], ReplyEnd)


def test_a_paused_answer_is_not_written_until_it_is_resumed(
        builtin_registry: SkillRegistry) -> None:
    import threading

    bench = Bench(builtin_registry, answers={"tell me about the moon": STORY})
    reply = bench.replies.new("tell me about the moon", ReplyTimes(1.0, 1.2, 1.2))
    reply.pause()  # a barge-in is pending
    worker = threading.Thread(target=bench.responder.handle, args=(Request(reply),))
    worker.start()
    worker.join(0.1)
    assert worker.is_alive() and bench.out == []  # the LLM waits at its first words
    reply.resume()
    worker.join(2)
    assert bench.said().split() == "".join(STORY).split()
