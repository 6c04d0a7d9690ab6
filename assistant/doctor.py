"""``assistant doctor``: what is installed, which models resolve (or which model server
answers), CPU features, audio devices, and for everything missing, the command that fixes
it."""

from __future__ import annotations

import ctypes.util
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from assistant.config import Config, LoadedConfig
from assistant.llm import LLMError
from assistant.llm.local import check_gguf
from assistant.models import ModelError, load_catalog, resolve

SETUP = "scripts/setup.sh"


@dataclass
class Check:
    name: str
    ok: bool | None
    """True = fine, False = broken, None = optional and absent."""
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _llama_smoke(model: Path) -> tuple[bool, str]:
    """Decode one token in a child process: a CPU-specific build can crash (SIGSEGV)."""
    code = ("import llama_cpp,sys;"
            f"m=llama_cpp.Llama(model_path={str(model)!r},n_ctx=256,verbose=False);"
            "m.create_completion('Hi',max_tokens=2);print('ok')")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return False, "test decode timed out"
    if proc.returncode == 0:
        return True, "test decode ok"
    if proc.returncode < 0:
        return False, f"test decode crashed (signal {-proc.returncode})"
    return False, (proc.stderr.strip().splitlines() or ["test decode failed"])[-1]


def _llm_checks(name: str, path: Path, llama_installed: bool) -> list[Check]:
    """The GGUF file, then a test decode. A file llama.cpp cannot load is the file's fault
    (fetch it again); only a crash or a failed decode of a loadable file is the build's."""
    refetch = (f"the file is corrupt: rm {path} && assistant models fetch {name}"
               if name in load_catalog() else
               f"replace {path} with a good .gguf, or set llm.model to a catalogue name")
    try:
        check_gguf(path)
    except LLMError as exc:
        return [Check("model llm", False, str(exc), refetch)]
    checks = [Check("model llm", True, f"{name}: {path}")]
    if llama_installed:
        ok, detail = _llama_smoke(path)
        unloadable = "Failed to load model" in detail  # llama.cpp read the file and gave up
        checks.append(Check("llm decode", ok, detail, refetch if unloadable else
                            f"rebuild llama-cpp-python portably: {SETUP} --rebuild-llama"))
        if unloadable:
            checks[0] = Check("model llm", False, f"{path}: llama.cpp cannot load it "
                              "(corrupt or truncated)", refetch)
    return checks


def _model_server(cfg: Config) -> list[Check]:
    """Where the LLM runs when it is a server (``llm.backend = "openai"``), and whether it
    answers ``GET /models``."""
    from assistant.llm import build_engine
    from assistant.llm.remote import RemoteEngine

    engine = build_engine(cfg)
    assert isinstance(engine, RemoteEngine)
    host = urlsplit(cfg.llm.base_url).hostname or ""
    away = "" if host in ("127.0.0.1", "::1", "localhost") else ", another machine"
    checks = [Check("llm", True, f"{cfg.llm.base_url} (llm.backend = openai{away}): "
                    "conversations are sent there")]
    try:
        names = engine.models()
    except LLMError as exc:
        return [*checks, Check("llm server", False, str(exc),
                               "start the server, or fix llm.base_url / llm.api_key")]
    served = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    wanted = f"; llm.model '{engine.model}' is not among them" if engine.model and \
        engine.model not in names else ""
    return [*checks, Check("llm server", True, f"answers; serves {served or 'nothing'}{wanted}")]


def collect(loaded: LoadedConfig) -> list[Check]:
    cfg = loaded.config
    checks = [Check("python", sys.version_info >= (3, 11), platform.python_version(),
                    "install Python 3.11 or newer")]
    checks.append(Check("config", True, f"{loaded.path}"
                        + ("" if loaded.path.exists() else " (absent: defaults)")))

    flags = _cpu_flags()
    wanted = ["avx", "avx2", "fma", "f16c", "avx512f", "amx_tile", "neon", "asimd"]
    have = [f for f in wanted if f in flags]
    checks.append(Check("cpu", True, f"{os.cpu_count()} threads, {platform.machine()}, "
                        f"features: {' '.join(have) or 'unknown'}"))

    llama_version = _version("llama_cpp_python")
    checks.append(Check("llama-cpp-python", llama_version is not None, llama_version or "missing",
                        f"run {SETUP} (builds it portably for this CPU)"))

    local = [("llm", cfg.llm.model)] if cfg.llm.backend == "local" else []
    if not local:
        checks += _model_server(cfg)
    for role, name in (*local, ("asr", cfg.asr.model), ("tts", cfg.tts.voice),
                       ("embedding", cfg.memory.embedding_model)):
        try:
            path = resolve(name, role, cfg.paths.cache)
            if role == "llm":
                checks += _llm_checks(name, path, llama_version is not None)
            else:
                checks.append(Check(f"model {role}", True, f"{name}: {path}"))
        except ModelError as exc:
            checks.append(Check(f"model {role}", False, str(exc),
                                f"assistant models fetch {name}"))

    portaudio = ctypes.util.find_library("portaudio")
    checks.append(Check("portaudio", bool(portaudio) or None, portaudio or "not found",
                        "sudo apt-get install libportaudio2 (needed for voice mode)"))
    if _version("sounddevice"):
        try:
            import sounddevice

            devices = sounddevice.query_devices()
            ins = sum(1 for d in devices if d["max_input_channels"] > 0)
            outs = sum(1 for d in devices if d["max_output_channels"] > 0)
            checks.append(Check("audio devices", bool(ins and outs) or None,
                                f"{ins} input(s), {outs} output(s)",
                                "connect a microphone/speaker; `assistant chat` works without"))
        except Exception as exc:  # PortAudio errors vary by platform
            checks.append(Check("audio devices", None, f"unavailable: {exc}",
                                "`assistant chat` works without audio"))
    else:
        checks.append(Check("audio devices", None, "sounddevice not installed (text mode only)",
                            "voice mode needs sounddevice; `assistant chat` works without"))

    data = cfg.paths.data
    try:
        data.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(data).free / 2**30
        checks.append(Check("data dir", free > 0.5, f"{data} ({free:.1f} GB free)",
                            "free some disk space or set paths.data_dir"))
    except OSError as exc:
        checks.append(Check("data dir", False, f"{data}: {exc}", "set paths.data_dir"))
    return checks


def run_doctor(loaded: LoadedConfig, console: Console) -> int:
    checks = collect(loaded)
    table = Table("check", "status", "detail", "fix", title="assistant doctor")
    for c in checks:
        status = {True: "[green]ok[/]", False: "[red]FAIL[/]", None: "[yellow]absent[/]"}[c.ok]
        table.add_row(c.name, status, c.detail, "" if c.ok else c.fix)
    console.print(table)
    return 1 if any(c.ok is False for c in checks) else 0
