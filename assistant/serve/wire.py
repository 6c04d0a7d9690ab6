"""Wyoming events off the wire, with limits, and a connection that survives its client.

``wyoming``'s own reader trusts the peer: it waits forever for a header line to end, reads a
payload of whatever length the header claims (2 GB is buffered as it comes), and a client
that sends half a header holds its connection open for good. :func:`read_event` reads the
same format (a JSON header line, optional extra data, optional payload) with a limit on each
part and on the time an event may take once it has begun, and says in one line what was
wrong. :class:`Connection` is a :class:`wyoming.server.AsyncEventHandler` whose loop uses it:
a malformed event gets an ``Error`` and the connection is closed; an exception inside a
handler gets an ``Error`` and the connection goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from wyoming.error import Error
from wyoming.event import Event
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
"""asyncio's stream limit, set when the server starts: a longer header line is refused."""
MAX_DATA_BYTES = 64 * 1024
"""Extra JSON data after the header (Wyoming's ``data_length``)."""


class WireError(Exception):
    """The peer sent something that is not a well-formed Wyoming event within the limits.
    ``code`` is sent back in the ``Error`` event."""

    def __init__(self, text: str, code: str = "bad-event") -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class Limits:
    idle_s: float = 120.0
    """Longest wait for the next event to begin."""
    event_s: float = 10.0
    """Longest time from an event's first byte to its last."""
    max_payload: int = 1_048_576


BACKLOG = 256
"""Events read ahead of the handler (about 5 s of 20 ms audio chunks)."""


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event, or None when the peer closed the connection between events (or was
    idle for ``limits.idle_s``). Raises :class:`WireError`."""
    try:
        first = await asyncio.wait_for(reader.read(1), limits.idle_s)
    except TimeoutError:
        return None
    if not first:
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.event_s

    async def within(read: asyncio.Future | object) -> bytes:
        try:
            return await asyncio.wait_for(read, max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise WireError(f"an event did not arrive whole within {limits.event_s:g} s",
                            "timeout") from None
        except asyncio.IncompleteReadError:
            raise WireError("the connection closed in the middle of an event",
                            "truncated") from None
        except (asyncio.LimitOverrunError, ValueError):
            raise WireError(f"event header longer than {MAX_HEADER_BYTES} bytes",
                            "too-large") from None

    line = first if first == b"\n" else first + await within(reader.readline())
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WireError("event header is not a JSON line") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise WireError('event header is not a JSON object with a "type"')
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise WireError('event "data" is not a JSON object')
    data_length = _length(header, "data_length", MAX_DATA_BYTES)
    payload_length = _length(header, "payload_length", limits.max_payload)
    if data_length:
        try:
            extra = json.loads(await within(reader.readexactly(data_length)))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise WireError("event data is not JSON") from None
        if not isinstance(extra, dict):
            raise WireError('event "data" is not a JSON object')
        data = {**data, **extra}
    payload = await within(reader.readexactly(payload_length)) if payload_length else None
    return Event(type=header["type"], data=data, payload=payload)


def _length(header: dict, key: str, limit: int) -> int:
    value = header.get(key) or 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WireError(f"event {key} is not a byte count")
    if value > limit:
        raise WireError(f"event {key} of {value} bytes is over the limit of {limit}",
                        "too-large")
    return value


class Connection(AsyncEventHandler):
    """One client. Subclasses implement ``handle_event``; it may raise anything but
    ``CancelledError`` and the client hears of it as an ``Error``.

    Reading and handling are two tasks: a ``Ping`` is answered as it arrives, whatever the
    handler is waiting for (a satellite takes a hub that stays silent for a few seconds as
    lost, and a hub busy transcribing eight rooms can be slower than that), and the other
    events are handled in order. At most :data:`BACKLOG` of them wait; then reading waits too.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 limits: Limits) -> None:
        super().__init__(reader, writer)
        self.limits = limits

    async def run(self) -> None:
        backlog: asyncio.Queue[Event | None] = asyncio.Queue(BACKLOG)
        reading = asyncio.get_running_loop().create_task(self._read(backlog))
        try:
            while (event := await backlog.get()) is not None:
                try:
                    if not await self.handle_event(event):
                        break
                except (ConnectionError, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    log.exception("while handling %s", event.type)
                    await self.error(f"{event.type}: {exc}", "failed")
        except ConnectionError:
            pass  # the client went away; nothing to tell it
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await reading
            await self.disconnect()
            self.writer.close()

    async def _read(self, backlog: asyncio.Queue[Event | None]) -> None:
        """Events into ``backlog`` (None at the end), Pings answered here."""
        try:
            while True:
                try:
                    event = await read_event(self.reader, self.limits)
                except WireError as exc:
                    await self.error(str(exc), exc.code)
                    break
                if event is None:
                    break
                if Ping.is_type(event.type):
                    await self.write_event(Pong(text=Ping.from_event(event).text).event())
                else:
                    await backlog.put(event)
        except ConnectionError:
            pass  # the client went away
        await backlog.put(None)

    async def error(self, text: str, code: str) -> None:
        with contextlib.suppress(ConnectionError):
            await self.write_event(Error(text=text, code=code).event())
