"""A short soak (assistant.bench.soak): one conversation through the voice loop for two
minutes of wall time. The hour-long one is ``assistant bench reliability``."""

from __future__ import annotations

import pytest

from assistant.bench.soak import SCENES, soak
from assistant.config import load_config

pytestmark = pytest.mark.slow


def test_a_long_conversation_keeps_answering_and_leaks_no_threads_or_files(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("data")
    config = load_config(overrides={"paths.data_dir": str(data)}, env={}).config
    result = soak(config, duration_s=120, sample_s=20)
    seen = f"{result.scenes} scenes, {result.turns} turns, samples {result.samples}"
    assert result.errors == [], seen
    assert result.scenes > len(SCENES), seen  # every scene, and some again
    assert result.turns >= result.scenes, seen  # every scene has at least one answer
    settled = result.samples[1:]  # after the first scene (models warm, timers started)
    # A leak of one thread or file per scene (or per four scenes) shows here; the odd timer
    # thread or store file open at the sampled moment does not (in the suite's process:
    # threads 36 -> 38, files 100 -> 103, then flat, over 32 scenes).
    bound = max(4, result.scenes // 4)
    assert settled[-1].threads - settled[0].threads < bound, seen
    assert settled[-1].files - settled[0].files < bound, seen
    # RSS is not bounded here: in the suite it is the whole test process's (models of earlier
    # tests); its growth is `assistant bench reliability`'s to measure, on its own.
