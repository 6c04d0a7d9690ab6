"""``assistant mcp list`` and ``assistant skills approve NAME``: the configured MCP servers,
their state and tools, and approving a server whose tool definitions changed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from assistant import AssistantError
from assistant.config import Config
from assistant.mcp.client import McpServerError
from assistant.mcp.servers import Server
from assistant.mcp.tools import server_skills


def list_servers(config: Config, console: Console) -> int:
    """Start each configured server (within its time limit) and show its state and tools."""
    servers = config.mcp.servers
    if not servers:
        console.print("No MCP servers are configured: add [mcp.servers.<name>] tables to "
                      "the config file (see the README's MCP section).")
        return 0
    table = Table("server", "state", "tool (skill)", "risk", "read-only", title="MCP servers")
    for name, cfg in servers.items():
        server = Server(name, cfg, config.mcp, config.paths.data)
        try:
            defs = server.definitions()
        except McpServerError:
            defs = []
        state = server.state
        skills, skipped = server_skills(defs, name, cfg, server.call,
                                        config.mcp.startup_timeout_s)
        where = cfg.command or cfg.url
        table.add_row(name, state, f"[dim]{where}[/]", "", "")
        for s in skills:
            table.add_row("", "", s.name, s.risk, "yes" if s.read_only else "no")
        for line in skipped:
            table.add_row("", "", f"[yellow]{line.split(': ', 1)[-1]}[/]", "", "")
        server.conn.stop(wait=True)
    console.print(table)
    return 0


def approve(config: Config, name: str, console: Console) -> int:
    """Show what changed in server ``name``'s tool definitions, then pin the new ones."""
    cfg = config.mcp.servers.get(name)
    if cfg is None:
        known = ", ".join(config.mcp.servers) or "none"
        raise AssistantError(f"no MCP server called '{name}' is configured (configured: {known})")
    server = Server(name, cfg, config.mcp, config.paths.data)
    try:
        approval = server.approve()
    finally:
        server.conn.stop(wait=True)
    if not approval.pinned:
        console.print(f"Nothing to approve: the {name} server's tools are as approved.")
        return 0
    for line in approval.changes:
        console.print(line)
    console.print(f"[green]approved[/] the {name} server's current tool definitions.")
    return 0
