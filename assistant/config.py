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
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from assistant import AssistantError

APP_NAME = "assistant"
ENV_PREFIX = "ASSISTANT_"


class ConfigError(AssistantError):
    """The configuration file or an override is invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _http_url(url: str) -> str:
    """A model server's base URL: http(s), a host, no query; '' when unset."""
    parts = urlsplit(url.strip())
    _ = parts.port  # a port that is no number raises ValueError here: a config error
    # urlsplit silently drops tabs and newlines inside a URL; httpx would not.
    inner = any(c.isspace() or not c.isprintable() for c in url.strip())
    if url and (inner or parts.scheme not in ("http", "https") or not parts.hostname
                or parts.query or parts.fragment):
        raise ValueError(f"{url!r} is not an http(s) URL like http://127.0.0.1:8080/v1")
    return url.strip().rstrip("/")


class LLMConfig(_Section):
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
    base_url: Annotated[str, AfterValidator(_http_url)] = Field(
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


class SkillsConfig(_Section):
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


Seconds = Annotated[float, Field(ge=0)]
Frames = Annotated[int, Field(ge=1)]
"""A number of 20 ms audio frames."""
Ratio = Annotated[float, Field(ge=0, le=1)]
"""A fraction, or a similarity (difflib's ratio), from 0 to 1."""


class _Tuning(_Section):
    """A subsection of [voice] whose keys are described by their docstrings: measured and
    calibrated values, there to experiment with rather than to set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              use_attribute_docstrings=True)


class VadConfig(_Tuning):
    """[voice.vad]: webrtcvad on every frame, Silero VAD on a finished utterance."""

    aggressiveness: Annotated[int, Field(ge=0, le=3)] = 2
    """webrtcvad mode 0-3; higher rejects more noise."""
    onset_frames: Frames = 3
    """Voiced frames within onset_window that start speech (60 ms)."""
    onset_window: Frames = 5
    """The frames over which onset_frames are counted."""
    barge_onset_frames: Frames = 2
    """Voiced frames that start speech while the assistant talks (40 ms): that onset only
    pauses playback, which resumes if the sound turns out to be no request."""
    pre_roll_s: Seconds = 0.3
    """Audio kept from before the onset and put in front of the utterance."""
    min_rms: Annotated[float, Field(ge=0)] = 0.004
    """Frames quieter than this are silence whatever webrtcvad says (about -48 dBFS)."""
    silero_threshold: Ratio = 0.5
    """Silero's speech probability for an utterance to count as speech (webrtcvad fires on
    steady noise, which Whisper would then happily 'transcribe')."""


class VoiceTuning(_Tuning):
    """[voice.tuning]: the loop's timings and thresholds (what each was measured against is in
    its description)."""

    speculate_after_s: Seconds = 0.08
    """Silence after which the utterance is transcribed (and answered, where that changes
    nothing) in case it is over: 0.06 paused inside words ('What | time'), 0.1 made LLM
    answers ~70 ms later."""
    first_piece_wait_s: Seconds = 0.2
    """Longest the LLM pauses after the first clause while its first sound is synthesised."""
    prefill_silence_s: Seconds = 0.04
    """Silence after which the prefiller leaves the CPU to the final decode."""
    catch_up_wait_s: Seconds = 0.2
    """Longest the prefiller waits for the listener to catch up with the microphone."""
    partial_voiced_frames: Frames = 3
    """Voiced frames in a row before the live transcript is refreshed: mid-speech only, not
    on a trailing edge where the final decode is about to run."""
    partial_max_backlog: Annotated[int, Field(ge=0)] = 2
    """Frames the listener may be behind the microphone and still refresh the live transcript
    (on a slow CPU, Whisper must not fall behind)."""
    min_voiced_frames: Frames = 5
    """An utterance with fewer voiced frames is a click or a knock; it takes more to be
    answered before its endpoint."""
    max_utterance_s: Seconds = 30.0
    """An utterance ends after this long, whatever is said."""
    barge_min_logprob: float = -0.8
    """Over the assistant's voice, a transcript less sure than this (Whisper's mean
    log-probability) is no interruption unless it is a stop."""
    interrupt_min_words: Frames = 3
    """Words that interrupt the assistant even when they make no command."""
    stop_likeness: Ratio = 0.7
    """How close up to three words over the assistant's voice must be to a stop phrase to
    stop it ('Start talking.' for 'stop talking': 0.8)."""
    resume_after_s: Seconds = 0.6
    """Silence after a sound that paused the assistant and was no interruption, before
    playback resumes: never while the user is still speaking."""
    wake_likeness: Ratio = 0.8
    """How close the first words must be to the wake phrase ('a computer': 0.82)."""
    wake_window_s: Seconds = 8.0
    """After the wake phrase alone, how long the next utterance needs none."""
    echo_tail_s: Seconds = 1.0
    """How long after the speaker falls silent its echo may still be in the microphone; the
    echo canceller runs until then."""
    echo_window_s: Annotated[float, Field(gt=0)] = 3.0
    """Seconds of the assistant speaking alone over which the echo gate measures what AEC
    leaves of its voice."""
    echo_percentile: Annotated[float, Field(gt=0, le=100)] = 98
    """The percentile of what AEC left that the gate follows (a few loud frames do not count)."""
    echo_margin: Annotated[float, Field(ge=1)] = 1.5
    """How far above what AEC left the user must be, as a multiple of it."""
    echo_floor_min: Ratio = 0.02
    """The least the gate asks, as a fraction of the assistant's level (a clean echo path)."""
    echo_floor_max: Ratio = 0.5
    """The most it asks (a reverberant room, a distorting speaker)."""
    echo_learn_frames: Frames = 25
    """Frames of the assistant speaking alone before the gate follows them."""
    echo_learn_level: Annotated[float, Field(ge=0)] = 0.01
    """The assistant's level above which its frames teach the gate."""
    echo_reference_frames: Frames = 15
    """Frames of the assistant's level the microphone is compared with (its echo is late)."""
    gate_ratio: Annotated[float, Field(gt=0)] = 0.6
    """With echo = 'gate', the fraction of the assistant's level the user must be above."""
    gate_margin: Annotated[float, Field(ge=0)] = 0.003
    """What the microphone must exceed the gate by, in both loudspeaker modes."""
    turn_finished_logp: float = -1.0
    """log P(the message ends here), from the turn model, at or above which the words are
    finished. Calibrated for SmolLM2-135M-Instruct on 30 spoken requests and their 232
    truncations: >= -1 held 48% of the whole requests and 1% of the truncations."""
    turn_unfinished_logp: float = -7.0
    """log P(the message ends here) below which the words plainly go on (53% of the
    truncations, none of the whole requests)."""


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
    vad: VadConfig = Field(default_factory=VadConfig)
    tuning: VoiceTuning = Field(default_factory=VoiceTuning)


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


