"""Shared fixtures. Tests never touch the user's real data folder; models come from the
normal cache (scripts/setup.sh fetched them), so the real-model tests use the real weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Config, load_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The default configuration with a private data folder."""
    (tmp_path / "config.toml").write_text("")
    return load_config(path=tmp_path / "config.toml",
                       overrides={"paths.data_dir": str(tmp_path / "data")}, env={}).config


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the `assistant` command in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_PATHS__DATA_DIR"] = str(tmp_path / "data")
    env["ASSISTANT_CONFIG"] = str(tmp_path / "config.toml")
    (tmp_path / "config.toml").write_text("")
    return env
