"""An MCP tool's input schema, made usable by our LLM grammar and our argument validation.

Peers' schemas come in every shape: ``$ref`` into ``$defs``, ``type`` lists, properties with
no type at all, recursion. :func:`compile_schema` turns one into a self-contained schema of
the kinds the decision grammar and :mod:`assistant.understand.grounding` read, or raises
:class:`SchemaError` with a one-line reason, so that one bad tool is skipped alone (Home
Assistant's MCP client drops a whole server over one). :func:`args_model` is the pydantic
model a :class:`~assistant.skills.Skill` validates arguments with; the server validates the
details again (enums, nested fields) and its refusal is an ``ok: false`` result.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant import AssistantError

MAX_NODES = 2000
"""Most schema nodes after inlining: ``$ref`` chains can multiply a small schema."""
_DROPPED = frozenset({"title", "$schema", "$id", "$defs", "definitions", "$comment",
                      "examples", "readOnly", "writeOnly", "deprecated"})
_PY_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                             "array": list[Any], "object": dict[str, Any], "null": type(None)}


class SchemaError(AssistantError):
    """A tool's input schema cannot be used; the message says why, in one line."""


def compile_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A self-contained object schema for ``schema``: refs inlined, titles dropped, ``type``
    lists as ``anyOf``, an untyped property as a string. Raises SchemaError."""
    if not isinstance(schema, dict):
        raise SchemaError("the input schema is not a JSON object")
    if schema.get("type", "object") != "object":
        raise SchemaError(f"the arguments must be an object, not {schema.get('type')!r}")
    counter = [0]
    compiled = _walk(schema, schema, (), counter)
    compiled["type"] = "object"
    compiled.setdefault("properties", {})
    props = compiled["properties"]
    for name, prop in props.items():
        if _untyped(prop):
            # The grammar would let the model write any JSON there, and grounding could not
            # tie it to the user's words; a string is what a voice request carries.
            props[name] = {**prop, "type": "string"}
    missing = [r for r in compiled.get("required", []) if r not in props]
    if missing:
        raise SchemaError(f"required argument {missing[0]!r} has no schema")
    return compiled


def _untyped(prop: dict[str, Any]) -> bool:
    return not any(k in prop for k in ("type", "anyOf", "oneOf", "allOf", "enum", "const"))


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise SchemaError(f"external $ref {ref!r} is not supported")
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"$ref {ref!r} points nowhere")
        node = node[part]
    if not isinstance(node, dict):
        raise SchemaError(f"$ref {ref!r} is not a schema")
    return node


def _walk(node: Any, root: dict[str, Any], refs: tuple[str, ...], counter: list[int]) -> Any:
    """``node`` with its refs inlined; ``refs`` are those being expanded (a cycle is an
    error: the grammar needs a finite schema)."""
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise SchemaError(f"the schema is too large (over {MAX_NODES} parts once expanded)")
    if isinstance(node, list):
        return [_walk(item, root, refs, counter) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise SchemaError("a $ref is not a string")
        if ref in refs:
            raise SchemaError(f"recursive $ref {ref!r}")
        target = _walk(_resolve(root, ref), root, (*refs, ref), counter)
        rest = _walk({k: v for k, v in node.items() if k != "$ref"}, root, refs, counter)
        return {**target, **rest}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _walk(prop, root, refs, counter) for name, prop in value.items()}
        elif key == "default":
            out[key] = value  # a default is a value, not a schema: never expanded
        else:
            out[key] = _walk(value, root, refs, counter)
    if isinstance(out.get("type"), list):
        kinds = out.pop("type")
        out["anyOf"] = [{"type": k} for k in kinds]
    if "oneOf" in out and "anyOf" not in out:
        out["anyOf"] = out.pop("oneOf")  # for choosing a value the two mean the same
    if isinstance(out.get("allOf"), list) and len(out["allOf"]) == 1:
        out = {**out.pop("allOf")[0], **out}
    return out


def field_name(name: str) -> str:
    """A Python identifier for property ``name`` (its alias keeps the original)."""
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit() or keyword.iskeyword(ident):
        ident = "p_" + ident
    return ident


def _py_type(prop: dict[str, Any]) -> Any:
    kinds = [v.get("type") for v in prop.get("anyOf", [prop])]
    if any(k not in _PY_TYPES for k in kinds) or "enum" in prop or "const" in prop:
        return Any  # a choice of values or an exotic type: the server checks it
    types = [_PY_TYPES[k] for k in kinds]
    union = types[0]
    for t in types[1:]:
        union = union | t
    return union


def args_model(name: str, compiled: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model checking the top-level arguments of a compiled schema (types,
    required ones, no unknown ones); fields are :func:`field_name`, aliased to the names."""
    required = set(compiled.get("required", []))
    fields: dict[str, Any] = {}
    for pname, prop in compiled.get("properties", {}).items():
        kind = _py_type(prop)
        if pname in required:
            fields[field_name(pname)] = (kind, Field(..., alias=pname))
        else:
            fields[field_name(pname)] = (kind | None, Field(None, alias=pname))
    return create_model(f"{field_name(name)}_args",
                        __config__=ConfigDict(extra="forbid", populate_by_name=True), **fields)
