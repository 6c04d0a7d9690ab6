"""The synthesis stage: each clause of a reply is synthesised by Piper and queued for the
speaker while earlier ones play.

Piece by piece (:meth:`assistant.speech.tts.Synthesizer.stream`): the first ~0.2 s of a clause
plays while the rest is decoded, and a reply that loses the speaker (a barge-in, an
announcement) stops its decoding too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant import heap
from assistant.speech.audio import Clock
from assistant.speech.player import Chunk, Player
from assistant.speech.tts import Synthesizer
from assistant.voice.events import EventLog, TTSChunk
from assistant.voice.frames import Clause, ReplyEnd
from assistant.voice.reply import Replies, ReplyHandle


@dataclass(eq=False)
class Synthesis:
    """Handles :class:`Clause` and :class:`ReplyEnd` frames on the synthesis thread.
    ``turn_over`` is told of a reply whose turn ends with nothing said ("stop")."""

    synth: Synthesizer
    player: Player
    replies: Replies
    events: EventLog
    clock: Clock
    turn_over: Callable[[ReplyHandle], None]

    def handle(self, frame: Clause | ReplyEnd) -> None:
        reply = frame.reply
        if isinstance(frame, ReplyEnd):
            if self.replies.holds(reply):  # a cancelled reply has nothing left to end
                self.player.end_turn(reply.id)
            if reply.times is not None and reply.times.first_chunk is None:
                self.turn_over(reply)  # an answer with nothing to say ("stop")
            heap.trim()  # the reply's models are done: what they freed goes back (heap.py)
            return
        if not self._still_on(reply):
            return  # cancelled by a barge-in
        now = self.clock.now()
        if self.replies.live(reply.id) is reply:
            reply.stamp("first_chunk", now)
        self.events.emit(TTSChunk(now, frame.text))
        words = frame.text.split()
        said = 0
        try:
            for piece in self.synth.stream(frame.text):
                if not self.replies.holds(reply):
                    return
                upto = round(len(words) * piece.upto)
                if len(piece.audio):
                    self.player.enqueue(Chunk(reply.id, " ".join(words[said:upto]), piece.audio))
                    said = upto
                    reply.first_piece.set()
                if not self._still_on(reply):
                    return  # before decoding the next piece
        finally:
            reply.first_piece.set()  # a clause with nothing to say holds nothing up

    def _still_on(self, reply: ReplyHandle) -> bool:
        """Waits while ``reply`` is paused (a barge-in is pending: the CPU is the
        recogniser's); then, has it still the speaker?"""
        reply.proceed()
        return self.replies.holds(reply)
