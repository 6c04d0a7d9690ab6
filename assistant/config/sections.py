"""The root :class:`Config` and its other sections: ``[llm]``, ``[skills]``, ``[memory]``,
``[serve]`` and ``[paths]`` (speech in :mod:`~assistant.config.voice`, ``[mcp]`` in
:mod:`~assistant.config.mcp`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AfterValidator, Field, model_validator

from assistant.config.base import APP_NAME, Section, http_url
from assistant.config.mcp import McpConfig
from assistant.config.voice import ASRConfig, TTSConfig, VoiceConfig


class LLMConfig(Section):
    backend: Literal["local", "openai"] = Field(
        "local",
        description="Where the model runs: 'local' (llama.cpp in this process, nothing leaves "
        "the device) or 'openai' (any OpenAI-compatible chat server at llm.base_url: "
        "llama-server, Ollama, vLLM, LM Studio; the conversation is sent to it).",
    )
    model: str = Field(
        "smollm2-135m-instruct",
        description="Catalogue name (see `assistant models list`) or a path to a .gguf file. "
        "With backend 'openai': the server's model name (e.g. 'qwen2.5:3b' for Ollama); left "
        "at the default, the first model the server lists is used.",
    )
    base_url: Annotated[str, AfterValidator(http_url)] = Field(
        "", description="With backend 'openai': the server's API root, e.g. "
        "http://127.0.0.1:8080/v1 (llama-server) or http://127.0.0.1:11434/v1 (Ollama).",
    )
    api_key: str = Field(
        "", description="With backend 'openai': sent as a Bearer token; '' = none. Better "
        "kept out of the file: ASSISTANT_LLM__API_KEY.",
    )
    timeout_s: float = Field(
        30.0, gt=0, description="With backend 'openai': longest wait to connect, and "
        "between two pieces of an answer, before the turn gives up.",
    )
    n_ctx: int = Field(2048, ge=256, le=131072, description="Context window in tokens.")
    n_threads: int | None = Field(
        None, ge=1, description="CPU threads for generation; empty = number of physical cores."
    )
    n_gpu_layers: int = Field(
        0, ge=-1, description="Layers offloaded to a GPU build of llama.cpp; -1 = all, 0 = CPU."
    )
    max_tokens: int = Field(200, ge=1, description="Longest reply, in tokens.")
    temperature: float = Field(0.3, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int = Field(0, description="Sampling seed, for repeatable answers.")
    system_prompt: str = Field(
        "You are a helpful voice assistant running offline on the user's device. "
        "Answer in one or two short spoken sentences, without lists or markdown.",
        description="The first message of every prompt.",
    )
    max_history_turns: int = Field(
        8, ge=0, description="Past user/assistant exchanges kept; past it the older half "
        "is dropped at once (the prompt's cached start survives most turns)."
    )
    max_tool_steps: int = Field(
        3, ge=1, le=8, description="Most tool calls the model may chain in one turn."
    )
    tools_trusted: bool = Field(
        False,
        description="Let the model run skills that act without asking the user first. Off "
        "for the small default model, which cannot be trusted to pick or fill tools; the "
        "arguments must come from the user's words either way.",
    )
    answer_words: int = Field(
        60, ge=10, description="A spoken answer ends at the first sentence end after this "
        "many words, unless the user asked for more (a story, a list, details).",
    )

    @model_validator(mode="after")
    def _server_named(self) -> LLMConfig:
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend 'openai' needs llm.base_url, e.g. http://127.0.0.1:8080/v1")
        return self


class SkillsConfig(Section):
    dirs: list[str] = Field(
        default_factory=list, description="Folders of plain .py skill files to load."
    )
    disabled: list[str] = Field(default_factory=list, description="Skill names to leave out.")
    timeout_s: float = Field(
        5.0, gt=0, description="Default time limit of a skill call, in seconds."
    )
    import_timeout_s: float = Field(
        5.0, gt=0, description="Time limit of importing one plugin (an entry point or a .py "
        "file of skills.dirs); one that takes longer is reported and skipped.",
    )
    llm_fallback: bool = Field(
        True,
        description="Let the LLM choose a tool when no skill pattern matches (function calling).",
    )
    dialogue_timeout_s: float = Field(
        60.0, gt=0, description="How long a clarifying question or a 'should I...?' waits "
        "for its answer; 'cancel that' works on the last action for ten times this.",
    )


class MemoryConfig(Section):
    enabled: bool = Field(
        True, description="Answer questions from remembered facts and ingested documents."
    )
    path: str = Field("", description="The store's folder; empty = <paths.data_dir>/memory.")
    embedding_model: str = Field(
        "minilm-l6-v2-int8", description="Catalogue name or a folder with model.onnx and "
        "tokenizer.json (a sentence-transformers model exported to ONNX)."
    )
    chunk_words: int = Field(120, ge=10, le=400, description="Longest document chunk, in words.")
    chunk_overlap_words: int = Field(
        25, ge=0, description="Words of whole sentences shared by consecutive chunks."
    )
    top_k: int = Field(3, ge=1, le=20, description="Passages retrieved for a question.")
    context_tokens: int = Field(
        250, ge=32, description="Most prompt tokens spent on retrieved passages (prefill is "
        "the cost on a CPU)."
    )
    min_similarity: float = Field(
        0.35, ge=-1.0, le=1.0, description="Passages less similar to the question than this "
        "(cosine) stay out of the prompt."
    )
    search_mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Ranking: embeddings and BM25 fused, or either alone."
    )
    answer: Literal["quote", "llm"] = Field(
        "quote", description="How a question your notes answer is answered: 'quote' speaks "
        "the note's most relevant sentence (fast and exact; best with a small LLM), 'llm' lets "
        "the model answer from the passages (best with a bigger model)."
    )
    quote_min_similarity: float = Field(
        0.45, ge=-1.0, le=1.0, description="A sentence at least this similar to the question "
        "is quoted; below it the LLM answers from the passages."
    )
    fusion: Literal["relative", "rrf"] = Field(
        "relative", description="How hybrid ranking fuses: 'relative' (scaled scores, "
        "weighted half and half) or 'rrf' (reciprocal rank fusion)."
    )

    def folder(self, data_dir: Path) -> Path:
        return Path(self.path).expanduser() if self.path else data_dir / "memory"


class ServeConfig(Section):
    """``assistant serve``: Wyoming services for Home Assistant, and the hub of satellites."""

    host: str = Field(
        "127.0.0.1", description="Address to listen on; 0.0.0.0 to reach it from the LAN "
        "(Home Assistant on another machine).")
    port: int = Field(10700, ge=1, le=65535, description="TCP port (Wyoming's usual 10700).")
    zeroconf: bool = Field(
        False, description="Advertise the service on the LAN (_wyoming._tcp), so that Home "
        "Assistant discovers it; needs a LAN host.")
    max_connections: int = Field(
        64, ge=1, le=4096, description="Connections served at once; more are refused.")
    idle_timeout_s: float = Field(
        120.0, gt=0, description="A connection that sends nothing this long is closed.")
    event_timeout_s: float = Field(
        10.0, gt=0, description="Once an event starts arriving, the rest of it must arrive "
        "within this time (a client that sends half a header and waits is closed).")
    max_payload_bytes: int = Field(
        1_048_576, ge=1024, description="Largest event payload (an audio chunk) accepted.")
    max_audio_s: float = Field(
        120.0, gt=0, description="Longest audio one transcription may send.")
    max_text_chars: int = Field(
        20_000, ge=100, description="Longest text one synthesis or conversation turn takes.")
    conversations: int = Field(
        64, ge=1, description="Conversations (Home Assistant's conversation ids, rooms) "
        "remembered at once; the least recently used is forgotten first.")
    conversation_idle_s: float = Field(
        900.0, gt=0, description="A conversation unused this long is forgotten.")


class PathsConfig(Section):
    cache_dir: str = Field(
        "", description="Downloaded models; empty = $XDG_CACHE_HOME/assistant."
    )
    data_dir: str = Field(
        "", description="Memory, timers and the audit log; empty = $XDG_DATA_HOME/assistant."
    )

    @property
    def cache(self) -> Path:
        return Path(self.cache_dir or platformdirs.user_cache_dir(APP_NAME)).expanduser()

    @property
    def data(self) -> Path:
        return Path(self.data_dir or platformdirs.user_data_dir(APP_NAME)).expanduser()


class Config(Section):
    llm: LLMConfig = Field(default_factory=LLMConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    asr: ASRConfig = Field(default_factory=ASRConfig)
    tts: TTSConfig = Field(default_factory=TTSConfig)
    voice: VoiceConfig = Field(default_factory=VoiceConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    mcp: McpConfig = Field(default_factory=McpConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
