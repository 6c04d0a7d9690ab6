"""Connections to MCP servers, owned by one long-lived event-loop thread.

The SDK's sessions are async and bound to the task that opened them (their transports are
anyio task groups), while skills are called from plain threads. So one daemon thread runs an
asyncio loop for the whole process; each server's session is opened and closed by one task
on it (its *owner*), and the sync methods of :class:`Connection` hand coroutines to that loop
with a time limit on every wait: a server that does not start, hangs or dies costs at most
its limit, and the next use starts it again. Never a hang, never fatal.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import re
import threading
from contextlib import AsyncExitStack
from pathlib import Path
from typing import IO, Any

import httpx2
import mcp_types
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from assistant import AssistantError
from assistant.config import McpServerConfig

_STOP_WAIT_S = 3.0
"""How long closing a session may take before it is abandoned (the process then ends with
ours: a stdio server exits when its stdin closes)."""
_VAR = re.compile(r"\$\{(\w+)\}")
# The SDK logs a peer's misbehaviour (a failed session teardown, a dropped tool) as warnings
# on stderr, in the middle of a chat; what matters reaches the user as our own sentences.
if logging.getLogger("mcp").level == logging.NOTSET:
    logging.getLogger("mcp").setLevel(logging.ERROR)


class McpServerError(AssistantError):
    """A server could not be started or used; the message is one sentence for the user."""


class _Loop:
    """The process's one MCP event loop, on a daemon thread started on first use."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="mcp-loop", daemon=True).start()
                cls._loop = loop
            return cls._loop


def run(coro: Any, timeout_s: float) -> Any:
    """Run ``coro`` on the MCP loop and wait at most ``timeout_s`` for it (then it is
    cancelled and TimeoutError raised)."""
    future = asyncio.run_coroutine_threadsafe(coro, _Loop.get())
    try:
        return future.result(timeout_s)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError from None


