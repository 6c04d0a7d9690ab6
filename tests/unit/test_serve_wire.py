"""Reading Wyoming events with limits (assistant.serve.wire)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.serve.wire import MAX_HEADER_BYTES, Limits, WireError, read_event

LIMITS = Limits(idle_s=5.0, event_s=0.3, max_payload=1000)


async def _read(data: bytes, eof: bool = True, limits: Limits = LIMITS):
    reader = asyncio.StreamReader(limit=MAX_HEADER_BYTES)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return await read_event(reader, limits)


def read(data: bytes, **kwargs: object):
    return asyncio.run(_read(data, **kwargs))


def test_an_event_with_data_and_payload_is_read_whole() -> None:
    extra = json.dumps({"width": 2}).encode()
    header = {"type": "audio-chunk", "data": {"rate": 16000}, "data_length": len(extra),
              "payload_length": 4}
    event = read(json.dumps(header).encode() + b"\n" + extra + b"\x01\x02\x03\x04")
    assert event.type == "audio-chunk"
    assert event.data == {"rate": 16000, "width": 2}
    assert event.payload == b"\x01\x02\x03\x04"


def test_end_of_stream_between_events_is_none() -> None:
    assert read(b"") is None


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"not json\n", "bad-event", "not a JSON line"),
    (b"[1, 2]\n", "bad-event", '"type"'),
    (b'{"type": "x", "data": [1]}\n', "bad-event", '"data"'),
    (b'{"type": "x", "payload_length": 2147483648}\n', "too-large", "over the limit"),
    (b'{"type": "x", "payload_length": -5}\n', "bad-event", "byte count"),
    (b'{"type": "x", "data_length": "ten"}\n', "bad-event", "byte count"),
    (b'{"type": "x", "payload_length": 10}\n\x00\x01', "truncated", "closed"),
    (b'{"type": "x"' + b" " * (MAX_HEADER_BYTES + 10) + b"}\n", "too-large", "longer"),
])
def test_malformed_events_are_refused_in_one_line(data: bytes, code: str, words: str) -> None:
    with pytest.raises(WireError) as caught:
        read(data)
    assert caught.value.code == code
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_half_a_header_times_out() -> None:
    with pytest.raises(WireError) as caught:
        read(b'{"type": "describe"', eof=False)
    assert caught.value.code == "timeout"


def test_an_idle_connection_ends_quietly() -> None:
    assert read(b"", eof=False, limits=Limits(idle_s=0.1)) is None


def test_a_ping_is_answered_while_the_handler_is_busy() -> None:
    """A satellite takes a silent hub as lost: liveness must not wait behind slow work."""
    from wyoming.client import AsyncTcpClient
    from wyoming.event import Event
    from wyoming.ping import Ping, Pong

    from assistant.serve.wire import Connection

    async def scenario() -> list[str]:
        release = asyncio.Event()
        handled: list[str] = []

        class Slow(Connection):
            async def handle_event(self, event: Event) -> bool:
                await release.wait()  # e.g. the words of eight rooms still being heard
                handled.append(event.type)
                return True

        server = await asyncio.start_server(
            lambda r, w: Slow(r, w, Limits()).run(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = AsyncTcpClient("127.0.0.1", port)
        await client.connect()
        try:
            await client.write_event(Event("audio-stop"))
            await client.write_event(Ping(text="alive?").event())
            answer = await asyncio.wait_for(client.read_event(), 5.0)
            assert answer is not None and Pong.is_type(answer.type)
            assert Pong.from_event(answer).text == "alive?"
            assert handled == []  # answered before the slow event was done
            release.set()
            await client.write_event(Event("transcribe"))
            for _ in range(100):
                if len(handled) == 2:
                    break
                await asyncio.sleep(0.02)
            return handled
        finally:
            await client.disconnect()
            server.close()
            await server.wait_closed()

    assert asyncio.run(scenario()) == ["audio-stop", "transcribe"]  # the rest in order


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.binary(max_size=3000),
    # headers that parse as JSON, with any lengths and data
    st.builds(lambda h, rest: json.dumps(h).encode() + b"\n" + rest,
              st.dictionaries(st.sampled_from(["type", "data", "data_length", "payload_length",
                                               "version"]),
                              st.one_of(st.none(), st.booleans(), st.integers(-5, 5000),
                                        st.text(max_size=20),
                                        st.dictionaries(st.text(max_size=5), st.integers()))),
              st.binary(max_size=3000))))
def test_any_bytes_are_an_event_the_end_or_a_one_line_refusal(data: bytes) -> None:
    try:
        event = read(data)
    except WireError as exc:
        assert exc.code in ("bad-event", "too-large", "timeout", "truncated")
        assert "\n" not in str(exc)
    else:
        assert event is None or isinstance(event.type, str)
        assert event is None or len(event.payload or b"") <= LIMITS.max_payload
