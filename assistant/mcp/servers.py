"""The configured MCP servers as skills of a registry, with their definitions pinned.

:func:`add_servers` registers every configured server's tools. A server whose definitions
are pinned (:mod:`assistant.mcp.pins`) is registered from the pin without being started: it
starts on its first call, so building a registry (``skills list``, a chat's start) costs no
process. A server seen for the first time is started (all of them at once, each within
``mcp.startup_timeout_s``) and its definitions pinned. One that fails is one line in
``registry.errors`` and is skipped; the rest work. A host that keeps running (the voice
loop, ``serve``, the chat REPL) starts the pinned ones at warm-up, in the background
(``SkillRegistry.warm``), so that their first call does not pay the start.

Each start compares the server's definitions with the pin: a change disables the server's
tools (each call says why) until ``assistant skills approve NAME`` pins the new ones.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types

from assistant.config import McpConfig, McpServerConfig
from assistant.mcp.client import Connection, McpServerError, connect
from assistant.mcp.pins import Pin, Pins, changes, definitions, digest
from assistant.mcp.tools import server_skills
from assistant.skills import SkillRegistry


@dataclass(frozen=True)
class Approval:
    """What ``skills approve`` found: the changes, and whether the new definitions are now
    pinned (False when there was nothing to approve)."""

    server: str
    changes: tuple[str, ...]
    pinned: bool


class Server:
    """One configured server: its connection and its pin."""

    def __init__(self, name: str, cfg: McpServerConfig, mcp_cfg: McpConfig,
                 data_dir: Path) -> None:
        self.name = name
        self.cfg = cfg
        self.pins = Pins(data_dir)
        self.conn: Connection = connect(name, cfg, startup_timeout_s=mcp_cfg.startup_timeout_s,
                                        log_dir=data_dir / "mcp")
        self.changed = False
        """Its definitions differ from the pin: disabled until approved."""

    @property
    def state(self) -> str:
        """"running", "stopped", "failed: why" or "disabled: definitions changed"."""
        if self.changed:
            return "disabled: definitions changed (assistant skills approve " + self.name + ")"
        if self.conn.state == "failed":
            return f"failed: {self.conn.detail}"
        return self.conn.state

    def definitions(self) -> list[dict[str, Any]]:
        """The definitions it lists now (starting it); pinned if it had no pin yet."""
        defs = definitions(self.conn.tools())
        pin = self.pins.get(self.name)
        if pin is None:
            self.pins.put(self.name, defs)
        else:
            self.changed = digest(defs) != pin.digest
        return defs

    def start(self) -> None:
        """(Re)start it unless it is running, checking the pin before anything runs; raises
        McpServerError with a sentence."""
        if self.conn.state != "running":
            self.definitions()

    def warm(self) -> None:
        """:meth:`start` ahead of its first call (at a long-running host's warm-up). A server
        that fails is left for its first call to retry and to report in a sentence."""
        with contextlib.suppress(McpServerError):
            self.start()

    def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call ``tool`` on the server as pinned; raises McpServerError with a sentence."""
        self.start()
        if self.changed:
            self.conn.stop()
            raise McpServerError(f"the tools of the {self.name} server changed since you "
                                 f"approved them; run `assistant skills approve {self.name}` "
                                 "to use them again.")
        return self.conn.call(tool, arguments)

    def approve(self) -> Approval:
        """Start the server, compare its definitions with the pin, and pin them."""
        defs = definitions(self.conn.tools())
        pin = self.pins.get(self.name)
        old = list(pin.tools) if pin else []
        found = tuple(changes(old, defs)) if pin else ("first seen",)
        if pin is not None and pin.digest == digest(defs):
            return Approval(self.name, (), False)
        self.pins.put(self.name, defs)
        self.changed = False
        return Approval(self.name, found, True)


def _first_listing(server: Server) -> tuple[Server, Pin | None, str]:
    """Start a server that has no pin yet: (server, its new pin or None, the failure)."""
    try:
        server.definitions()
    except McpServerError as exc:
        return server, None, str(exc)
    return server, server.pins.get(server.name), ""


def add_servers(registry: SkillRegistry, mcp_cfg: McpConfig, data_dir: Path
                ) -> dict[str, Server]:
    """Register the tools of every configured server (see the module's docstring)."""
    servers = {name: Server(name, cfg, mcp_cfg, data_dir)
               for name, cfg in mcp_cfg.servers.items()}
    pins = {name: s.pins.get(name) for name, s in servers.items()}
    new = [s for name, s in servers.items() if pins[name] is None]
    if new:
        with ThreadPoolExecutor(max_workers=len(new), thread_name_prefix="mcp-start") as pool:
            for server, pin, error in pool.map(_first_listing, new):
                pins[server.name] = pin
                if error:
                    registry.errors.append(f"mcp server '{server.name}': {error}")
    for name, server in servers.items():
        pin = pins[name]
        if pin is None:
            continue
        skills, skipped = server_skills(pin.tools, name, server.cfg, server.call,
                                        mcp_cfg.startup_timeout_s)
        registry.errors += skipped
        registry.warmers.append(server.warm)
        for s in skills:
            registry.add(s)
    return servers
