"""``assistant bench reliability``'s counting of property tests (assistant.bench.reliability):
a property's examples are counted, and a failing one is sorted by what went wrong."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from assistant.bench.reliability import _name, _Properties

PROPERTIES = '''
from hypothesis import given, settings, strategies as st

@settings(max_examples=30, database=None)
@given(st.integers())
def test_holds(n):
    assert isinstance(n, int)

@settings(max_examples=30, database=None)
@given(st.integers(0, 10))
def test_bound_exceeded(n):
    assert n < 5, "over the bound"

@settings(max_examples=30, database=None)
@given(st.integers(0, 10))
def test_crashes(n):
    if n > 5:
        raise ValueError("escaped")

def test_not_a_property():
    pass
'''


def test_examples_are_counted_and_failures_sorted(tmp_path: Path) -> None:
    (tmp_path / "test_props.py").write_text(PROPERTIES)
    plugin = _Properties()
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider",
                     "--hypothesis-show-statistics", "-o", "addopts=", "--rootdir",
                     str(tmp_path)], plugins=[plugin])
    by_name = {t.name.split(": ")[1]: t for t in plugin.targets.values()}
    assert set(by_name) == {"holds", "bound exceeded", "crashes"}  # not the plain test
    holds = by_name["holds"]
    assert holds.examples == 30 and (holds.crashes, holds.hangs, holds.exceeded) == (0, 0, 0)
    assert by_name["bound exceeded"].exceeded == 1 and by_name["bound exceeded"].crashes == 0
    assert by_name["crashes"].crashes == 1 and by_name["crashes"].examples > 0
    assert "ValueError: escaped" in by_name["crashes"].failures[0]


def test_names_read_as_words() -> None:
    assert _name("tests/unit/test_text.py::test_bounded_text_fits") == "text: bounded text fits"
