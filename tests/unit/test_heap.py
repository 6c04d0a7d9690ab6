"""assistant.heap: freed memory in the middle of the heap goes back to the system."""

from __future__ import annotations

import subprocess
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


_LARGE_BLOCKS = """
import psutil
from assistant import heap
assert heap.configure() is True
big = bytearray(8 << 20)
del big
blocks = [bytearray(heap.MMAP_THRESHOLD * 2) for _ in range(100)]
for block in blocks:
    block[::4096] = b"\\x01" * len(block[::4096])  # touched: really resident
kept = blocks[::10]
before = psutil.Process().memory_info().rss
del blocks
print((before - psutil.Process().memory_info().rss) / 2**20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_configured_large_blocks_go_back_when_freed() -> None:
    # A freed 8 MB block would raise glibc's own threshold to 8 MB, and 2 MB blocks would
    # then stay in the heap when freed; configured, each is unmapped as it is freed. In a
    # fresh process, as at start: in one whose heap already has free room (this test run's),
    # glibc serves even large blocks from that room before it maps any.
    proc = subprocess.run([sys.executable, "-c", _LARGE_BLOCKS], capture_output=True,
                          text=True, timeout=60, check=True)
    assert float(proc.stdout) > 150, proc.stdout  # MB given back, no trim needed
