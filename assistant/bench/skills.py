"""``assistant bench skills``: skill-selection accuracy and latency on the ``tests/data``
command sets, for the fast path and for the LLM path separately, and the AST accuracy of the
configured model on the Berkeley Function Calling Leaderboard's ``simple_python`` and
``multiple`` categories."""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from assistant import AssistantError, fastpath
from assistant.agent import Assistant, decide, system_message
from assistant.bench.common import DATA, bfcl_dir, median_p95
from assistant.config import Config
from assistant.skills import SkillRegistry, signature


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    return bench_skills(config, args.llm_limit, args.bfcl_limit, console)


def _load_commands(name: str) -> list[dict[str, Any]]:
    path = DATA / name
    if not path.exists():
        raise AssistantError(f"command set not found: {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _same_call(registry: SkillRegistry, name: str, args: dict, expected: dict) -> bool:
    if name != expected["name"] or name not in registry.skills:
        return False
    model = registry.skills[name].args_model
    try:
        return model.model_validate(args).model_dump() == model.model_validate(
            expected["arguments"]).model_dump()
    except ValueError:
        return False


def bench_skills(config: Config, llm_limit: int, bfcl_limit: int, console: Console) -> int:
    assistant = Assistant(config)
    registry = assistant.registry
    table = Table("path", "set", "n", "right skill", "right skill + args", "median ms", "p95 ms",
                  title="Skill selection")
    sets = {"commands": _load_commands("commands.jsonl"),
            "held-out": _load_commands("commands_heldout.jsonl")}

    for set_name, commands in sets.items():
        names = full = 0
        times = []
        for c in commands:
            start = time.perf_counter()
            m = fastpath.match(registry, c["text"])
            times.append((time.perf_counter() - start) * 1000)
            if m is not None:
                names += m.skill.name == c["name"]
                full += _same_call(registry, m.skill.name, m.arguments, c)
        n = len(commands)
        table.add_row("fast", set_name, str(n), f"{names / n:.1%}", f"{full / n:.1%}",
                      *median_p95(times, 3))
    chit = [t.strip() for t in (DATA / "chitchat.txt").read_text().splitlines() if t.strip()]
    false_hits = sum(fastpath.match(registry, t) is not None for t in chit)
    table.add_row("fast", "chit-chat (must not match)", str(len(chit)),
                  f"{false_hits} false matches", "", "", "")
    # The gate decides which tools the LLM may pick from: the right one must be offered,
    # and chat or questions about the user's notes should offer none.
    for set_name, commands in sets.items():
        offered = sum(c["name"] in registry.relevant(c["text"]) for c in commands)
        table.add_row("gate", set_name, str(len(commands)),
                      f"{offered / len(commands):.1%} offered", "", "", "")
    questions = [json.loads(line)["question"] for line in (DATA / "memory" / "qa.jsonl").open()]
    for set_name, texts in (("chit-chat", chit), ("note questions", questions)):
        opened = sum(bool(registry.relevant(t)) for t in texts)
        table.add_row("gate", f"{set_name} (should offer none)", str(len(texts)),
                      f"{opened} offered tools", "", "", "")

    commands = sets["commands"][: llm_limit or None]
    engine = assistant.engine
    system = assistant.system_message()
    names = full = 0
    times = []
    with console.status("LLM path...") as status:
        for i, c in enumerate(commands):
            status.update(f"LLM path {i + 1}/{len(commands)}")
            start = time.perf_counter()
            candidates = registry.relevant(c["text"])
            calls: list[dict[str, Any]] = []
            if candidates:
                _, calls, _ = decide(engine, [system, {"role": "user", "content": c["text"]}],
                                     registry.tool_schemas(candidates))
            times.append((time.perf_counter() - start) * 1000)
            if calls:
                names += calls[0]["name"] == c["name"]
                full += _same_call(registry, calls[0]["name"], calls[0]["arguments"], c)
    n = len(commands)
    table.add_row("llm", "commands", str(n), f"{names / n:.1%}", f"{full / n:.1%}",
                  *median_p95(times, 0))
    console.print(table)
    _bench_bfcl(assistant, bfcl_limit, console)
    return 0


# ---------------------------------------------------------------------- BFCL

_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None}


def bfcl_schema(node: Any) -> Any:
    """BFCL's parameter descriptions use Python type names; turn them into JSON schema."""
    if isinstance(node, list):
        return [bfcl_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "type":
            mapped = _BFCL_TYPES.get(value, value)
            if mapped is not None:
                out["type"] = mapped
        elif key in ("properties",):
            out[key] = {k: bfcl_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = bfcl_schema(value)
        elif key in ("description", "required", "enum"):
            out[key] = value
    return out


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"[ ,./\-_*^]", "", value).lower()
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _value_ok(value: Any, allowed: Any) -> bool:
    number = (int, float)
    if isinstance(value, number) and isinstance(allowed, number) \
            and not isinstance(value, bool) and not isinstance(allowed, bool):
        return float(value) == float(allowed)
    return _norm(value) == _norm(allowed)


def bfcl_ast_match(call: dict[str, Any], truth: dict[str, dict[str, list[Any]]]) -> bool:
    """A simplified BFCL AST check: same function, every given argument among the allowed
    values (strings compared without case or punctuation, ints equal to floats), every
    required argument present, no unknown arguments."""
    (fname, allowed), = truth.items()
    if call.get("name") != fname:
        return False
    args = call.get("arguments", {})
    for param, options in allowed.items():
        if param not in args:
            if "" not in options:
                return False
        elif not any(_value_ok(args[param], o) for o in options if o != ""):
            return False
    return all(p in allowed for p in args)


def _bench_bfcl(assistant: Assistant, limit: int, console: Console) -> None:
    data = bfcl_dir()
    if data is None:
        console.print("BFCL: skipped (pip install --no-deps bfcl-eval)")
        return
    engine = assistant.engine
    table = Table("category", "n", "AST accuracy", "right function", "median ms", "p95 ms",
                  title=f"BFCL v4 ({engine.where}, grammar-constrained calls)")
    for category in ("simple_python", "multiple"):
        questions = [json.loads(x) for x in
                     (data / f"BFCL_v4_{category}.json").read_text().splitlines()]
        answers = {a["id"]: a["ground_truth"][0] for a in map(json.loads, (
            data / "possible_answer" / f"BFCL_v4_{category}.json").read_text().splitlines())}
        questions = questions[: limit or None]
        right = right_fn = 0
        times = []
        with console.status(f"BFCL {category}...") as status:
            for i, q in enumerate(questions):
                status.update(f"BFCL {category} {i + 1}/{len(questions)}")
                tools = [{"name": f["name"], "description": f.get("description", ""),
                          "parameters": bfcl_schema(f["parameters"])} for f in q["function"]]
                system = system_message(assistant.config.llm.system_prompt,
                                        [signature(t) for t in tools])
                start = time.perf_counter()
                _, calls, _ = decide(engine, [system, *q["question"][0]], tools)
                times.append((time.perf_counter() - start) * 1000)
                truth = answers[q["id"]]
                if calls:
                    right_fn += calls[0]["name"] == next(iter(truth))
                    right += bfcl_ast_match(calls[0], truth)
        n = len(questions)
        table.add_row(category, str(n), f"{right / n:.1%}", f"{right_fn / n:.1%}",
                      *median_p95(times, 0))
    console.print(table)
