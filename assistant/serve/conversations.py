"""Many conversations over one set of skills, one model and one memory.

Home Assistant names each conversation (``conversation_id``) and a satellite is a room: each
gets its own :meth:`Assistant.conversation <assistant.agent.Assistant.conversation>`, with its
own history and its own waiting question, so that "yes" in the kitchen answers the kitchen's
question. Turns of one conversation run one after another; turns of different conversations
run at once, and the model decodes for one of them at a time, in order of arrival, while a
fast-path command of another is answered meanwhile. The least recently used conversation is
forgotten when there are too many, and any conversation after it has been idle for a while.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.agent import Assistant, TurnResult
from assistant.speech.words import TYPED, Heard


@dataclass
class _Conversation:
    assistant: Assistant
    used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class Conversations:
    """Owned by the server; :meth:`turn` may be called from any thread."""

    def __init__(self, main: Assistant, size: int, idle_s: float) -> None:
        self.main = main
        self.size = size
        self.idle_s = idle_s
        self._open: OrderedDict[str, _Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def turn(self, text: str, conversation_id: str | None = None,
             on_text: Callable[[str], None] | None = None,
             room: str = "", heard: Heard = TYPED) -> tuple[str, TurnResult]:
        """Answer ``text`` in the conversation ``conversation_id`` (a new one when None or
        unknown; ``room``: the room it is held in, whose timers it sets; ``heard``: the
        recogniser's words when it was spoken, for the turn to weigh); returns the id to
        continue it with, and the turn's result. ``on_text`` receives the reply as it
        streams."""
        cid = conversation_id or uuid.uuid4().hex
        conversation = self._get(cid, room)
        with conversation.lock:
            result = conversation.assistant.turn(text, on_text=on_text, heard=heard)
            conversation.used = time.monotonic()
        return cid, result

    def cancel(self, conversation_id: str) -> None:
        """Stop the answer being generated in that conversation, at its next token."""
        with self._lock:
            conversation = self._open.get(conversation_id)
        if conversation is not None:
            conversation.assistant.cancel.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def _get(self, cid: str, room: str) -> _Conversation:
        now = time.monotonic()
        with self._lock:
            for old in [k for k, c in self._open.items() if now - c.used > self.idle_s]:
                del self._open[old]
            conversation = self._open.get(cid)
            if conversation is None:
                conversation = _Conversation(self.main.conversation(room), now)
                self._open[cid] = conversation
                while len(self._open) > self.size:
                    self._open.popitem(last=False)
            conversation.used = now
            self._open.move_to_end(cid)
            return conversation
