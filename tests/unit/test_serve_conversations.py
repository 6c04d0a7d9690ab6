"""Many conversations over one assistant (assistant.serve.conversations)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from assistant.agent import TurnResult
from assistant.serve.conversations import Conversations
from assistant.speech.words import TYPED, Heard, Word


@dataclass
class FakeAssistant:
    """Stands for an Assistant: a turn echoes its history length; ``slow`` turns block."""

    history: list[str] = field(default_factory=list)
    made: list[FakeAssistant] = field(default_factory=list)
    gate: threading.Event | None = None

    def conversation(self, room: str = "") -> FakeAssistant:
        other = FakeAssistant(gate=self.gate)
        self.made.append(other)
        return other

    heard: list[Heard] = field(default_factory=list)

    def turn(self, text: str, on_text: object = None,
             heard: Heard = TYPED) -> TurnResult:
        if text == "slow" and self.gate is not None:
            self.gate.wait(5)
        self.history.append(text)
        self.heard.append(heard)
        return TurnResult(f"{len(self.history)}")


def test_each_conversation_keeps_its_own_history() -> None:
    main = FakeAssistant()
    conversations = Conversations(main, size=8, idle_s=60)
    a, first = conversations.turn("hello", "a")
    assert (a, first.text) == ("a", "1")
    assert conversations.turn("again", "a")[1].text == "2"
    assert conversations.turn("hello", "b")[1].text == "1"
    new_id, result = conversations.turn("hi")
    assert new_id not in ("a", "b") and result.text == "1"


def test_the_least_recently_used_and_the_idle_are_forgotten() -> None:
    conversations = Conversations(FakeAssistant(), size=2, idle_s=60)
    for cid in ("a", "b", "a", "c"):
        conversations.turn("x", cid)
    assert len(conversations) == 2
    assert conversations.turn("x", "b")[1].text == "1"  # b was forgotten, a was kept
    idle = Conversations(FakeAssistant(), size=8, idle_s=0.05)
    idle.turn("x", "a")
    time.sleep(0.1)
    assert idle.turn("x", "a")[1].text == "1"


def test_one_slow_conversation_does_not_hold_up_another() -> None:
    gate = threading.Event()
    conversations = Conversations(FakeAssistant(gate=gate), size=8, idle_s=60)
    slow = threading.Thread(target=conversations.turn, args=("slow", "a"))
    slow.start()
    time.sleep(0.05)
    assert conversations.turn("quick", "b")[1].text == "1"  # while "a" still waits
    assert slow.is_alive()
    gate.set()
    slow.join(5)


def test_a_spoken_turn_takes_its_words_as_heard_to_the_conversation() -> None:
    main = FakeAssistant()
    conversations = Conversations(main, size=4, idle_s=60)
    words = Heard((Word("Set", 0.9), Word("a", 0.9), Word("timer", 0.9), Word("for", 0.9),
                   Word("15", 0.0), Word("minutes.", 0.9)), snr_db=8.0)
    conversations.turn("Set a timer for 15 minutes.", "kitchen", room="kitchen", heard=words)
    conversations.turn("what time is it", "kitchen")
    assert main.made[0].heard == [words, TYPED]
