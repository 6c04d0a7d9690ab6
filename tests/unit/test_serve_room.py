"""assistant.serve.room: which room hears an announcement, and what waits for a room."""

from __future__ import annotations

import asyncio

from assistant.serve.room import HELD_ANNOUNCEMENTS, Rooms


class FakeRoom:
    """Stands for a Room: records what it was told to announce."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.get_running_loop()
        self.said: list[str] = []
        self.closed = False

    async def announce(self, text: str) -> None:
        self.said.append(text)

    def close(self) -> None:
        self.closed = True


def test_an_announcement_goes_to_its_room_and_waits_while_the_room_is_away() -> None:
    async def scenario() -> tuple[FakeRoom, FakeRoom, FakeRoom]:
        rooms = Rooms()
        for i in range(HELD_ANNOUNCEMENTS + 2):
            rooms.announce("hall", f"hall {i}")  # no loop yet: held
        kitchen = FakeRoom("kitchen")
        rooms.join(kitchen)
        rooms.announce("kitchen", "pasta")  # from a timer's thread in real life
        rooms.announce("attic", "nobody here")
        await asyncio.sleep(0.05)
        hall = FakeRoom("hall")
        rooms.join(hall)
        await asyncio.sleep(0.05)
        again = FakeRoom("kitchen")
        rooms.join(again)  # a reconnect replaces the old connection
        rooms.leave(kitchen)  # the old one's late leave changes nothing
        assert "kitchen" in rooms
        return kitchen, hall, again

    kitchen, hall, again = asyncio.run(scenario())
    assert kitchen.said == ["pasta"] and kitchen.closed
    assert hall.said == [f"hall {i}" for i in range(2, HELD_ANNOUNCEMENTS + 2)]
    assert again.said == []
