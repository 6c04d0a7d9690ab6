"""assistant.speech.player: the speaker's queue, played a frame at a time; pause, resume,
hold, discard, stop, and what the listener actually heard."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.speech.audio import FRAME, FRAME_S, Clock
from assistant.speech.player import Chunk, Player


class Harness:
    """A Player on a fresh clock, with what it reports recorded in order."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.reports: list[tuple] = []
        self.player = Player(self.clock, self)

    def started(self, turn: int, t: float, text: str) -> None:
        self.reports.append(("started", turn, t, text))

    def paused(self, t: float) -> None:
        self.reports.append(("paused", t))

    def resumed(self, t: float) -> None:
        self.reports.append(("resumed", t))

    def finished(self, turn: int, t: float) -> None:
        self.reports.append(("finished", turn, t))

    def interrupted(self, t: float) -> None:
        self.reports.append(("interrupted", t))

    def pull(self, frames: int) -> np.ndarray:
        out = []
        for _ in range(frames):
            frame = self.player.frame()
            assert frame.shape == (FRAME,)
            assert frame.dtype == np.float32
            out.append(frame)
            self.clock.advance()
        return np.concatenate(out)

    def types(self) -> list[str]:
        return [r[0] for r in self.reports]

    def stops(self) -> list[str]:
        return [kind for kind in self.types() if kind in ("finished", "interrupted")]

    @property
    def starts(self) -> list[tuple[int, float]]:
        return [(r[1], r[2]) for r in self.reports if r[0] == "started"]

    @property
    def done(self) -> list[int]:
        return [r[1] for r in self.reports if r[0] == "finished"]


def _audio(samples: int, start: float) -> np.ndarray:
    """Distinct, never-zero samples so position in the stream can be checked."""
    return (start + np.arange(samples) * 1e-5).astype(np.float32)


FIRST = Chunk(1, "one two three four", _audio(2 * FRAME, 0.1))
SECOND = Chunk(1, "five six", _audio(4 * FRAME, -0.1))


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_player_idle_is_silent_and_not_pending(h: Harness) -> None:
    assert not h.player.pending
    assert not h.pull(5).any()
    assert h.reports == []
    assert not h.player.speaking


