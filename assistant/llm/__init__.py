"""The LLM, in whichever backend the config names: :mod:`.engine` (the protocol both satisfy,
messages, metrics, errors), :mod:`.local` (llama.cpp in this process, the default),
:mod:`.remote` (an OpenAI-compatible server) and :mod:`.wire` (that server's wire format).
:func:`build_engine` is the one place a backend is chosen."""

from __future__ import annotations

from assistant.config import Config, LLMConfig
from assistant.llm.engine import Engine, Generation, LLMError, Message, ModelServerError
from assistant.llm.local import FairLock, LLMEngine
from assistant.models import resolve

__all__ = ["Engine", "FairLock", "Generation", "LLMEngine", "LLMError", "Message",
           "ModelServerError", "build_engine"]


def build_engine(config: Config, model: str | None = None) -> Engine:
    """The engine ``config.llm`` describes; ``model`` instead of ``llm.model`` (a bench
    comparing models). Nothing is loaded or connected yet."""
    llm = config.llm
    name = model or llm.model
    if llm.backend == "openai":
        # httpx takes ~0.2 s to import: only when a server is configured.
        from assistant.llm.remote import RemoteEngine

        # The local default's catalogue name means nothing to a server: take what it serves.
        default = LLMConfig.model_fields["model"].default
        return RemoteEngine(llm.base_url, model="" if name == default else name,
                            api_key=llm.api_key, timeout_s=llm.timeout_s, n_ctx=llm.n_ctx,
                            seed=llm.seed)
    return LLMEngine(resolve(name, "llm", config.paths.cache), n_ctx=llm.n_ctx,
                     n_threads=llm.n_threads, n_gpu_layers=llm.n_gpu_layers, seed=llm.seed)
