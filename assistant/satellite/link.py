"""The satellite's connection to its hub, on a thread of its own.

One event loop thread owns the TCP connection (the real ``wyoming`` client). On connecting it
introduces the room with ``Info(satellite=...)``; then it writes what the satellite sends (in
order, never blocking the audio thread: :meth:`HubLink.send` only queues) and hands each
event from the hub to ``on_event``. A ``Ping`` goes out every few seconds; a hub that answers
nothing for :data:`DEAD_AFTER_S` is taken as lost. A lost hub is reported once
(``on_state(False, why)``) and tried again with back-off, 0.5 s doubling to 10 s; the next
connection is reported too (``on_state(True, ...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Attribution, Info, Satellite
from wyoming.ping import Ping, Pong

PING_EVERY_S = 2.0
DEAD_AFTER_S = 6.0
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
QUEUE_LIMIT = 2000
"""Events waiting to go out (40 s of 20 ms audio frames); beyond it the oldest are dropped."""


class HubLink:
    def __init__(self, host: str, port: int, room: str, on_event: Callable[[Event], None],
                 on_state: Callable[[bool, str], None]) -> None:
        self.host, self.port, self.room = host, port, room
        self.on_event = on_event
        self.on_state = on_state
        self.connected = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-link", daemon=True)
        self._heard_at = 0.0
        self.dropped = 0
        """Audio chunks that could not go out: the hub was away, or the queue overflowed."""

    def start(self) -> None:
        self._thread.start()

    def send(self, event: Event) -> None:
        """Queue ``event`` for the hub (from any thread); dropped while the hub is away, so
        that a room does not replay stale audio when it comes back."""
        if self.connected.is_set():
            self._loop.call_soon_threadsafe(self._put, event)
        elif AudioChunk.is_type(event.type):
            self.dropped += 1

    def _put(self, event: Event) -> None:
        if self._queue.full() and AudioChunk.is_type(self._queue.get_nowait().type):
            self.dropped += 1
        self._queue.put_nowait(event)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        self._stop.set()
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(lambda: None)
        self._thread.join(10)

    # ------------------------------------------------------------------ the link thread

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._keep_connected())
        self._loop.close()

    async def _keep_connected(self) -> None:
        tries, reported = 0, False
        while not self._stop.is_set():
            was_connected, why = await self._session()
            if self._stop.is_set():
                break
            if was_connected:
                tries, reported = 0, False
            if not reported:  # once per loss, not once per failed try
                self.on_state(False, why)
                reported = True
            wait = BACKOFF_S[min(tries, len(BACKOFF_S) - 1)]
            tries += 1
            end = time.monotonic() + wait
            while time.monotonic() < end and not self._stop.is_set():
                await asyncio.sleep(0.05)
        self.connected.clear()

    async def _session(self) -> tuple[bool, str]:
        """One connection, until it fails: (it was made, why it ended)."""
        client = AsyncTcpClient(self.host, self.port, connect_timeout=3.0)
        try:
            await client.connect()
        except (OSError, TimeoutError) as exc:
            return False, (f"cannot reach the hub at {self.host}:{self.port} "
                           f"({exc.__class__.__name__})")
        while not self._queue.empty():  # nothing from before the loss
            self._queue.get_nowait()
        info = Info(satellite=Satellite(
            name=self.room, area=self.room, description="voice-assistant satellite",
            attribution=Attribution(name="voice-assistant", url=""), installed=True,
            version=None, has_vad=True))
        try:
            await client.write_event(info.event())
            self._heard_at = time.monotonic()
            self.connected.set()
            self.on_state(True, f"connected to the hub at {self.host}:{self.port}")
            tasks = [asyncio.create_task(t) for t in
                     (self._read(client), self._write(client), self._ping(client))]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            why = next(iter(done)).result()
        except (OSError, ConnectionError) as exc:
            why = f"lost the hub ({exc.__class__.__name__})"
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                await client.disconnect()
        return True, why

    async def _read(self, client: AsyncTcpClient) -> str:
        while True:
            try:
                event = await client.read_event()
            except (OSError, ConnectionError):
                event = None
            if event is None:
                return "lost the hub (connection closed)"
            self._heard_at = time.monotonic()
            if not Pong.is_type(event.type):
                self.on_event(event)

    async def _write(self, client: AsyncTcpClient) -> str:
        while True:
            event = await self._queue.get()
            await client.write_event(event)

    async def _ping(self, client: AsyncTcpClient) -> str:
        while not self._stop.is_set():
            if time.monotonic() - self._heard_at > DEAD_AFTER_S:
                return f"lost the hub (no answer for {DEAD_AFTER_S:g} s)"
            await client.write_event(Ping().event())
            for _ in range(int(PING_EVERY_S / 0.05)):
                if self._stop.is_set():
                    break
                await asyncio.sleep(0.05)
        return "stopped"
