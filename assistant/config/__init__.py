"""Configuration: one TOML file, ``ASSISTANT_*`` environment overrides, validated by pydantic.

Every key, its default and its meaning live in the section models of this package and nowhere else;
``assistant config show`` prints them with the source each effective value came from.

Precedence (last wins): defaults < config file < environment < command line.
The file is ``$XDG_CONFIG_HOME/assistant/config.toml`` unless ``--config`` or
``ASSISTANT_CONFIG`` names another. An environment override is
``ASSISTANT_<SECTION>__<KEY>``, e.g. ``ASSISTANT_LLM__N_THREADS=4``.

Modules: ``base`` (the shared model and value types), ``sections`` (the root
:class:`Config`, [llm], [skills], [memory], [serve], [paths]), ``voice`` ([asr], [tts],
[voice]), ``mcp`` ([mcp]), ``load`` (:func:`load_config`, :func:`describe`).
"""

from assistant.config.base import APP_NAME, ENV_PREFIX, ConfigError
from assistant.config.load import LoadedConfig, default_config_path, describe, load_config
from assistant.config.mcp import McpConfig, McpServerConfig, McpToolOverride
from assistant.config.sections import (
    Config,
    LLMConfig,
    MemoryConfig,
    PathsConfig,
    ServeConfig,
    SkillsConfig,
)
from assistant.config.voice import ASRConfig, TTSConfig, VadConfig, VoiceConfig, VoiceTuning

__all__ = ["APP_NAME", "ENV_PREFIX", "ASRConfig", "Config", "ConfigError", "LLMConfig",
           "LoadedConfig", "McpConfig", "McpServerConfig", "McpToolOverride", "MemoryConfig",
           "PathsConfig", "ServeConfig", "SkillsConfig", "TTSConfig", "VadConfig",
           "VoiceConfig", "VoiceTuning", "default_config_path", "describe", "load_config"]
