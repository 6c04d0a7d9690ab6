"""Reading the configuration: defaults < the TOML file < ``ASSISTANT_*`` variables < the
command line, each value with its source; errors as one line naming the key."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError

from assistant.config.base import APP_NAME, ENV_PREFIX, ConfigError, Section
from assistant.config.sections import Config


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class LoadedConfig:
    """The effective config plus where each value came from (``"default"``, a path, an env var)."""

    def __init__(self, config: Config, sources: dict[str, str], path: Path) -> None:
        self.config = config
        self.sources = sources
        self.path = path


def _parse_env_value(raw: str) -> Any:
    # Env values are JSON when they parse as JSON (numbers, booleans, lists), else plain strings.
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _merge(target: dict, path: list[str], value: Any, source: str, sources: dict) -> None:
    """Set ``value`` at ``path`` (section, subsection..., key) in ``target``; a table is
    merged key by key, so that each key keeps its own source."""
    if isinstance(value, dict):
        for key, item in value.items():
            _merge(target, [*path, key], item, source, sources)
        return
    node = target
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    sources[".".join(path)] = source


def _format_error(err: ValidationError, sources: dict[str, str]) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    origin = sources.get(key)
    where = f" (from {origin})" if origin else ""
    if first["type"] == "extra_forbidden":
        line = f"config: unknown key '{key}'{where}; see `assistant config show` for valid keys"
    else:
        line = f"config: {key}: {first['msg']}{where}"
    # Keys and values come from outside: a newline or an escape in one stays on the line.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> LoadedConfig:
    """Load defaults, then the TOML file, then ``ASSISTANT_*`` env vars, then ``overrides``.

    ``overrides`` maps dotted keys (``"llm.model"``) to values, e.g. from CLI flags.
    Raises ConfigError with a one-line message naming the bad key.
    """
    env = dict(os.environ) if env is None else env
    explicit = path or env.get(f"{ENV_PREFIX}CONFIG")
    cfg_path = Path(explicit).expanduser() if explicit else default_config_path()
    raw: dict[str, dict] = {}
    sources: dict[str, str] = {}

    if cfg_path.is_dir():
        raise ConfigError(f"config: {cfg_path} is a folder; give the path of a TOML file")
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config: {cfg_path} is not valid TOML: {exc}") from None
        except OSError as exc:  # unreadable: permissions, a device, a dangling mount
            raise ConfigError(f"config: cannot read {cfg_path}: {exc.strerror or exc}") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(
                    f"config: unknown key '{section}' in {cfg_path}; keys live in sections "
                    "such as [llm] or [skills]"
                )
            _merge(raw, [section], values, str(cfg_path), sources)
    elif explicit:
        raise ConfigError(f"config: file not found: {cfg_path}")

    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        section, sep, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if not sep:
            raise ConfigError(
                f"config: environment variable {name} should look like "
                f"{ENV_PREFIX}<SECTION>__<KEY>, e.g. {ENV_PREFIX}LLM__N_THREADS=4"
            )
        _merge(raw, [section, *key.split("__")], _parse_env_value(value), f"env {name}",
               sources)

    for dotted, value in (overrides or {}).items():
        _merge(raw, dotted.split("."), value, "command line", sources)

    try:
        config = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_error(err, sources)) from None
    return LoadedConfig(config, sources, cfg_path)


def describe(loaded: LoadedConfig) -> list[tuple[str, Any, str, str]]:
    """Rows of (key, effective value, source, description) for every config key, the keys of
    subsections (``voice.vad.min_rms``) included."""
    rows = []

    def walk(section: Section, prefix: str) -> None:
        for key, field in type(section).model_fields.items():
            value, dotted = getattr(section, key), f"{prefix}{key}"
            if isinstance(value, Section):
                walk(value, dotted + ".")
            else:
                rows.append((dotted, value, loaded.sources.get(dotted, "default"),
                             field.description or ""))

    walk(loaded.config, "")
    return rows
