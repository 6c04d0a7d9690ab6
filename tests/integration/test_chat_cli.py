"""The `assistant` command end to end, in subprocesses, on the real default models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.agent import Assistant
from assistant.config import Config

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"
AUDIO_MODULES = ("sounddevice", "faster_whisper", "piper", "webrtcvad", "onnxruntime")


def assistant(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_once_json_fast_path_prints_exactly_one_object(cli_env: dict[str, str]) -> None:
    proc = assistant("chat", "--once", "set a timer for five minutes and thirty seconds",
                     "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # the whole stdout is one JSON object
    assert set(out) >= {"text", "tool_calls", "metrics"}
    assert out["tool_calls"][0]["name"] == "set_timer"
    assert out["tool_calls"][0]["arguments"] == {"seconds": 330, "label": None}
    assert out["tool_calls"][0]["ok"] is True
    assert set(out["tool_calls"][0]) == {"name", "arguments", "result", "ok", "ms"}
    m = out["metrics"]
    assert m["path"] == "fast"
    assert set(m) >= {"ttft_ms", "total_ms", "tokens", "tokens_per_s", "path"}
    assert "5 minutes and 30 seconds" in out["text"]


def test_once_json_llm_path_uses_the_real_model(cli_env: dict[str, str]) -> None:
    proc = assistant("chat", "--once", "Who wrote Romeo and Juliet?", "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["metrics"]["path"] == "llm"
    assert out["metrics"]["tokens"] > 0 and out["metrics"]["tokens_per_s"] > 0
    assert out["text"].strip()


@pytest.mark.parametrize("text,skill,answer", [
    ("what's seventeen times twenty three", "calculate", "391"),
    ("how many kilometres in twenty six point two miles", "convert_units", "42.16"),
])
def test_spoken_numbers_through_the_cli(cli_env: dict[str, str], text: str, skill: str,
                                        answer: str) -> None:
    out = json.loads(assistant("chat", "--once", text, "--json", env=cli_env).stdout)
    assert out["tool_calls"][0]["name"] == skill
    assert answer in out["text"]


def test_remember_survives_a_restart(cli_env: dict[str, str]) -> None:
    assistant("chat", "--once", "remember that my bike is in the blue shed", env=cli_env)
    out = json.loads(assistant("chat", "--once", "what did I tell you about my bike",
                               "--json", env=cli_env).stdout)
    assert "blue shed" in out["text"]


def test_text_chat_loads_no_audio_library(cli_env: dict[str, str]) -> None:
    code = ("import sys, json; from assistant.cli import main; "
            "main(['chat', '--once', 'what time is it', '--json']); "
            f"print(json.dumps([m for m in {AUDIO_MODULES!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=cli_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_unknown_config_key_is_one_clear_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    Path(cli_env["ASSISTANT_CONFIG"]).write_text("[llm]\nnthreads = 3\n")
    proc = assistant("chat", "--once", "hi", env=cli_env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "llm.nthreads" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_config_value_names_the_key(cli_env: dict[str, str]) -> None:
    cli_env["ASSISTANT_LLM__N_CTX"] = "lots"
    proc = assistant("config", "show", env=cli_env)
    assert proc.returncode == 2
    assert "llm.n_ctx" in proc.stderr and "ASSISTANT_LLM__N_CTX" in proc.stderr


def test_missing_model_file_is_one_clear_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli_env["ASSISTANT_LLM__MODEL"] = str(tmp_path / "missing.gguf")
    proc = assistant("chat", "--once", "tell me a story", env=cli_env)
    assert proc.returncode == 2
    assert "missing.gguf" in proc.stderr and "Traceback" not in proc.stderr


def test_corrupt_gguf_is_one_clear_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00garbage" * 100)
    cli_env["ASSISTANT_LLM__MODEL"] = str(bad)
    proc = assistant("chat", "--once", "tell me a story", env=cli_env)
    assert proc.returncode == 2, proc.stdout
    assert "bad.gguf" in proc.stderr and "Traceback" not in proc.stderr


def test_commands_still_work_when_the_llm_is_broken(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    cli_env["ASSISTANT_LLM__MODEL"] = str(tmp_path / "missing.gguf")
    out = json.loads(assistant("chat", "--once", "what's two plus two", "--json",
                               env=cli_env).stdout)
    assert out["metrics"]["path"] == "fast" and "4" in out["text"]


def test_doctor_and_models_verify(cli_env: dict[str, str]) -> None:
    doctor = assistant("doctor", env=cli_env, timeout=300)
    assert doctor.returncode == 0, doctor.stdout
    assert "test decode ok" in doctor.stdout
    verify = assistant("models", "verify", env=cli_env, timeout=300)
    assert verify.returncode == 0, verify.stdout
    assert "ok smollm2-135m-instruct" in " ".join(verify.stdout.split())


def test_skills_list_shows_builtins(cli_env: dict[str, str]) -> None:
    out = assistant("skills", "list", env={**cli_env, "COLUMNS": "200"}).stdout
    for name in ("get_time", "set_timer", "convert_units", "remember", "stop"):
        assert name in out


def _load(name: str) -> list[dict]:
    return [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.strip()]


@pytest.mark.parametrize("dataset", ["commands.jsonl", "commands_heldout.jsonl"])
def test_turns_handle_spoken_commands_by_the_fast_path(config: Config, dataset: str) -> None:
    """The 'done means' of the spine: >= 95% of spoken-style commands, right skill and
    arguments, through Assistant.turn (what `chat --once` runs), with no LLM."""
    bot = Assistant(config, announce=lambda _m: None)
    right = 0
    commands = _load(dataset)
    for c in commands:
        result = bot.turn(c["text"])
        if result.metrics.path != "fast" or not result.tool_calls:
            continue
        call = result.tool_calls[0]
        model = bot.registry.skills[c["name"]].args_model
        right += (call.name == c["name"] and call.ok
                  and model.model_validate(call.arguments).model_dump()
                  == model.model_validate(c["arguments"]).model_dump())
    assert bot._engine is None  # the LLM was never loaded
    assert right / len(commands) >= 0.95
