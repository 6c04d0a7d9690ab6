"""assistant.heap: freed memory in the middle of the heap goes back to the system."""

from __future__ import annotations

import sys

import psutil
import pytest

from assistant import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trim_returns_what_fragmented_frees_kept() -> None:
    # 200 MB in 50 KB blocks (under glibc's mmap threshold, so on the heap), then all but
    # every 100th freed: the heap's top is kept in use, so glibc keeps the holes.
    blocks = [bytearray(50_000) for _ in range(4000)]
    for i in range(len(blocks)):
        blocks[i][::4096] = b"\x01" * len(blocks[i][::4096])  # touched: really resident
    kept = blocks[::100]
    del blocks
    before = psutil.Process().memory_info().rss
    assert heap.trim() is True
    after = psutil.Process().memory_info().rss
    assert before - after > 100 * 2**20, (before / 2**20, after / 2**20)
    assert len(kept) == 40
