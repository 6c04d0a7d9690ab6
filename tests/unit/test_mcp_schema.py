"""MCP tools as skills, without a server: schemas compiled, arguments validated, the trust
mapping, results as data, the pinned definitions' digest and changes."""

from __future__ import annotations

from typing import Any

import mcp_types
import pytest
from pydantic import ValidationError

from assistant.config import McpServerConfig
from assistant.mcp.pins import Pins, changes, digest
from assistant.mcp.schema import SchemaError, args_model, compile_schema
from assistant.mcp.tools import result_text, server_skills, skill_name, tool_skill

BOOKING = {
    "type": "object", "title": "bookArguments",
    "properties": {"party": {"$ref": "#/$defs/Party"}, "note": {"title": "Note"},
                   "when": {"type": ["string", "null"], "title": "When"}},
    "required": ["party"],
    "$defs": {"Party": {"type": "object", "title": "Party",
                        "properties": {"name": {"type": "string", "title": "Name"},
                                       "size": {"type": "integer"}},
                        "required": ["name", "size"]}},
}


def test_refs_are_inlined_titles_dropped_and_untyped_properties_become_strings() -> None:
    compiled = compile_schema(BOOKING)
    assert "$defs" not in compiled and "title" not in compiled
    assert compiled["properties"]["party"] == {
        "type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
        "required": ["name", "size"]}
    assert compiled["properties"]["note"] == {"type": "string"}
    assert compiled["properties"]["when"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


@pytest.mark.parametrize(("schema", "reason"), [
    ({"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}},
      "$defs": {"N": {"type": "object", "properties": {"kids": {"type": "array",
                                                                "items": {"$ref": "#/$defs/N"}}}}}},
     "recursive $ref '#/$defs/N'"),
    ({"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}},
     "external $ref"),
    ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}, "points nowhere"),
    ({"type": "array"}, "must be an object"),
    ({"type": "object", "properties": {}, "required": ["ghost"]}, "'ghost' has no schema"),
])
def test_an_unusable_schema_says_why_in_one_line(schema: dict[str, Any], reason: str) -> None:
    with pytest.raises(SchemaError, match=None) as err:
        compile_schema(schema)
    assert reason in str(err.value) and "\n" not in str(err.value)


def test_the_args_model_checks_the_top_level_and_keeps_odd_names() -> None:
    model = args_model("book", compile_schema({
        "type": "object", "required": ["entity-id"],
        "properties": {"entity-id": {"type": "string"}, "class": {"type": "integer"}}}))
    args = model.model_validate({"entity-id": "light.kitchen"})
    assert args.model_dump(by_alias=True) == {"entity-id": "light.kitchen", "class": None}
    with pytest.raises(ValidationError):
        model.model_validate({"class": 3})  # the required argument is missing
    with pytest.raises(ValidationError):
        model.model_validate({"entity-id": "x", "colour": "red"})  # an unknown one


def _defn(name: str = "lookup", **annotations: Any) -> dict[str, Any]:
    return {"name": name, "description": "Look something up. " * 30,
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}},
                             "required": ["q"]},
            "annotations": annotations}


def _result(**fields: Any) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult(**{"content": [], **fields})


@pytest.mark.parametrize(("trust", "annotations", "override", "risk", "read_only"), [
    ("untrusted", {"read_only_hint": True}, {}, "confirm", False),  # not believed
    ("trusted", {"read_only_hint": True}, {}, "safe", True),
    ("trusted", {"read_only_hint": False, "destructive_hint": True}, {}, "confirm", False),
    ("trusted", {}, {}, "confirm", False),  # absent annotations: not read-only
    ("untrusted", {}, {"risk": "safe", "read_only": True}, "safe", True),  # the user wins
    ("trusted", {"read_only_hint": True}, {"risk": "confirm"}, "confirm", True),
])
def test_risk_follows_trust_and_annotations_and_overrides_win(
        trust: str, annotations: dict[str, Any], override: dict[str, Any], risk: str,
        read_only: bool) -> None:
    cfg = McpServerConfig(command="x", trust=trust, tools={"lookup": override})
    s = tool_skill(_defn(**annotations), "home", cfg, lambda _t, _a: _result(), 1.0)
    assert (s.name, s.risk, s.read_only, s.trusted) == \
        ("home_lookup", risk, read_only, trust == "trusted")
    assert s.source == "mcp:home" and len(s.description) <= 160
    assert s.parameters == {"type": "object", "properties": {"q": {"type": "string"}},
                            "required": ["q"]}


def test_allowed_and_blocked_tools_and_a_bad_tool_alone_is_skipped() -> None:
    defs = [_defn("a"), _defn("b"), _defn("c"),
            {"name": "d", "input_schema": {"type": "string"}}]
    cfg = McpServerConfig(command="x", blocked_tools=["b"])
    skills, skipped = server_skills(defs, "s", cfg, lambda _t, _a: _result(), 1.0)
    assert [s.name for s in skills] == ["s_a", "s_c"]
    assert skipped == ["mcp server 's': tool 'd' skipped: the arguments must be an object, "
                       "not 'string'"]
    cfg = McpServerConfig(command="x", allowed_tools=["c"])
    assert [s.name for s in server_skills(defs, "s", cfg, lambda _t, _a: _result(), 1.0)[0]] \
        == ["s_c"]


def test_names_are_sanitised() -> None:
    assert skill_name("home assistant", "HassTurnOn") == "home_assistant_HassTurnOn"
    assert skill_name("a.b", "x-y") == "a_b_x_y"


def test_results_are_structured_content_else_text_truncated() -> None:
    assert result_text(_result(structured_content={"result": "hi"})) == "hi"
    assert result_text(_result(structured_content={"c": 21.5})) == '{"c": 21.5}'
    text = mcp_types.TextContent(type="text", text="word " * 500)
    assert len(result_text(_result(content=[text]))) <= 400


def test_a_call_drops_left_out_arguments_fills_say_and_turns_is_error_into_a_sentence(
        ) -> None:
    seen: list[dict[str, Any]] = []

    def call(tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        seen.append(arguments)
        if arguments["q"] == "bad":
            return _result(content=[mcp_types.TextContent(type="text", text="no such q")],
                           is_error=True)
        return _result(structured_content={"temp": 20})

    defn = _defn()
    defn["input_schema"]["properties"]["unit"] = {"type": "string"}
    cfg = McpServerConfig(command="x", tools={"lookup": {"say": "It is {temp} degrees."}})
    s = tool_skill(defn, "home", cfg, call, 1.0)
    assert s.func(q="kitchen", unit=None) == "It is 20 degrees."
    assert seen == [{"q": "kitchen"}]
    with pytest.raises(Exception, match=r"^home_lookup failed: no such q$"):
        s.func(q="bad", unit=None)


def test_pins_digest_ignores_order_and_changes_say_what(tmp_path) -> None:
    a, b = _defn("a"), _defn("b")
    assert digest([a, b]) == digest([b, a])
    changed = {**a, "description": "Now it deletes everything."}
    assert digest([changed, b]) != digest([a, b])
    lines = changes([a, b], [changed, _defn("c")])
    assert "new tool c" in lines and "tool b removed" in lines
    assert "tool a: description changed" in lines
    assert "  now: 'Now it deletes everything.'" in lines
    pins = Pins(tmp_path)
    assert pins.get("s") is None
    pin = pins.put("s", [a])
    assert Pins(tmp_path).get("s") == pin
