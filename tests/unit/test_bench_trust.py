"""assistant.bench.trust: the case files, the rows and the verdict."""

from __future__ import annotations

from assistant.agent import TurnResult
from assistant.bench.trust import category, judge, load_cases
from assistant.skills import ToolResult

KINDS = {"command", "clarify", "confirm", "correction", "undo", "cancelled", "unsupported",
         "about", "chat"}


def test_every_case_file_loads_with_known_kinds() -> None:
    cases = load_cases()
    by = {c["category"] for c in cases}
    assert {"garbled", "heard_right", "unsupported", "correction"} <= by
    for c in cases:
        kinds = c["expect"]["kind"]
        assert set(kinds if isinstance(kinds, list) else [kinds]) <= KINDS, c["id"]
    # the control asks for the command to be done, never asked back
    assert all("clarify" not in c["expect"]["kind"] for c in cases
               if c["category"] == "heard_right")


def test_misheard_values_have_their_own_row() -> None:
    case = {"category": "garbled", "misheard_value": True}
    assert category(case) == "garbled_value"
    assert category({**case, "misheard_value": False}) == "garbled"


def test_an_act_nobody_asked_for_is_unintended_even_when_the_kind_is_right() -> None:
    case = {"category": "garbled", "turns": ["..."],
            "expect": {"kind": ["command", "clarify"],
                       "calls": [{"name": "set_timer", "arguments": {"seconds": 600}}],
                       "acts": [{"name": "set_timer", "arguments": {"seconds": 600}}]}}
    wrong = ToolResult("set_timer", {"seconds": 6000}, "Timer set.", True, 1.0)
    out = judge(case, TurnResult("Timer set.", [wrong], kind="command"), [wrong], 1.0)
    assert out.unintended == [wrong] and not out.right
    right = ToolResult("set_timer", {"seconds": 600, "label": None}, "Timer set.", True, 1.0)
    assert judge(case, TurnResult("Timer set.", [right], kind="command"), [right], 1.0).right
