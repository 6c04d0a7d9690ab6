"""Configuration: one TOML file, ``ASSISTANT_*`` environment overrides, validated by pydantic.

Every key, its default and its meaning live in the models below and nowhere else;
``assistant config show`` prints them with the source each effective value came from.

Precedence (last wins): defaults < config file < environment < command line.
The file is ``$XDG_CONFIG_HOME/assistant/config.toml`` unless ``--config`` or
``ASSISTANT_CONFIG`` names another. An environment override is
``ASSISTANT_<SECTION>__<KEY>``, e.g. ``ASSISTANT_LLM__N_THREADS=4``.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import AssistantError

APP_NAME = "assistant"
ENV_PREFIX = "ASSISTANT_"


class ConfigError(AssistantError):
    """The configuration file or an override is invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LLMConfig(_Section):
    model: str = Field(
        "smollm2-135m-instruct",
        description="Catalogue name (see `assistant models list`) or a path to a .gguf file.",
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
        8, ge=0, description="Past user/assistant exchanges kept before the oldest are trimmed."
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


class SkillsConfig(_Section):
    dirs: list[str] = Field(
        default_factory=list, description="Folders of plain .py skill files to load."
    )
    disabled: list[str] = Field(default_factory=list, description="Skill names to leave out.")
    timeout_s: float = Field(
        5.0, gt=0, description="Default time limit of a skill call, in seconds."
    )
    llm_fallback: bool = Field(
        True,
        description="Let the LLM choose a tool when no skill pattern matches (function calling).",
    )
    dialogue_timeout_s: float = Field(
        60.0, gt=0, description="How long a clarifying question or a 'should I...?' waits "
        "for its answer; 'cancel that' works on the last action for ten times this.",
    )


class ASRConfig(_Section):
    model: str = Field(
        "whisper-tiny.en", description="Catalogue name or a CTranslate2 Whisper folder."
    )
    beam_size: int = Field(
        5, ge=1, le=10, description="Beam width of the final decode of an utterance that is "
        "not a command (it goes to the LLM); commands and partials decode greedily, for speed."
    )


class TTSConfig(_Section):
    voice: str = Field("piper-joe-medium", description="Catalogue name or a piper .onnx voice.")


class VoiceConfig(_Section):
    input_device: str = Field("", description="Microphone name or index; empty = default.")
    output_device: str = Field("", description="Speaker name or index; empty = default.")
    interruptible: bool = Field(True, description="Speaking over the assistant interrupts it.")
    echo: Literal["aec", "gate", "off"] = Field(
        "aec", description="The assistant's own voice in the microphone: 'aec' (loudspeaker) "
        "cancels it with WebRTC AEC3; 'gate' (loudspeaker, no AEC) lets only speech louder than "
        "it interrupt; 'off' (headphones) there is none."
    )
    wake_phrase: str = Field(
        "", description="Only act on utterances starting with this, e.g. 'hey computer'; "
        "empty = always listening."
    )
    push_to_talk: bool = Field(
        False, description="Listen only while toggled on with Enter in the terminal."
    )
    endpoint_s: float = Field(
        0.5, gt=0, description="Silence that ends an utterance, in seconds."
    )
    endpoint_fast_s: float = Field(
        0.25, gt=0, description="Silence that ends an utterance that is already a command."
    )
    endpoint_finished_s: float = Field(
        0.35, gt=0, description="Silence that ends a sentence the turn model judges finished."
    )
    endpoint_patient_s: float = Field(
        1.0, gt=0, description="Silence allowed after an unfinished phrase ('set a timer for')."
    )
    turn_model: str = Field(
        "smollm2-135m-instruct", description="Small chat model (catalogue name or .gguf path) "
        "that judges whether the words so far finish a sentence, to end it after "
        "endpoint_finished_s or wait endpoint_patient_s; empty = rules only."
    )
    barge_in_min_s: float = Field(
        0.15, ge=0, description="Voiced speech over the assistant needed to interrupt it; "
        "shorter sounds pause it briefly and it resumes."
    )
    speculate: bool = Field(
        True, description="Start answering during the closing silence when the answer changes "
        "nothing (the time, a sum, a question for the LLM); dropped if you go on speaking."
    )
    partial_interval_s: float = Field(
        0.4, gt=0, description="How often the live transcript is refreshed while speaking."
    )


class MemoryConfig(_Section):
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


class PathsConfig(_Section):
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


class Config(_Section):
    llm: LLMConfig = Field(default_factory=LLMConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    asr: ASRConfig = Field(default_factory=ASRConfig)
    tts: TTSConfig = Field(default_factory=TTSConfig)
    voice: VoiceConfig = Field(default_factory=VoiceConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class LoadedConfig:
    """The effective config plus where each value came from (``"default"``, a path, an env var)."""

    def __init__(self, config: Config, sources: dict[str, str], path: Path) -> None:
        self.config = config
        self.sources = sources
        self.path = path


def _parse_env_value(raw: str) -> Any:
    # Env values are JSON when they parse as JSON (numbers, booleans, lists), else plain strings.
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _merge(target: dict, section: str, values: dict, source: str, sources: dict) -> None:
    for key, value in values.items():
        target.setdefault(section, {})[key] = value
        sources[f"{section}.{key}"] = source


def _format_error(err: ValidationError, sources: dict[str, str]) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    origin = sources.get(key)
    where = f" (from {origin})" if origin else ""
    if first["type"] == "extra_forbidden":
        return f"config: unknown key '{key}'{where}; see `assistant config show` for valid keys"
    return f"config: {key}: {first['msg']}{where}"


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> LoadedConfig:
    """Load defaults, then the TOML file, then ``ASSISTANT_*`` env vars, then ``overrides``.

    ``overrides`` maps dotted keys (``"llm.model"``) to values, e.g. from CLI flags.
    Raises ConfigError with a one-line message naming the bad key.
    """
    env = dict(os.environ) if env is None else env
    explicit = path or env.get(f"{ENV_PREFIX}CONFIG")
    cfg_path = Path(explicit).expanduser() if explicit else default_config_path()
    raw: dict[str, dict] = {}
    sources: dict[str, str] = {}

    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config: {cfg_path} is not valid TOML: {exc}") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(
                    f"config: unknown key '{section}' in {cfg_path}; keys live in sections "
                    "such as [llm] or [skills]"
                )
            _merge(raw, section, values, str(cfg_path), sources)
    elif explicit:
        raise ConfigError(f"config: file not found: {cfg_path}")

    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        section, sep, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if not sep:
            raise ConfigError(
                f"config: environment variable {name} should look like "
                f"{ENV_PREFIX}<SECTION>__<KEY>, e.g. {ENV_PREFIX}LLM__N_THREADS=4"
            )
        _merge(raw, section, {key: _parse_env_value(value)}, f"env {name}", sources)

    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        _merge(raw, section, {key: value}, "command line", sources)

    try:
        config = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_error(err, sources)) from None
    return LoadedConfig(config, sources, cfg_path)


def describe(loaded: LoadedConfig) -> list[tuple[str, Any, str, str]]:
    """Rows of (key, effective value, source, description) for every config key."""
    rows = []
    for section_name in Config.model_fields:
        section = getattr(loaded.config, section_name)
        for key, field in type(section).model_fields.items():
            dotted = f"{section_name}.{key}"
            rows.append(
                (
                    dotted,
                    getattr(section, key),
                    loaded.sources.get(dotted, "default"),
                    field.description or "",
                )
            )
    return rows
