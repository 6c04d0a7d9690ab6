"""assistant.voice.reply: a reply's speculation (held, confirmed, dropped), its interruption,
its pause, its times; and which reply has the speaker."""

from __future__ import annotations

import threading

from assistant.agent import TurnMetrics, TurnResult
from assistant.voice.events import ToolCall
from assistant.voice.reply import Replies, ReplyHandle, ReplyTimes

CALL = ToolCall(1.0, "get_time", {}, "It's noon.", True)


def _spec(text: str = "what time is it") -> ReplyHandle:
    return Replies().new(text, ReplyTimes(1.0, 1.1, 1.1, speculative=True))


def test_a_speculative_answers_events_wait_for_it_to_be_confirmed() -> None:
    reply = _spec()
    assert not reply.admit(CALL)  # held
    held, result = reply.confirm(decided=1.3)
    assert held == [CALL] and result is None and reply.times.decided == 1.3
    assert reply.admit(CALL)  # from now on, reported at once


def test_a_dropped_speculation_never_happened() -> None:
    reply = _spec()
    reply.admit(CALL)
    reply.drop()
    assert reply.dropped
    assert not reply.admit(CALL)
    assert not reply.answered(TurnResult("It's noon.", metrics=TurnMetrics("fast")))


def test_whoever_comes_second_remembers_a_confirmed_speculation() -> None:
    result = TurnResult("It's noon.", metrics=TurnMetrics("fast"))
    early = _spec()
    assert not early.answered(result)  # returned before the endpoint...
    assert early.confirm(1.3) == ([], result)  # ...so the confirmation remembers it
    late = _spec()
    late.confirm(1.3)
    assert late.answered(result)  # confirmed first: the responder remembers it
    assert late.times.path == "fast"


def test_an_ordinary_reply_reports_at_once() -> None:
    reply = Replies().new("hello", ReplyTimes(1.0, 1.2, 1.2))
    assert not reply.speculative and reply.admit(CALL)


def test_an_interruption_while_the_answer_is_written_applies_once_it_is_done() -> None:
    reply = Replies().new("tell me a story", ReplyTimes(1.0, 1.2, 1.2))
    assert reply.interrupted("Once") is True  # nothing being written: mark it now
    reply.responding()
    assert reply.interrupted("Once upon") is False
    assert reply.responded() == "Once upon"
    assert Replies().new("x").responded() is None


def test_a_paused_reply_waits_until_resumed() -> None:
    reply = Replies().new("tell me a story")
    reply.pause()
    went = threading.Event()
    worker = threading.Thread(target=lambda: (reply.proceed(), went.set()))
    worker.start()
    assert not went.wait(0.05)
    reply.resume()
    assert went.wait(1)
    worker.join()


def test_times_are_stamped_once_and_make_the_latency_breakdown() -> None:
    reply = Replies().new("hi", ReplyTimes(speech_end=1.0, decided=1.25, transcribed=1.3))
    assert reply.stamp("first_text", 1.4) and not reply.stamp("first_text", 1.5)
    reply.stamp("first_chunk", 1.45)
    reply.stamp("first_audio", 1.5)
    end = reply.turn_end(2.0)
    assert (end.t, end.path, end.speculative) == (2.0, "llm", False)
    assert end.latency_ms == {"endpointing": 250.0, "asr_final": 50.0, "llm_ttft": 100.0,
                              "first_chunk": 150.0, "tts_first_audio": 50.0,
                              "voice_to_voice": 500.0}
    assert not Replies().new("announcement").stamp("first_audio", 1.0)


def test_one_reply_has_the_speaker_at_a_time() -> None:
    replies = Replies()
    first, second = replies.new("a"), replies.new("b")
    assert first.id != second.id
    replies.take(first)
    first.pause()
    replies.take(second)  # the first one goes on, unpaused, unheard
    assert replies.holds(second) and not replies.holds(first)
    first.proceed()  # does not block
    assert not replies.release(first) and replies.release(second)
    assert replies.current is None
    replies.take(first)
    replies.release_id(first.id)
    assert replies.current is None
    replies.take(second)
    second.pause()
    assert replies.interrupt() is second and replies.current is None
    second.proceed()  # interrupted: not paused any more


def test_a_reply_is_live_from_its_start_to_its_end() -> None:
    replies = Replies()
    reply = replies.new("a", ReplyTimes(0.0, 0.0, 0.0))
    assert replies.live(reply.id) is None
    replies.begin(reply)
    assert replies.live(reply.id) is reply
    assert replies.end(reply) and not replies.end(reply)
    assert replies.live(reply.id) is None


def test_a_turn_is_over_once_it_has_begun_and_ended() -> None:
    replies = Replies()
    reply = replies.new("a", ReplyTimes(0.0, 0.0, 0.0, speculative=True))
    assert not replies.over(reply)  # still queued
    replies.begin(reply)
    assert not replies.over(reply)
    replies.end(reply)
    assert replies.over(reply)