class ServeConfig(_Section):
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


class McpToolOverride(_Section):
    """``[mcp.servers.<name>.tools.<tool>]``: what the user says about one tool of a server."""

    risk: Literal["safe", "confirm"] | None = Field(
        None, description="'safe' runs it without asking; default: 'confirm' unless the "
        "server is trusted and the tool says it is read-only.")
    read_only: bool | None = Field(
        None, description="It changes nothing (may run speculatively); default: the tool's "
        "readOnlyHint, believed only from a trusted server.")
    patterns: list[str] = Field(
        default_factory=list, description="Fast-path regexes over the normalised utterance; "
        "named groups become arguments, e.g. 'what time is it in (?P<timezone>[\\w/]+)'.")
    say: str = Field(
        "", description="The answer, from the result's fields, e.g. 'It is {datetime}.' "
        "({result} is the whole result).")
    description: str = Field("", description="A shorter description for the model.")


class McpServerConfig(_Section):
    """``[mcp.servers.<name>]``: one MCP server, as in the usual ``mcpServers`` shape."""

    command: str = Field("", description="Program to start (stdio transport).")
    args: list[str] = Field(default_factory=list, description="Its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for it; "
        "${VAR} is taken from our environment.")
    url: str = Field("", description="A streamable HTTP endpoint instead of a command.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="HTTP headers, e.g. Authorization = "
        "'Bearer ${HA_TOKEN}' (${VAR} is taken from the environment).")
    timeout_s: float = Field(10.0, gt=0, description="Time limit of one tool call.")
    trust: Literal["untrusted", "trusted"] = Field(
        "untrusted", description="'trusted': believe its read-only annotations (its "
        "read-only tools then run without asking).")
    allowed_tools: list[str] | None = Field(
        None, description="Only these tools (default: all).")
    blocked_tools: list[str] = Field(default_factory=list, description="Never these tools.")
    tools: dict[str, McpToolOverride] = Field(
        default_factory=dict, description="Per-tool overrides.")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if bool(self.command) == bool(self.url):
            raise ValueError("give exactly one of command (stdio) or url (streamable HTTP)")
        if self.url and urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"url must be http(s)://..., not {self.url!r}")
        return self


