"""The hub's side of one room: a satellite's turns, answers and announcements.

A satellite introduces itself with ``Info(satellite=...)`` (its name is the room), and each
utterance arrives as ``RunPipeline`` + audio, recognised by the connection's dictation. Once
its ``Transcript`` is known, :meth:`Room.answer` takes the turn in the room's own conversation
and streams the answer back as it is written: for each clause, ``Synthesize(text)`` (what
the audio says, so that the satellite knows what was heard if it is cut off) then
``AudioStart`` … ``AudioStop`` at 16 kHz, and after the last one ``Handled(text, context)``
with the turn's kind and tool calls. ``VoiceStarted`` from the satellite is a barge-in it has
already paused for: generation and synthesis stop for this room only. A timer set here is
announced here, with the same events (its ``Handled`` has the kind "announcement"); one due
while the satellite is away waits for it to come back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.tts import Synthesize

from assistant.speech.audio import RATE
from assistant.speech.tts import SentenceChunker
from assistant.speech.words import TYPED, Heard

if TYPE_CHECKING:
    from assistant.agent import TurnResult
    from assistant.serve.services import Services

log = logging.getLogger(__name__)

CHUNK_SAMPLES = 1600
"""0.1 s of 16 kHz audio per ``AudioChunk``."""
HELD_ANNOUNCEMENTS = 20
"""Announcements kept for a room while its satellite is away (the oldest go first)."""


class Room:
    """Owned by the satellite's connection, on the server's event loop."""

    def __init__(self, name: str, services: Services,
                 send: Callable[[Event], Awaitable[None]]) -> None:
        self.name = name
        self.services = services
        self.send = send
        self.loop = asyncio.get_running_loop()
        self._reply: asyncio.Task | None = None
        self._speaking = asyncio.Lock()
        """One answer or announcement speaks at a time."""

    # ------------------------------------------------------------------ turns

    def answer(self, text: str, heard: Heard = TYPED) -> None:
        """Take the turn for ``text`` (``heard``: the recogniser's words and how sure it was
        of each) and stream the answer back (in the background)."""
        self.interrupt()
        self._reply = self.loop.create_task(self._answer(text, heard))

    def interrupt(self) -> None:
        """The user spoke over the answer: stop generating and synthesising it."""
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
            self.services.conversations.cancel(self.name)

    async def _answer(self, text: str, heard: Heard) -> None:
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        def on_text(piece: str) -> None:
            self.loop.call_soon_threadsafe(pieces.put_nowait, piece)

        turn = self.loop.run_in_executor(self.services.turns, self._turn, text, heard, on_text)
        turn.add_done_callback(lambda _: pieces.put_nowait(None))
        chunker = SentenceChunker()
        async with self._speaking:
            while (piece := await pieces.get()) is not None:
                for clause in chunker.feed(piece):
                    await self._say(clause)
            for clause in chunker.flush():
                await self._say(clause)
            result = await turn
            await self.send(Handled(text=result.text, context={
                "conversation_id": self.name, "kind": result.kind,
                "tool_calls": [c.as_dict() for c in result.tool_calls]}).event())

    def _turn(self, text: str, heard: Heard,
              on_text: Callable[[str], None]) -> TurnResult:
        return self.services.conversations.turn(text, self.name, on_text=on_text,
                                                room=self.name, heard=heard)[1]

    async def _say(self, text: str) -> None:
        """One clause: its words, then its audio as it is made."""
        await self.send(Synthesize(text=text).event())
        await self.services.speak([text], RATE, CHUNK_SAMPLES, self.send)

    # ------------------------------------------------------------------ announcements

    async def announce(self, text: str) -> None:
        async with self._speaking:
            await self._say(text)
            await self.send(Handled(text=text, context={"conversation_id": self.name,
                                                        "kind": "announcement"}).event())

    def close(self) -> None:
        """The satellite went away: whatever it was being told is dropped."""
        self.interrupt()


class Rooms:
    """Which room's satellite is connected, and announcements for rooms that are away. Owned
    by the server; :meth:`announce` may be called from any thread (a timer's)."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}
        self._held: dict[str, deque[str]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def join(self, room: Room) -> None:
        """A satellite (re)connected: it replaces an older connection of the same room, and
        hears what was announced while it was away."""
        self.loop = room.loop
        old = self._rooms.get(room.name)
        if old is not None:
            old.close()
        self._rooms[room.name] = room
        for text in self._held.pop(room.name, ()):
            room.loop.create_task(room.announce(text))

    def leave(self, room: Room) -> None:
        if self._rooms.get(room.name) is room:
            del self._rooms[room.name]
        room.close()

    def announce(self, room: str, text: str) -> None:
        if self.loop is None or self.loop.is_closed():
            self._hold(room, text)
            return
        self.loop.call_soon_threadsafe(self._announce, room, text)

    def _announce(self, name: str, text: str) -> None:
        room = self._rooms.get(name)
        if room is None:
            self._hold(name, text)
        else:
            room.loop.create_task(room.announce(text))

    def _hold(self, room: str, text: str) -> None:
        log.info("room %s is away; holding: %s", room or "(none)", text)
        self._held.setdefault(room, deque(maxlen=HELD_ANNOUNCEMENTS)).append(text)

    def __contains__(self, name: str) -> bool:
        return name in self._rooms
