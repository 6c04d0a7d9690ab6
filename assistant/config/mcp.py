"""``[mcp]``: the MCP servers whose tools become skills, and our own MCP endpoint."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from assistant.config.base import Section


class McpToolOverride(Section):
    """``[mcp.servers.<name>.tools.<tool>]``: what the user says about one tool of a server."""

    risk: Literal["safe", "confirm"] | None = Field(
        None, description="'safe' runs it without asking; default: 'confirm' unless the "
        "server is trusted and the tool says it is read-only.")
    read_only: bool | None = Field(
        None, description="It changes nothing (may run speculatively); default: the tool's "
        "readOnlyHint, believed only from a trusted server.")
    patterns: list[str] = Field(
        default_factory=list, description="Fast-path regexes over the normalised utterance; "
        "named groups become arguments, e.g. 'what time is it in (?P<timezone>[\\w/]+)'.")
    say: str = Field(
        "", description="The answer, from the result's fields, e.g. 'It is {datetime}.' "
        "({result} is the whole result).")
    description: str = Field("", description="A shorter description for the model.")


class McpServerConfig(Section):
    """``[mcp.servers.<name>]``: one MCP server, as in the usual ``mcpServers`` shape."""

    command: str = Field("", description="Program to start (stdio transport).")
    args: list[str] = Field(default_factory=list, description="Its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for it; "
        "${VAR} is taken from our environment.")
    url: str = Field("", description="A streamable HTTP endpoint instead of a command.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="HTTP headers, e.g. Authorization = "
        "'Bearer ${HA_TOKEN}' (${VAR} is taken from the environment).")
    timeout_s: float = Field(10.0, gt=0, description="Time limit of one tool call.")
    trust: Literal["untrusted", "trusted"] = Field(
        "untrusted", description="'trusted': believe its read-only annotations (its "
        "read-only tools then run without asking).")
    allowed_tools: list[str] | None = Field(
        None, description="Only these tools (default: all).")
    blocked_tools: list[str] = Field(default_factory=list, description="Never these tools.")
    tools: dict[str, McpToolOverride] = Field(
        default_factory=dict, description="Per-tool overrides.")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if bool(self.command) == bool(self.url):
            raise ValueError("give exactly one of command (stdio) or url (streamable HTTP)")
        if self.url and urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"url must be http(s)://..., not {self.url!r}")
        return self


class McpConfig(Section):
    """``[mcp]``: tools of other programs (MCP servers) as skills."""

    servers: dict[str, McpServerConfig] = Field(
        default_factory=dict, description="One table per server: [mcp.servers.<name>].")
    startup_timeout_s: float = Field(
        10.0, gt=0, description="A server must start and list its tools within this time; "
        "otherwise it is reported and skipped (and tried again on its next use).")
    serve_http: bool = Field(
        False, description="Inside `assistant voice` and `assistant serve`: also offer our "
        "skills over MCP (streamable HTTP on 127.0.0.1, bearer token in <data_dir>/mcp-token).")
    http_port: int = Field(8765, ge=0, le=65535,
                           description="Port of that endpoint and of `assistant mcp serve "
                           "--http` (0: any free port).")
