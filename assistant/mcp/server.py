"""Our skills as an MCP server, for other programs (Claude Desktop-style clients, agents).

:class:`SkillServer` wraps an :class:`~assistant.agent.Assistant` (one of its own for
``assistant mcp serve``, or the running voice loop's or Wyoming server's, sharing its memory
store and timer table) and serves every skill of its registry as a tool
(:mod:`assistant.mcp.skill_tools`). A call goes through ``SkillRegistry.call`` like any turn's:
validation, the time limit and the audit log. A ``confirm`` skill (forget, clear a list) puts
its question ("Forget these 2 things: ...?") to the client's user by MCP elicitation and runs
only on an explicit yes; a client without elicitation is refused, with the question, and
nothing runs. A ``confirm: true`` argument is not offered: the client's model would set it,
and that is no one's yes.

What skills announce outside a call (a timer going off) is said by the host as before and
sent to every connected client as a log message (``notifications/message``, level notice).

Built on the SDK's low-level ``Server``: our skills carry their own JSON schemas and are
validated by our registry, whereas ``MCPServer`` derives both from decorated functions.
:func:`run_stdio` is ``assistant mcp serve``; :mod:`assistant.mcp.http` serves the same
server over streamable HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.session import ServerSession
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ClientCapabilities,
    ElicitationCapability,
    EmptyResult,
    ListToolsResult,
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    PaginatedRequestParams,
    RequestId,
    SetLevelRequestParams,
)
from pydantic import ValidationError

from assistant import __version__
from assistant.agent import Assistant
from assistant.config import Config
from assistant.mcp.skill_tools import (
    CONFIRM_SCHEMA,
    confirmed,
    result_for,
    served,
    tool_for,
    unconfirmed,
    unknown,
)

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 300.0
"""How long a confirmation waits for the client's user; then the call is not made."""
ANNOUNCE_LEVEL: LoggingLevel = "notice"
_LEVELS: tuple[LoggingLevel, ...] = get_args(LoggingLevel)
"""Severity ascending (RFC 5424), as the SDK's literal declares them."""
INSTRUCTIONS = ("The skills of an offline voice assistant on this device: the time, timers, "
                "alarms, reminders, lists, maths, unit conversions and what the user asked it "
                "to remember. A tool that deletes asks the user first. Timers and reminders "
                "announce themselves as log messages.")


