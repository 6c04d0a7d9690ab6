"""The tool definitions of each MCP server as the user first accepted them.

A server may change what its tools say after they were first seen (a "rug pull": a harmless
tool that later describes itself as something else). The first listing of a server is
pinned, trust on first use: its definitions and their sha256, in
``<data_dir>/mcp/pins.json``. A later listing with another digest disables the server's
tools until the user approves the change (``assistant skills approve NAME``).

The pinned definitions also let the registry be built without starting any server: its
skills come from the pin, and the server starts on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import AssistantError

Definition = dict[str, Any]
"""One tool as the server lists it: name, title, description, input_schema, annotations."""


class PinsError(AssistantError):
    """The pins file cannot be read or written."""


def definitions(tools: list[Any]) -> list[Definition]:
    """The parts of ``tools`` (the SDK's ``Tool`` objects) that say what a tool does."""
    return [t.model_dump(mode="json", exclude_none=True,
                         include={"name", "title", "description", "input_schema",
                                  "annotations"}) for t in tools]


def digest(defs: list[Definition]) -> str:
    """sha256 of the definitions, in a canonical form (tool order and key order ignored)."""
    canonical = json.dumps(sorted(defs, key=lambda d: d.get("name", "")), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def changes(old: list[Definition], new: list[Definition]) -> list[str]:
    """What differs between two listings, one short line per tool."""
    before = {d.get("name", ""): d for d in old}
    after = {d.get("name", ""): d for d in new}
    lines = [f"new tool {n}" for n in after if n not in before]
    lines += [f"tool {n} removed" for n in before if n not in after]
    for name in after.keys() & before.keys():
        parts = [k for k in sorted(after[name].keys() | before[name].keys())
                 if after[name].get(k) != before[name].get(k)]
        if parts:
            lines.append(f"tool {name}: {', '.join(p.replace('_', ' ') for p in parts)} "
                         "changed")
            if "description" in parts:
                lines.append(f"  was: {before[name].get('description', '')!r}")
                lines.append(f"  now: {after[name].get('description', '')!r}")
    return lines


@dataclass(frozen=True)
class Pin:
    digest: str
    tools: tuple[Definition, ...]


class Pins:
    """The pins file of a data folder."""

    _lock = threading.Lock()
    """Servers start in parallel: their read-modify-write of the file must not interleave."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "mcp" / "pins.json"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PinsError(f"mcp: cannot read {self.path}: {exc}") from None
        return data if isinstance(data, dict) else {}

    def get(self, server: str) -> Pin | None:
        entry = self._read().get(server)
        if not isinstance(entry, dict) or not isinstance(entry.get("tools"), list):
            return None
        return Pin(str(entry.get("digest", "")), tuple(entry["tools"]))

    def put(self, server: str, defs: list[Definition]) -> Pin:
        """Pin ``defs`` for ``server`` (written atomically: a crash keeps the old file)."""
        pin = Pin(digest(defs), tuple(defs))
        with self._lock:
            self._write(server, pin)
        return pin

    def _write(self, server: str, pin: Pin) -> None:
        data = self._read()
        data[server] = {"digest": pin.digest, "tools": list(pin.tools)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise PinsError(f"mcp: cannot write {self.path}: {exc}") from None
