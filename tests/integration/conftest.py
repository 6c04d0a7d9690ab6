"""Fixtures shared by the real-model integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Config
from assistant.memory import MemoryStore, open_store
from assistant.skills import SkillContext, SkillRegistry


@pytest.fixture
def skills(config: Config, tmp_path: Path) -> Iterator[tuple[SkillRegistry, SkillContext,
                                                               MemoryStore]]:
    """The real registry (entry points) and a context whose memory is an open store."""
    registry = SkillRegistry(default_timeout_s=60)  # first calls on a loaded 2-core machine
    registry.load_entry_points()
    assert registry.errors == []
    assert {"remember", "recall", "forget"} <= set(registry.skills)
    store = open_store(config)
    try:
        yield registry, SkillContext(data_dir=tmp_path / "data", memory=lambda: store), store
    finally:
        store.close()
