"""Properties of loading the configuration from outside input: any TOML file and any
``ASSISTANT_*`` value give a Config or one line of ConfigError, never another exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.config import Config, ConfigError, LoadedConfig, load_config

# Real keys, so that most examples get past "unknown key" to the values' own checks.
KEYS = {name: list(type(section).model_fields)
        for name, section in Config().__dict__.items()}
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                   st.sampled_from(["http://127.0.0.1:8080/v1", "openai", "local", "", "-1"]))
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=4))


def _toml(value: object) -> str:
    """A TOML literal: JSON's strings, numbers, booleans and arrays are TOML's too."""
    return json.dumps(value)


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from([*KEYS, "nonsense"]), max_size=4, unique=True)):
        lines.append(f"[{section}]")
        names = [*KEYS.get(section, ["whatever"]), "unknown_key"]
        for key in draw(st.lists(st.sampled_from(names), max_size=5, unique=True)):
            value = draw(VALUE)
            if value is not None:  # TOML has no null
                lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines)


def _holds(load: object) -> None:
    try:
        loaded = load()  # type: ignore[operator]
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("config: ") and "\n" not in message and len(message) < 600
    else:
        assert isinstance(loaded, LoadedConfig) and isinstance(loaded.config, Config)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(toml_documents(), st.text(max_size=200)))
def test_any_config_file_is_a_config_or_one_line(folder: Path, text: str) -> None:
    """What must hold: a TOML document of real and unknown sections, keys and values of every
    type (or any text at all) loads as a Config or raises a one-line ConfigError."""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _holds(lambda: load_config(path, env={}))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from([*KEYS, "nonsense", ""]), data=st.data())
def test_any_environment_value_is_a_config_or_one_line(folder: Path, section: str,
                                                       data: st.DataObject) -> None:
    """What must hold: ``ASSISTANT_<SECTION>__<KEY>=<any string>`` (real keys, unknown ones,
    malformed names, any value, JSON or not) gives a Config or a one-line ConfigError."""
    key = data.draw(st.sampled_from([*KEYS.get(section, ["x"]), "", "unknown__deeper"]))
    value = data.draw(st.one_of(st.text(max_size=60).filter(lambda v: "\x00" not in v),
                                VALUE.map(json.dumps)))
    name = f"ASSISTANT_{section}__{key}".upper() if section else "ASSISTANT_" + key.upper()
    empty = folder / "empty.toml"
    empty.write_text("")
    _holds(lambda: load_config(empty, env={name: value}))


STRING_KEYS = [(section, key) for section, keys in KEYS.items() for key in keys
               if isinstance(getattr(getattr(Config(), section), key), str)]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(STRING_KEYS),
       value=st.builds(lambda a, c, b: a + c + b, st.text(max_size=20),
                       st.sampled_from(["\n", "\r", "\x1b[2J", "\t", "\x00", "\u2028"]),
                       st.text(max_size=20)))
def test_control_characters_in_a_value_stay_on_one_line(folder: Path, where: tuple[str, str],
                                                        value: str) -> None:
    """What must hold: a value with a newline or an escape in any string key, from the file
    (as a TOML string) or the environment, is accepted or refused in one line."""
    section, key = where
    path = folder / "control.toml"
    path.write_text(f"[{section}]\n{key} = {_toml(value)}\n", encoding="utf-8",
                    errors="surrogatepass")
    _holds(lambda: load_config(path, env={}))
    if "\x00" not in value:  # an environment cannot hold a NUL
        empty = folder / "empty.toml"
        empty.write_text("")
        _holds(lambda: load_config(empty, env={f"ASSISTANT_{section}__{key}".upper(): value}))