def say_on_stderr(text: str) -> None:
    """An announcement where there is no one to speak to (stdout carries the protocol)."""
    print(f"announcement: {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class _Client:
    session: ServerSession
    loop: asyncio.AbstractEventLoop
    """The event loop its connection is served on: announcements are sent from there."""
    level: LoggingLevel = "debug"
    """The least severe level it wants (``logging/setLevel``)."""


class Announcements:
    """Says what skills announce outside a call: through ``also`` (the host's own way: speech,
    or stderr), then to every connected client as a ``notifications/message``. Callable from
    any thread (timers fire on their own)."""

    def __init__(self, also: Callable[[str], None]) -> None:
        self.also = also
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def track(self, key: str, session: ServerSession) -> None:
        """Remember the client ``key`` (its MCP session id; "stdio") by its latest request's
        session: the SDK makes one per request, all sharing the connection's channel."""
        loop = asyncio.get_running_loop()
        with self._lock:
            known = self._clients.get(key)
            self._clients[key] = _Client(session, loop, known.level if known else "debug")

    def set_level(self, key: str, level: LoggingLevel) -> None:
        with self._lock:
            if (known := self._clients.get(key)) is not None:
                self._clients[key] = dataclasses.replace(known, level=level)

    def __call__(self, text: str) -> None:
        self.also(text)
        with self._lock:
            clients = list(self._clients.items())
        for key, client in clients:
            if _LEVELS.index(ANNOUNCE_LEVEL) < _LEVELS.index(client.level):
                continue
            sending = self._send(key, client, text)
            try:
                asyncio.run_coroutine_threadsafe(sending, client.loop)
            except RuntimeError:  # its event loop is closed: the server stopped
                sending.close()  # never scheduled: close it so it is not left unawaited
                self._forget(key)

    async def _send(self, key: str, client: _Client, text: str) -> None:
        notification = LoggingMessageNotification(params=LoggingMessageNotificationParams(
            level=ANNOUNCE_LEVEL, logger="assistant", data=text))
        try:
            # No related request: it goes out on the connection's own channel (stdout, or
            # the HTTP session's GET stream), not as part of some finished call.
            await client.session.send_notification(notification)
        except Exception:  # a client that went away (closed streams, ended session)
            log.debug("announcement not sent to %s; forgetting it", key, exc_info=True)
            self._forget(key)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._clients.pop(key, None)


@dataclass
class _Asker:
    """One call's confirmation: the skill's question put to the client's user by elicitation,
    from the worker thread the call runs on (the registry asks synchronously)."""

    session: ServerSession
    request_id: RequestId | None
    can_elicit: bool
    unasked: str = ""
    """The question a client without elicitation could not put to its user."""

    def __call__(self, question: str) -> bool:
        if not self.can_elicit:
            self.unasked = question
            return False
        return anyio.from_thread.run(self._elicit, question)

    async def _elicit(self, question: str) -> bool:
        with anyio.move_on_after(CONFIRM_TIMEOUT_S):
            try:
                answer = await self.session.elicit_form(question, CONFIRM_SCHEMA,
                                                        related_request_id=self.request_id)
            except (MCPError, ValidationError) as exc:  # refused or garbled: that is no yes
                log.info("confirmation not given: %s", exc)
                return False
            return answer.action == "accept" and confirmed(answer.content)
        return False


def _client_key(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """Which client a message came from: its MCP session id over HTTP (None before it has
    one, during initialize), "stdio" over stdio (one client per process)."""
    if ctx.request is None:
        return "stdio"
    headers = getattr(ctx.request, "headers", None)
    return headers.get("mcp-session-id") if headers is not None else None


class SkillServer:
    """The MCP server of one Assistant's skills (see the module docstring)."""

    def __init__(self, assistant: Assistant, also_announce: Callable[[str], None]) -> None:
        self.assistant = assistant
        self.announcements = Announcements(also_announce)
        # The host's context announces to the clients too: a timer set by voice is heard by
        # them, and one set through MCP is still spoken. Calls get a copy of it that differs
        # only in the channel remembered facts are recorded with.
        assistant.context.announce = self.announcements
        self.context = dataclasses.replace(assistant.context, channel="mcp")
        with warnings.catch_warnings():
            # logging/setLevel is gone from the 2026-07-28 protocol, but the handshake
            # versions clients speak have it, and announcements are log messages there.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            self.server: Server[Any] = Server(
                "voice-assistant", version=__version__, title="Voice assistant skills",
                instructions=INSTRUCTIONS, on_list_tools=self._list_tools,
                on_call_tool=self._call_tool, on_set_logging_level=self._set_level)
        self.server.middleware.append(self._track)

    async def _track(self, ctx: ServerRequestContext[Any, Any],
                     call_next: CallNext) -> HandlerResult:
        key = _client_key(ctx)
        if key is not None:
            self.announcements.track(key, ctx.session)
        return await call_next(ctx)

    async def _list_tools(self, ctx: ServerRequestContext[Any, Any],
                          params: PaginatedRequestParams | None) -> ListToolsResult:
        return ListToolsResult(tools=[tool_for(s) for s in
                                      self.assistant.registry.skills.values() if served(s)])

    async def _call_tool(self, ctx: ServerRequestContext[Any, Any],
                         params: CallToolRequestParams) -> CallToolResult:
        skill = self.assistant.registry.skills.get(params.name)
        if skill is None or not served(skill):
            return unknown(params.name)
        elicitation = ClientCapabilities(elicitation=ElicitationCapability())
        asker = _Asker(ctx.session, ctx.request_id,
                       can_elicit=ctx.session.check_client_capability(elicitation))
        call = await anyio.to_thread.run_sync(functools.partial(
            self.assistant.registry.call, params.name, params.arguments or {}, self.context,
            asker))
        if asker.unasked:
            return unconfirmed(params.name, asker.unasked)
        return result_for(call)

    async def _set_level(self, ctx: ServerRequestContext[Any, Any],
                         params: SetLevelRequestParams) -> EmptyResult:
        key = _client_key(ctx)
        if key is not None:
            self.announcements.set_level(key, params.level)
        return EmptyResult()


def own_assistant(config: Config) -> Assistant:
    """An Assistant for a process of its own (``assistant mcp serve``): skills loaded, their
    start hooks run; the memory opens on the first call that needs it."""
    assistant = Assistant(config, announce=say_on_stderr)
    for problem in assistant.registry.errors:
        print(f"skipped: {problem}", file=sys.stderr)
    return assistant


def run_stdio(config: Config) -> int:
    """``assistant mcp serve``: serve until the client closes our stdin."""
    anyio.run(_serve_stdio, config)
    return 0


async def _serve_stdio(config: Config) -> None:
    # The transport claims stdout first and points the file descriptor at stderr, so that
    # from here on a stray print (a plugin's import, a skill's debugging) cannot corrupt
    # the protocol: the skills are loaded inside.
    async with stdio_server() as (read, write):
        assistant = own_assistant(config)
        skills = SkillServer(assistant, also_announce=say_on_stderr)
        assistant.start_skills()
        try:
            await skills.server.run(read, write, skills.server.create_initialization_options())
        finally:
            assistant.close()