def expand(value: str, where: str) -> str:
    """``value`` with each ``${VAR}`` replaced from the environment (McpServerError if unset)."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in os.environ:
            raise McpServerError(f"{where} uses ${{{m.group(1)}}}, which is not set")
        return os.environ[m.group(1)]
    return _VAR.sub(sub, value)


def first_error(exc: BaseException) -> BaseException:
    """The first real exception inside anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    exc = first_error(exc)
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, AssistantError):
        return str(exc).rstrip(".")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Connection:
    """One configured server: started on demand, stopped on failure, started again on the
    next use. ``state`` is "stopped", "running" or "failed" (``detail`` says why)."""

    def __init__(self, name: str, cfg: McpServerConfig, *, startup_timeout_s: float,
                 log_dir: Path | None = None) -> None:
        self.name = name
        self.cfg = cfg
        self.startup_timeout_s = startup_timeout_s
        self.log_dir = log_dir
        self.state = "stopped"
        self.detail = ""
        self.starts = 0
        """How many times the server was started (a restart is the second)."""
        self._tools: list[mcp_types.Tool] = []
        self._session: ClientSession | None = None
        self._stop: asyncio.Event | None = None
        self._owner: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sync API

    def tools(self) -> list[mcp_types.Tool]:
        """The server's tools, starting it if needed (raises McpServerError)."""
        with self._lock:
            if self._session is None:
                self._start()
            return list(self._tools)

    def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call ``tool``; raises McpServerError with one sentence on a timeout, a dead or
        unstartable server, or an MCP error. A timeout or a lost connection stops the
        server, so that the next call starts it afresh."""
        self.tools()
        session, limit = self._session, self.cfg.timeout_s
        if session is None:
            raise McpServerError(f"the {self.name} server is not running.")
        try:
            return run(session.call_tool(tool, arguments, read_timeout_seconds=limit),
                       limit + 1.0)
        except TimeoutError:
            self.stop(f"a call took longer than {limit:g} seconds")
            raise McpServerError(f"{tool} on {self.name} took longer than {limit:g} seconds, "
                                 "so I gave up on it.") from None
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                self.stop(f"a call took longer than {limit:g} seconds")
                raise McpServerError(f"{tool} on {self.name} took longer than {limit:g} "
                                     "seconds, so I gave up on it.") from None
            if exc.code == mcp_types.CONNECTION_CLOSED:
                self.stop(f"lost during a call: {exc.message}")
                raise McpServerError(f"the {self.name} server stopped while running {tool}; "
                                     "it will be restarted next time.") from None
            raise McpServerError(f"{tool} on {self.name} failed: {exc.message}.") from None

    def stop(self, reason: str = "", wait: bool = False) -> None:
        """Close the session and end the server; ``reason`` marks it failed. ``wait``: until
        it has ended (bounded), else it ends in the background while the caller goes on."""
        with self._lock:
            self._close(wait)
            self.state, self.detail = ("failed", reason) if reason else ("stopped", "")

    # ------------------------------------------------------------------ internals

    def _start(self) -> None:
        self.starts += 1
        try:
            self._tools = run(self._open(), self.startup_timeout_s + _STOP_WAIT_S)
        except BaseException as exc:
            self._close()
            reason = (f"did not start within {self.startup_timeout_s:g} seconds"
                      if isinstance(first_error(exc), TimeoutError) else _reason(exc))
            self.state, self.detail = "failed", reason
            raise McpServerError(f"the {self.name} server is unavailable: {reason}.") from None
        self.state, self.detail = "running", ""

    def _close(self, wait: bool = False) -> None:
        stop, owner = self._stop, self._owner
        self._session = self._stop = self._owner = None
        if stop is None or owner is None:
            return

        async def end() -> None:
            stop.set()
            done, _ = await asyncio.wait({owner}, timeout=_STOP_WAIT_S)
            if not done:
                owner.cancel()

        future = asyncio.run_coroutine_threadsafe(end(), _Loop.get())
        if wait:  # past the limit it is abandoned: the server ends with this process
            with contextlib.suppress(concurrent.futures.TimeoutError):
                future.result(_STOP_WAIT_S + 1.0)

    async def _open(self) -> list[mcp_types.Tool]:
        """Start the owner task; return the tool list once it has one (limited in time)."""
        ready: asyncio.Future[list[mcp_types.Tool]] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._owner = asyncio.create_task(self._own(ready, self._stop), name=f"mcp-{self.name}")
        try:
            return await asyncio.wait_for(asyncio.shield(ready), self.startup_timeout_s)
        except BaseException:
            ready.cancel()  # nobody will read it: the owner must not set an error on it
            self._owner.cancel()
            raise

    async def _own(self, ready: asyncio.Future[list[mcp_types.Tool]],
                   stop: asyncio.Event) -> None:
        """Open the transport and the session, list the tools, then hold them until
        ``stop``: enter and exit in this one task, as the SDK requires."""
        log: IO[str] | None = None
        try:
            async with AsyncExitStack() as stack:
                if self.cfg.command:
                    log = self._log_file()
                    params = StdioServerParameters(
                        command=self.cfg.command, args=self.cfg.args,
                        env={k: expand(v, f"env {k}") for k, v in self.cfg.env.items()})
                    read, write = await stack.enter_async_context(stdio_client(params, log))
                else:
                    headers = {k: expand(v, f"header {k}") for k, v in self.cfg.headers.items()}
                    http = await stack.enter_async_context(httpx2.AsyncClient(
                        headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)))
                    read, write = await stack.enter_async_context(
                        streamable_http_client(self.cfg.url, http_client=http))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                tools = await _list_tools(session)
                self._session = session
                ready.set_result(tools)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else
                                    McpServerError(_reason(exc)))
            if not isinstance(exc, Exception | asyncio.CancelledError):
                raise
        finally:
            if log is not None:
                log.close()

    def _log_file(self) -> IO[str]:
        """Where the server's stderr goes (not our terminal): <data>/mcp/<name>.log."""
        if self.log_dir is None:  # both are closed by _own
            return open(os.devnull, "w", encoding="utf-8")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return open(self.log_dir / f"{self.name}.log", "a", encoding="utf-8")


async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
    """Every page of the server's tool list (at most 50 pages: a server could loop)."""
    result = await session.list_tools()
    tools = list(result.tools)
    for _ in range(50):
        if not result.next_cursor:
            break
        result = await session.list_tools(
            params=mcp_types.PaginatedRequestParams(cursor=result.next_cursor))
        tools += result.tools
    return tools


_OPEN: list[Connection] = []


def connect(name: str, cfg: McpServerConfig, *, startup_timeout_s: float,
            log_dir: Path | None = None) -> Connection:
    """A new connection (not started), closed at exit."""
    conn = Connection(name, cfg, startup_timeout_s=startup_timeout_s, log_dir=log_dir)
    _OPEN.append(conn)
    return conn


@atexit.register
def _close_all() -> None:
    for conn in _OPEN:
        if conn.state == "running":
            conn.stop(wait=True)
