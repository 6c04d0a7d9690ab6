"""Inputs that gave tracebacks now give one line saying what is wrong and how to fix it:
a folder as the config file, files that are no models where models are expected, a corrupt
GGUF in `doctor`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.speech.audio import RATE
from tests.fixtures.speech import espeak, silence

pytestmark = pytest.mark.slow
RANDOM = np.random.default_rng(16).bytes(200_000)


def assistant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env={**env, "COLUMNS": "300"}, timeout=180)


def one_line_error(proc: subprocess.CompletedProcess, *says: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    for part in says:
        assert part in proc.stderr


def test_a_folder_as_the_config_file(tmp_path: Path, cli_env: dict[str, str]) -> None:
    proc = assistant("--config", str(tmp_path), "config", "show", env=cli_env)
    one_line_error(proc, str(tmp_path), "is a folder")


def test_a_random_model_bin_as_the_asr_model(tmp_path: Path, cli_env: dict[str, str]) -> None:
    folder = tmp_path / "whisper"
    folder.mkdir()
    (folder / "model.bin").write_bytes(RANDOM)
    wav = tmp_path / "speech.wav"  # speech, so that the VAD lets it reach the model
    sf.write(wav, np.concatenate([silence(0.5), espeak("set a timer"), silence(0.5)]), RATE)
    proc = assistant("transcribe", str(wav), env={**cli_env, "ASSISTANT_ASR__MODEL": str(folder)})
    one_line_error(proc, str(folder), "not a usable CTranslate2 Whisper model")


@pytest.mark.parametrize("config", ['{"audio": {"sample_rate": 22050}}', "not json"])
def test_a_random_onnx_as_the_piper_voice(tmp_path: Path, cli_env: dict[str, str],
                                          config: str) -> None:
    voice = tmp_path / "voice.onnx"
    voice.write_bytes(RANDOM)
    Path(f"{voice}.json").write_text(config)
    proc = assistant("say", "hello", "-o", str(tmp_path / "out.wav"),
                     env={**cli_env, "ASSISTANT_TTS__VOICE": str(voice)})
    one_line_error(proc, str(voice), "not a usable Piper voice")
    assert not (tmp_path / "out.wav").exists()


def test_a_real_voice_with_a_broken_config(tmp_path: Path, cli_env: dict[str, str]) -> None:
    from assistant.config import Config
    from assistant.models import resolve

    real = resolve("piper-joe-medium", "tts", Config().paths.cache)
    voice = tmp_path / "voice.onnx"
    shutil.copyfile(real, voice)  # a copy: a link would resolve to the real one's .json
    Path(f"{voice}.json").write_text('{"audio": {"sample_rate": ')  # cut short
    proc = assistant("say", "hello", "-o", str(tmp_path / "out.wav"),
                     env={**cli_env, "ASSISTANT_TTS__VOICE": str(voice)})
    one_line_error(proc, str(voice), "not a usable Piper voice")


@pytest.mark.parametrize(("content", "detail"), [
    (RANDOM, "is not a GGUF model file"),  # not even the magic
    (b"GGUF" + RANDOM, "llama.cpp cannot load it"),  # the magic, then garbage
])
def test_doctor_calls_a_corrupt_gguf_corrupt_and_says_how_to_fetch_it_again(
        tmp_path: Path, content: bytes, detail: str) -> None:
    from assistant.config import load_config
    from assistant.doctor import collect

    name, file = "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf = tmp_path / "cache" / "models" / name / file
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(content)
    (tmp_path / "config.toml").write_text("")
    loaded = load_config(tmp_path / "config.toml", env={
        "ASSISTANT_PATHS__CACHE_DIR": str(tmp_path / "cache"),
        "ASSISTANT_PATHS__DATA_DIR": str(tmp_path / "data")})
    checks = {c.name: c for c in collect(loaded)}
    model = checks["model llm"]
    assert model.ok is False and detail in model.detail
    assert model.fix == f"the file is corrupt: rm {gguf} && assistant models fetch {name}"
    assert not [c for c in checks.values() if "rebuild" in c.fix]
