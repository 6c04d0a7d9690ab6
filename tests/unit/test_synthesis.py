"""assistant.voice.synthesis: clauses in (with a fake synthesiser), audio queued for the player
and events out; a reply that loses the speaker stops being decoded."""

from __future__ import annotations

import numpy as np

from assistant.speech.audio import Clock
from assistant.speech.player import Player
from assistant.voice.events import EventLog, TTSChunk
from assistant.voice.frames import Clause, ReplyEnd
from assistant.voice.reply import Replies, ReplyHandle, ReplyTimes
from assistant.voice.synthesis import Synthesis
from tests.fixtures.fakes import FakeSynthesizer


class Speaker:
    """A player whose reports are recorded."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.player = Player(self.clock, self)
        self.reports: list[str] = []

    def started(self, turn: int, t: float, text: str) -> None:
        self.reports.append("started")

    def paused(self, t: float) -> None:
        self.reports.append("paused")

    def resumed(self, t: float) -> None:
        self.reports.append("resumed")

    def finished(self, turn: int, t: float) -> None:
        self.reports.append("finished")

    def interrupted(self, t: float) -> None:
        self.reports.append("interrupted")

    def play(self, frames: int) -> np.ndarray:
        out = []
        for _ in range(frames):
            out.append(self.player.frame())
            self.clock.advance()
        return np.concatenate(out)


class Bench:
    def __init__(self, synth: FakeSynthesizer | None = None) -> None:
        self.speaker, self.events, self.replies = Speaker(), EventLog(), Replies()
        self.synth = synth or FakeSynthesizer()
        self.over: list[ReplyHandle] = []
        self.synthesis = Synthesis(self.synth, self.speaker.player, self.replies, self.events,
                                   self.speaker.clock, self.over.append)

    def reply(self, text: str = "what time is it") -> ReplyHandle:
        reply = self.replies.new(text, ReplyTimes(1.0, 1.2, 1.2))
        self.replies.take(reply)
        self.replies.begin(reply)
        return reply


def test_clauses_are_queued_for_the_speaker_and_the_reply_ends() -> None:
    bench = Bench()
    reply = bench.reply()
    bench.synthesis.handle(Clause(reply, "It is noon,"))
    assert reply.first_piece.is_set() and reply.times.first_chunk is not None
    bench.synthesis.handle(Clause(reply, "on Monday."))
    bench.synthesis.handle(ReplyEnd(reply))
    assert [e.text for e in bench.events.of_type(TTSChunk)] == ["It is noon,", "on Monday."]
    out = bench.speaker.play(40)
    assert np.count_nonzero(out) == int(0.1 * 16000 * 5) // 2 * 2  # five words, two pieces
    assert bench.speaker.reports == ["started", "finished"]
    assert bench.over == []  # its turn ends at its first sound, which the loop hears of


def test_a_reply_with_nothing_to_say_ends_its_turn_at_once() -> None:
    bench = Bench()
    reply = bench.reply("stop")
    bench.synthesis.handle(ReplyEnd(reply))
    assert bench.over == [reply]
    assert not bench.speaker.player.pending


def test_a_reply_without_the_speaker_is_not_synthesised() -> None:
    bench = Bench()
    reply = bench.reply()
    bench.replies.interrupt()
    bench.synthesis.handle(Clause(reply, "It is noon."))
    bench.synthesis.handle(ReplyEnd(reply))
    assert bench.events.of_type(TTSChunk) == [] and bench.synth.pieces_made == 0
    assert not bench.speaker.player.pending


def test_losing_the_speaker_mid_clause_stops_its_decoding() -> None:
    bench = Bench(FakeSynthesizer(pieces=4, between=lambda _text: bench.replies.interrupt()))
    reply = bench.reply()
    bench.synthesis.handle(Clause(reply, "Once upon a time there was a sailor."))
    assert bench.synth.pieces_made == 2  # the one queued, and the one cut off after it
    assert reply.first_piece.is_set()


def test_a_paused_reply_is_not_synthesised_until_it_is_resumed() -> None:
    import threading

    bench = Bench(FakeSynthesizer(pieces=3))
    reply = bench.reply()
    reply.pause()  # a barge-in is pending
    worker = threading.Thread(target=bench.synthesis.handle,
                              args=(Clause(reply, "Once upon a time."),))
    worker.start()
    worker.join(0.1)
    assert worker.is_alive() and bench.synth.pieces_made == 0
    reply.resume()
    worker.join(2)
    assert bench.synth.pieces_made == 3


def test_an_interruption_while_paused_decodes_nothing_more() -> None:
    import threading

    bench = Bench(FakeSynthesizer(pieces=3, between=lambda _text: reply.pause()))
    reply = bench.reply()
    worker = threading.Thread(target=bench.synthesis.handle,
                              args=(Clause(reply, "Once upon a time."),))
    worker.start()
    worker.join(0.1)
    assert worker.is_alive() and bench.synth.pieces_made == 2  # paused after the second
    bench.replies.interrupt()  # the barge-in is confirmed: it resumes, and stops
    worker.join(2)
    assert not worker.is_alive() and bench.synth.pieces_made == 2
