"""The responder stage: each request goes through the same ``Assistant.turn`` as the text chat
(fast path, or the LLM with tools and memory), and the streamed text is cut into clauses for
the synthesis stage (:class:`assistant.speech.tts.SentenceChunker`).

After handing over the first clause the LLM waits (at most ``first_piece_wait_s``) until its
first sound is synthesised: on two cores the two would otherwise share the CPU, and the rest of
the answer has the first clause's playing time to catch up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import VoiceTuning
from assistant.speech.audio import Clock
from assistant.speech.tts import SentenceChunker
from assistant.voice.assistant_port import AssistantPort
from assistant.voice.events import EventLog, LLMFirstToken, Retrieval, ToolCall
from assistant.voice.frames import Clause, ReplyEnd, Request
from assistant.voice.reply import Replies, ReplyHandle


@dataclass(eq=False)
class Responder:
    """Handles :class:`Request`\\ s on the responder's thread; ``speak`` queues its clauses."""

    port: AssistantPort
    replies: Replies
    events: EventLog
    clock: Clock
    speak: Callable[[Clause | ReplyEnd], None]
    tuning: VoiceTuning
    active: ReplyHandle | None = field(default=None, init=False)
    """The reply whose answer is being generated right now."""

    def handle(self, request: Request) -> None:
        reply = request.reply
        if reply.dropped:
            return
        if not reply.speculative:
            self.replies.take(reply)
        self.replies.begin(reply)
        chunker = SentenceChunker()

        def on_text(piece: str) -> None:
            reply.proceed()  # while a barge-in is pending, the LLM waits here
            reply.stamp("first_text", self.clock.now())
            if self.replies.holds(reply):
                for chunk in chunker.feed(piece):
                    self.speak(Clause(reply, chunk))
                    if not reply.first_piece.is_set():
                        # Let the synthesiser have the CPU for the first sound; the rest of
                        # the answer has the whole first clause's playing time to catch up.
                        reply.first_piece.wait(self.tuning.first_piece_wait_s)

        reply.responding()
        self.active = reply
        try:
            result = self.port.turn(reply.text, on_text=on_text, remember=not reply.speculative,
                                    heard=reply.heard)
        except BaseException:
            reply.responded()  # nothing to mark: the turn never reached the history
            raise
        finally:
            self.active = None
        confirmed = reply.answered(result)
        if reply.speculative:
            if confirmed:
                self.port.remember(reply.text, result)
            elif reply.dropped:
                reply.responded()  # never heard, never in the history
                return
        first_text = reply.times.first_text
        if result.metrics.path == "llm" and first_text is not None:
            self.events.emit(LLMFirstToken(first_text))
        if self.replies.holds(reply):
            for chunk in chunker.flush():
                self.speak(Clause(reply, chunk))
        self.speak(ReplyEnd(reply))
        heard = reply.responded()
        if heard is not None:  # interrupted while it was being written
            self.port.mark_interrupted(heard)

    def report(self, event: ToolCall | Retrieval) -> None:
        """An event of the answer being generated (a tool call, a memory search)."""
        reply = self.active
        if reply is None or reply.admit(event):
            self.events.emit(event)
