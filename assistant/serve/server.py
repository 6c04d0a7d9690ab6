"""``assistant serve``: the Wyoming server on one TCP port.

It listens on ``serve.host``:``serve.port`` (127.0.0.1 unless configured for the LAN), starts
loading the models in the background, and gives each connection a
:class:`~assistant.serve.handler.Handler`. At most ``serve.max_connections`` are served at
once: one more is told so in an ``Error`` and closed. With ``serve.zeroconf`` the service is
advertised as ``_wyoming._tcp`` so that Home Assistant finds it by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from wyoming.error import Error
from wyoming.event import async_write_event

from assistant import AssistantError
from assistant.config import Config
from assistant.serve.handler import Handler
from assistant.serve.services import Services
from assistant.serve.wire import MAX_HEADER_BYTES, Limits

log = logging.getLogger(__name__)


class Server:
    def __init__(self, config: Config, services: Services | None = None) -> None:
        self.config = config
        self.services = services or Services(config)
        s = config.serve
        self.limits = Limits(s.idle_timeout_s, s.event_timeout_s, s.max_payload_bytes)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = s.port

    async def start(self, port: int | None = None) -> int:
        """Listen (``port`` 0: any free port) and start loading the models; returns the
        port. Raises AssistantError when the address cannot be used."""
        host = self.config.serve.host
        try:
            self._server = await asyncio.start_server(
                self._connected, host, self.port if port is None else port,
                limit=MAX_HEADER_BYTES)
        except OSError as exc:
            raise AssistantError(f"serve: cannot listen on {host}:{self.port}: "
                                 f"{exc.strerror or exc}; is another server using the port? "
                                 "(--port chooses another)") from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.services.start_loading()
        return self.port

    async def _connected(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        if len(self._tasks) >= self.config.serve.max_connections:
            with contextlib.suppress(ConnectionError):
                await async_write_event(Error(text="too many connections; try again later",
                                              code="busy").event(), writer)
            writer.close()
            return
        handler = Handler(reader, writer, self.services, self.limits)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await handler.run()
        finally:
            self._tasks.discard(task)

    @property
    def connections(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.services.close()


async def _advertise(port: int) -> object:
    try:
        from wyoming.zeroconf import HomeAssistantZeroconf
    except ImportError:
        raise AssistantError("serve: zeroconf is not installed (pip install zeroconf)") from None
    zeroconf = HomeAssistantZeroconf(port=port, name="voice-assistant")
    await zeroconf.register_server()
    return zeroconf


async def serve(config: Config, on_ready: object = None) -> None:
    """Run until SIGINT/SIGTERM."""
    server = Server(config)
    port = await server.start()
    mcp = None
    if config.mcp.serve_http:  # our skills for other programs, sharing this Assistant
        from assistant.mcp.http import alongside

        mcp = await asyncio.to_thread(alongside, server.services.assistant, log.warning)
    host = config.serve.host
    if config.serve.zeroconf:
        if host in ("127.0.0.1", "localhost", "::1"):
            raise AssistantError("serve: zeroconf needs the server on the LAN "
                                 "(serve.host = \"0.0.0.0\" or --host 0.0.0.0)")
        await _advertise(port)
    if callable(on_ready):
        on_ready(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if mcp is not None:
            mcp.close()
        await server.stop()