class McpConfig(_Section):
    """``[mcp]``: tools of other programs (MCP servers) as skills."""

    servers: dict[str, McpServerConfig] = Field(
        default_factory=dict, description="One table per server: [mcp.servers.<name>].")
    startup_timeout_s: float = Field(
        10.0, gt=0, description="A server must start and list its tools within this time; "
        "otherwise it is reported and skipped (and tried again on its next use).")
    serve_http: bool = Field(
        False, description="Inside `assistant voice` and `assistant serve`: also offer our "
        "skills over MCP (streamable HTTP on 127.0.0.1, bearer token in <data_dir>/mcp-token).")
    http_port: int = Field(8765, ge=0, le=65535,
                           description="Port of that endpoint and of `assistant mcp serve "
                           "--http` (0: any free port).")


class Config(_Section):
    llm: LLMConfig = Field(default_factory=LLMConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    asr: ASRConfig = Field(default_factory=ASRConfig)
    tts: TTSConfig = Field(default_factory=TTSConfig)
    voice: VoiceConfig = Field(default_factory=VoiceConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    mcp: McpConfig = Field(default_factory=McpConfig)
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


def _merge(target: dict, path: list[str], value: Any, source: str, sources: dict) -> None:
    """Set ``value`` at ``path`` (section, subsection..., key) in ``target``; a table is
    merged key by key, so that each key keeps its own source."""
    if isinstance(value, dict):
        for key, item in value.items():
            _merge(target, [*path, key], item, source, sources)
        return
    node = target
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    sources[".".join(path)] = source


def _format_error(err: ValidationError, sources: dict[str, str]) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    origin = sources.get(key)
    where = f" (from {origin})" if origin else ""
    if first["type"] == "extra_forbidden":
        line = f"config: unknown key '{key}'{where}; see `assistant config show` for valid keys"
    else:
        line = f"config: {key}: {first['msg']}{where}"
    # Keys and values come from outside: a newline or an escape in one stays on the line.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


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

    if cfg_path.is_dir():
        raise ConfigError(f"config: {cfg_path} is a folder; give the path of a TOML file")
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config: {cfg_path} is not valid TOML: {exc}") from None
        except OSError as exc:  # unreadable: permissions, a device, a dangling mount
            raise ConfigError(f"config: cannot read {cfg_path}: {exc.strerror or exc}") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(
                    f"config: unknown key '{section}' in {cfg_path}; keys live in sections "
                    "such as [llm] or [skills]"
                )
            _merge(raw, [section], values, str(cfg_path), sources)
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
        _merge(raw, [section, *key.split("__")], _parse_env_value(value), f"env {name}",
               sources)

    for dotted, value in (overrides or {}).items():
        _merge(raw, dotted.split("."), value, "command line", sources)

    try:
        config = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_error(err, sources)) from None
    return LoadedConfig(config, sources, cfg_path)


def describe(loaded: LoadedConfig) -> list[tuple[str, Any, str, str]]:
    """Rows of (key, effective value, source, description) for every config key, the keys of
    subsections (``voice.vad.min_rms``) included."""
    rows = []

    def walk(section: _Section, prefix: str) -> None:
        for key, field in type(section).model_fields.items():
            value, dotted = getattr(section, key), f"{prefix}{key}"
            if isinstance(value, _Section):
                walk(value, dotted + ".")
            else:
                rows.append((dotted, value, loaded.sources.get(dotted, "default"),
                             field.description or ""))

    walk(loaded.config, "")
    return rows
