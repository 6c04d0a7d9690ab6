"""Our MCP server over streamable HTTP: on 127.0.0.1 only, behind a bearer token.

:class:`HttpEndpoint` runs the SDK's streamable HTTP app for a
:class:`~assistant.mcp.server.SkillServer` under uvicorn on a thread of its own, so that it can
live inside ``assistant voice`` and ``assistant serve`` (sharing their Assistant: the memory
store one process may hold, the timer table) as well as alone (``assistant mcp serve
--http``). The token is random, kept in ``<data_dir>/mcp-token`` (mode 0600) so that a
client's configuration stays valid across restarts, and checked by the SDK's own bearer
middleware: a request without it gets 401. The SDK also refuses requests whose ``Host`` or
``Origin`` is not local (DNS rebinding).

While the endpoint runs, a second process that finds the memory store held is told where it
is (:func:`assistant.memory.holder.note`).
"""

from __future__ import annotations

import hmac
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from assistant import AssistantError
from assistant.agent import Assistant
from assistant.config import Config
from assistant.mcp.server import SkillServer, own_assistant, say_on_stderr
from assistant.memory import holder

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
"""How long the endpoint may take to start listening."""
STOP_TIMEOUT_S = 3.0
"""How long open streams (a client's GET stream) may hold up a stop."""


class McpHttpError(AssistantError):
    """The MCP endpoint cannot start (its port is taken, its token cannot be kept)."""


def load_token(data_dir: Path) -> tuple[str, Path]:
    """The bearer token and its file, made (random, mode 0600) on first use."""
    path = data_dir / "mcp-token"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
        os.chmod(path, 0o600)  # a copied or hand-made file must not stay readable by others
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise McpHttpError(f"mcp: cannot keep the token in {path}: {exc.strerror}") from None
    if len(token) < 16:
        raise McpHttpError(f"mcp: the token in {path} is too short; delete the file to get a "
                           "new one")
    return token, path


class _Token:
    """The SDK's TokenVerifier for our one token."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="local", scopes=[])
        return None


class HttpEndpoint:
    """``SkillServer`` on ``http://127.0.0.1:<port>/mcp`` until :meth:`close`."""

    def __init__(self, skills: SkillServer, config: Config, port: int) -> None:
        self.skills = skills
        self.config = config
        self.token, self.token_path = load_token(config.paths.data)
        try:
            self._socket = socket.create_server((HOST, port))
        except OSError as exc:  # create_server's own message repeats the address
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise McpHttpError(f"mcp: cannot listen on {HOST}:{port}: {reason}; set "
                               "mcp.http_port (or --port) to a free port") from None
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}/mcp"
        app = skills.server.streamable_http_app(
            host=HOST, token_verifier=_Token(self.token),
            auth=AuthSettings(issuer_url=f"http://{HOST}:{self.port}",
                              resource_server_url=None))
        self._uvicorn = uvicorn.Server(uvicorn.Config(
            app, log_level="warning", loop="asyncio", lifespan="on",
            timeout_graceful_shutdown=STOP_TIMEOUT_S))
        self._thread = threading.Thread(target=self._uvicorn.run, args=([self._socket],),
                                        name="mcp-http", daemon=True)

    def start(self) -> str:
        """Listen; returns the URL. Raises McpHttpError if it does not come up."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise McpHttpError(f"mcp: the HTTP endpoint on {self.url} did not start")
            time.sleep(0.02)
        holder.note(self.config.memory.folder(self.config.paths.data),
                    f"use its MCP server at {self.url} (token in {self.token_path})")
        return self.url

    def banner(self) -> str:
        """What to print once at start: where, and the token."""
        return (f"MCP: our skills at {self.url} — bearer token {self.token} "
                f"(kept in {self.token_path})")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        holder.clear(self.config.memory.folder(self.config.paths.data))
        self._uvicorn.should_exit = True
        self._thread.join(STOP_TIMEOUT_S + 2)
        self._socket.close()


def alongside(assistant: Assistant, say: Callable[[str], None]) -> HttpEndpoint | None:
    """For ``assistant voice`` and ``assistant serve`` (``mcp.serve_http``): the endpoint
    sharing ``assistant``, started, its banner said once; None when it cannot start (which is
    said, and not fatal: the host goes on without it)."""
    config = assistant.config
    try:
        endpoint = HttpEndpoint(SkillServer(assistant, also_announce=assistant.context.announce),
                                config, config.mcp.http_port)
        endpoint.start()
    except McpHttpError as exc:
        say(f"error: {exc}")
        return None
    say(endpoint.banner())
    return endpoint


def run_http(config: Config, port: int | None) -> int:
    """``assistant mcp serve --http``: serve until Ctrl-C or SIGTERM."""
    assistant = own_assistant(config)
    endpoint = HttpEndpoint(SkillServer(assistant, also_announce=say_on_stderr), config,
                            config.mcp.http_port if port is None else port)
    try:
        endpoint.start()
        assistant.start_skills()
        print(endpoint.banner() + ". Ctrl-C stops.", file=sys.stderr, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.5):
            if not endpoint.running:
                raise McpHttpError("mcp: the HTTP endpoint stopped")
    finally:
        endpoint.close()
        assistant.close()
    return 0

