"""Properties of what skills are given from outside (the LLM's arguments, a pattern's
captures, an MCP client's call): argument validation of every built-in skill on any JSON, and
the calculator on any expression, deep nesting and huge exponents included."""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.skills import SkillContext, SkillRegistry

# Deep nesting makes long examples; their repr is only built for reporting.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

_BUILTIN = SkillRegistry()
_BUILTIN.load_entry_points()
# The same skills with a body that only says it ran: validation and the call path are the
# real ones, and nothing is set, stored or deleted by random arguments.
_VALIDATING = SkillRegistry([dataclasses.replace(s, func=lambda **_: "ran")
                             for s in _BUILTIN.skills.values()])

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**80, 2**80)
                    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(_BUILTIN.skills)))
    fields = list(_BUILTIN.skills[name].parameters.get("properties", {}))
    keys = st.sampled_from([*fields, "extra"]) if fields else st.just("extra")
    arguments = draw(st.one_of(st.dictionaries(keys, JSON, max_size=len(fields) + 1), JSON))
    return name, arguments


def _a_sentence(text: Any) -> None:
    assert isinstance(text, str) and text.strip()
    assert "\n" not in text and "Traceback" not in text and len(text) < 500
    assert text.rstrip().endswith((".", "?", "!")), text


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> SkillContext:
    return SkillContext(data_dir=tmp_path_factory.mktemp("skills"))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls())
def test_any_json_arguments_are_run_or_refused_in_a_sentence(ctx: SkillContext,
                                                            call: tuple[str, Any]) -> None:
    """What must hold: any JSON value as the arguments of any built-in skill either passes
    validation (the skill runs) or is refused with one sentence naming the problem."""
    name, arguments = call
    result = _VALIDATING.call(name, arguments, ctx)
    if result.ok:
        assert result.result == "ran" or _BUILTIN.skills[name].risk == "confirm"
    else:
        _a_sentence(result.result)


NUMBER = st.one_of(st.integers(0, 10**30).map(str), st.sampled_from(["9", "99", "0.5", "1e308",
                                                                      "1e-308", "0", ".5"]))
OPERATOR = st.sampled_from(["+", "-", "*", "/", "^", "**", "%", " times ", " of ", " plus "])


def _nest(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(inner.map(lambda e: f"({e})"), inner.map(lambda e: f"sqrt({e})"),
                     st.tuples(inner, OPERATOR, inner).map("".join),
                     st.tuples(NUMBER, inner).map(lambda t: f"root({t[0]}, {t[1]})"))


EXPRESSION = st.one_of(
    st.recursive(NUMBER, _nest, max_leaves=30),
    st.integers(1, 5000).map(lambda depth: "(" * depth + "1" + ")" * depth),
    st.integers(2, 12).map(lambda n: "^".join(["9"] * n)),  # towers of exponents
    st.integers(2, 12).map(lambda n: "**".join(["9"] * n)),
    st.text(max_size=80),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=EXPRESSION)
def test_any_expression_is_answered_or_refused_in_bounded_memory(ctx: SkillContext,
                                                                 expression: str) -> None:
    """What must hold: the calculator answers or refuses in one sentence, within its time
    limit (the registry's) and a few MB, whatever the nesting or the exponents."""
    tracemalloc.start()
    try:
        result = _BUILTIN.call("calculate", {"expression": expression}, ctx)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _a_sentence(result.result)
    assert "took longer than" not in result.result
    assert peak < 20 * 2**20


@pytest.mark.parametrize("tower", ["9**9**9**9", "9^9^9^9", "9 to the power of 9 to the "
                                   "power of 9 to the power of 9"])
def test_a_tower_of_exponents_is_a_one_line_refusal(ctx: SkillContext, tower: str) -> None:
    result = _BUILTIN.call("calculate", {"expression": tower}, ctx)
    assert result.ok is False
    _a_sentence(result.result)


def test_validation_is_checked_by_the_stand_ins(ctx: SkillContext, tmp_path: Path) -> None:
    """The stand-ins keep the real schemas: a good call runs, a bad one is refused."""
    assert _VALIDATING.call("set_timer", {"seconds": 60}, ctx).result == "ran"
    refused = _VALIDATING.call("set_timer", {"seconds": "soon"}, ctx)
    assert refused.ok is False and "seconds" in refused.result
