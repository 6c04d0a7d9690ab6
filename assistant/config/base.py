"""What every config section shares: the base model (unknown keys are errors, assignments
validated), the error type, and the value types the sections use."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from assistant import AssistantError

APP_NAME = "assistant"
ENV_PREFIX = "ASSISTANT_"


class ConfigError(AssistantError):
    """The configuration file or an override is invalid."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def http_url(url: str) -> str:
    """A model server's base URL: http(s), a host, no query; '' when unset."""
    parts = urlsplit(url.strip())
    _ = parts.port  # a port that is no number raises ValueError here: a config error
    # urlsplit silently drops tabs and newlines inside a URL; httpx would not.
    inner = any(c.isspace() or not c.isprintable() for c in url.strip())
    if url and (inner or parts.scheme not in ("http", "https") or not parts.hostname
                or parts.query or parts.fragment):
        raise ValueError(f"{url!r} is not an http(s) URL like http://127.0.0.1:8080/v1")
    return url.strip().rstrip("/")


Seconds = Annotated[float, Field(ge=0)]
Frames = Annotated[int, Field(ge=1)]
"""A number of 20 ms audio frames."""
Ratio = Annotated[float, Field(ge=0, le=1)]
"""A fraction, or a similarity (difflib's ratio), from 0 to 1."""
