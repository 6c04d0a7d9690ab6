"""assistant.voice.app: the turn model setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.models import ModelError
from assistant.voice.app import build_detector


def test_the_turn_model_setting(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")

    def config(value: str):
        return load_config(path=tmp_path / "config.toml", env={},
                           overrides={"voice.turn_model": value}).config

    assert build_detector(config("")) is None  # rules only
    with pytest.raises(ModelError, match="neither a catalogue name"):
        build_detector(config("no-such-model"))