def test_player_plays_chunks_back_to_back(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    assert h.player.pending
    out = h.pull(8)
    np.testing.assert_array_equal(out[: 6 * FRAME], np.concatenate([FIRST.audio, SECOND.audio]))
    assert not out[6 * FRAME:].any()
    assert h.types() == ["started"]
    (_, turn, t, text), = h.reports
    assert (turn, text) == (1, "one two three four")
    assert t == pytest.approx(0.0, abs=FRAME_S)


def test_player_fills_frames_across_unaligned_chunks(h: Harness) -> None:
    a = Chunk(1, "a", _audio(500, 0.2))
    b = Chunk(1, "b", _audio(700, -0.2))
    c = Chunk(1, "c", _audio(100, 0.4))
    for chunk in (a, b, c):
        h.player.enqueue(chunk)
    out = h.pull(5)
    np.testing.assert_array_equal(out[:1300], np.concatenate([a.audio, b.audio, c.audio]))
    assert not out[1300:].any()
    assert h.types() == ["started"]


def test_player_start_time_is_within_the_frame(h: Harness) -> None:
    h.pull(3)
    h.player.enqueue(FIRST)
    h.pull(1)
    ((turn, t),) = h.starts
    assert turn == 1 and 3 * FRAME_S <= t <= 4 * FRAME_S


def test_player_pause_is_silent_and_resume_continues(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    first = h.pull(1)
    h.player.pause()
    assert h.player.paused
    assert h.player.pending
    paused = h.pull(3)
    assert not paused.any()
    h.player.resume()
    rest = h.pull(5)
    reference = np.concatenate([FIRST.audio, SECOND.audio])
    np.testing.assert_array_equal(np.concatenate([first, rest])[: len(reference)], reference)
    assert h.types() == ["started", "paused", "resumed"]


def test_player_stop_mid_chunk_returns_what_was_heard(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    h.pull(4)  # all of FIRST and half of SECOND
    heard = h.player.stop()
    assert heard == "one two three four five"
    assert h.stops() == ["interrupted"]
    assert not h.player.pending
    assert not h.player.speaking
    assert not h.pull(4).any()
    assert h.done == []


def test_player_stop_during_first_chunk_counts_words_proportionally(h: Harness) -> None:
    h.player.enqueue(Chunk(1, "a b c d e f g h", _audio(8 * FRAME, 0.1)))
    h.pull(6)
    assert h.player.stop() == "a b c d e f"


def test_player_stop_while_paused(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.pull(1)
    h.player.pause()
    h.pull(3)
    assert h.player.stop() == "one two"
    assert h.stops() == ["interrupted"]
    assert not h.player.paused


def test_player_stop_when_silent_says_nothing(h: Harness) -> None:
    assert h.player.stop() == ""
    assert h.reports == []


def test_player_done_once_after_end_turn_and_drain(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.enqueue(SECOND)
    h.pull(4)
    h.player.end_turn(1)
    assert h.player.pending
    h.pull(2)  # the last samples of SECOND
    assert h.done == []
    h.pull(5)
    assert h.stops() == ["finished"]
    assert h.done == [1]
    assert not h.player.pending
    assert not h.player.speaking
    h.pull(10)
    assert h.stops() == ["finished"]
    assert h.done == [1]


def test_player_keeps_speaking_between_chunks_until_end_turn(h: Harness) -> None:
    # The synthesiser is slower than playback: the queue runs dry mid-answer.
    h.player.enqueue(FIRST)
    h.pull(5)
    assert h.player.speaking
    assert h.player.pending
    assert h.stops() == []
    h.player.enqueue(SECOND)
    out = h.pull(4)
    np.testing.assert_array_equal(out, SECOND.audio)
    assert h.types() == ["started"]  # one answer, one start
    h.player.end_turn(1)
    h.pull(2)
    assert h.stops() == ["finished"]
    assert h.done == [1]


def test_player_next_turn_starts_again(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.player.end_turn(1)
    h.pull(4)
    h.player.enqueue(Chunk(2, "again", _audio(FRAME, 0.3)))
    h.player.end_turn(2)
    h.pull(3)
    assert h.types() == ["started", "finished", "started", "finished"]
    assert h.done == [1, 2]
    assert [turn for turn, _ in h.starts] == [1, 2]


def test_player_pending_reflects_queued_audio(h: Harness) -> None:
    assert not h.player.pending
    h.player.enqueue(FIRST)
    assert h.player.pending  # queued, not yet playing
    h.player.end_turn(1)
    h.pull(1)
    assert h.player.pending  # playing
    h.pull(2)
    assert not h.player.pending


def test_player_late_end_turn_of_an_interrupted_turn_is_ignored(h: Harness) -> None:
    h.player.enqueue(FIRST)
    h.pull(1)
    h.player.stop()  # barge-in
    h.player.end_turn(1)  # the cancelled turn's end marker arrives afterwards
    h.player.enqueue(Chunk(2, "first clause,", _audio(FRAME, 0.3)))
    h.pull(3)  # the next clause is still being synthesised
    assert h.stops() == ["interrupted"]
    assert h.done == []
    h.player.enqueue(Chunk(2, "second clause.", _audio(FRAME, 0.3)))
    h.player.end_turn(2)
    h.pull(3)
    assert h.stops() == ["interrupted", "finished"]
    assert h.done == [2]


def test_player_holds_a_turn_until_released(h: Harness) -> None:
    h.player.hold(1)
    h.player.enqueue(FIRST)
    assert not h.pull(3).any()  # queued, not played
    assert h.player.pending and h.reports == []
    h.player.release(1)
    out = h.pull(2)
    np.testing.assert_array_equal(out, FIRST.audio)
    assert h.types() == ["started"]


def test_player_discard_drops_only_that_turn_silently(h: Harness) -> None:
    other = Chunk(2, "later", _audio(FRAME, 0.3))
    h.player.hold(1)
    h.player.enqueue(FIRST)
    h.player.enqueue(other)
    h.player.discard(1)
    h.player.enqueue(SECOND)  # a late piece of the discarded turn is refused too
    np.testing.assert_array_equal(h.pull(1), other.audio)
    assert not h.pull(3).any()
    assert h.types() == ["started"]
