"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``) as a
subprocess on 127.0.0.1: the real peer that ``llm.backend = "openai"`` is tested and
benchmarked against. Ready when ``GET /v1/models`` answers; it dies with its parent
(:class:`assistant.bench.serve.Server`)."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from assistant.bench.serve import HOST, BenchError, Server, free_port


def server_installed() -> bool:
    """Whether the server's dependencies (the ``dev`` extra) are installed."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class ModelServer:
    """One llama_cpp.server on ``model`` at ``port`` (a free one unless given)."""

    model: Path
    log: Path
    port: int = 0
    n_ctx: int = 2048
    n_threads: int | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
                "--host", HOST, "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        if self.n_threads:
            argv += ["--n_threads", str(self.n_threads)]
        self.server = Server("llama_cpp.server", argv, self.port, self.log)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> None:
        """Start it and wait (bounded) until it lists its model."""
        self.server.start()
        deadline = time.monotonic() + timeout
        while True:
            proc = self.server.proc
            if proc is not None and proc.poll() is not None:
                raise BenchError(f"llama_cpp.server exited ({proc.returncode}) before it "
                                 f"answered: {self.server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"llama_cpp.server did not answer within {timeout:.0f} s: "
                                 f"{self.server.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.server.stop()

    def kill(self) -> None:
        """SIGKILL at once, as a crash would: no goodbye on open connections."""
        proc = self.server.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
