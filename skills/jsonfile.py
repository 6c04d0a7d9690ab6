"""One JSON document on disk, written atomically: how the built-in skills that persist
(timers, alarms, reminders, lists) keep their files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class JsonFile:
    """One JSON document on disk, replaced atomically (a temp file, then ``os.replace``) so a
    crash mid-write leaves the old version rather than half a file. Shared by the built-in
    skills that persist (timers, reminders, lists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        """Why the last load or save failed, in words (None when it worked)."""

    def load(self) -> Any:
        """The document, or None when there is none. An unreadable one is moved aside to
        ``<name>.corrupt`` (never overwritten: it may hold the only copy of someone's data)
        and reported in :attr:`error`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.error = f"I couldn't read {self.path.name}: {exc.strerror or exc}"
            return None
        try:
            return json.loads(text)
        except ValueError:
            aside = self.path.with_name(self.path.name + ".corrupt")
            try:
                os.replace(self.path, aside)
                self.error = f"{self.path.name} was damaged; I kept it as {aside.name}"
            except OSError:
                self.error = f"{self.path.name} was damaged"
            return None

    def save(self, document: Any) -> bool:
        """Write ``document``; False (and :attr:`error`) when the disk refused."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".",
                                       suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(document, fh, indent=1)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self.error = f"I couldn't save {self.path.name}: {exc.strerror or exc}"
            return False
        self.error = None
        return True
