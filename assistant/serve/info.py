"""What the server offers, as Home Assistant reads it from ``Info``: speech to text, text to
speech and a conversation agent, on one port (Home Assistant makes one entity of each from
one config entry)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
)

from assistant.config import Config

LANGUAGES = ["en"]
"""The default models' languages (whisper-tiny.en, an English Piper voice, SmolLM2)."""


def _version() -> str | None:
    try:
        return version("voice-assistant")
    except PackageNotFoundError:
        return None


def describe(config: Config) -> Info:
    ours = Attribution(name="voice-assistant", url="")  # a local project, no home page
    v = _version()
    asr = AsrProgram(
        name="assistant-asr", attribution=ours, installed=True, version=v,
        description="Streaming Whisper (faster-whisper) that ends the command itself, "
                    "judging the words as well as the silence",
        models=[AsrModel(name=config.asr.model, languages=LANGUAGES, installed=True,
                         version=None, description="Whisper (CTranslate2)",
                         attribution=Attribution(name="OpenAI Whisper",
                                                 url="https://github.com/openai/whisper"))],
        supports_transcript_streaming=True,
        requires_external_vad=False,
    )
    tts = TtsProgram(
        name="assistant-tts", attribution=ours, installed=True, version=v,
        description="Piper, with numbers and units spoken in words, streaming sentence by "
                    "sentence",
        voices=[TtsVoice(name=config.tts.voice, languages=LANGUAGES, installed=True,
                         version=None, description="Piper voice",
                         attribution=Attribution(name="rhasspy/piper",
                                                 url="https://github.com/rhasspy/piper"))],
        supports_synthesize_streaming=True,
    )
    handle = HandleProgram(
        name="assistant", attribution=ours, installed=True, version=v,
        description="The assistant's own turn: skills on the fast path, a local LLM, "
                    "local memory",
        models=[HandleModel(name=config.llm.model, languages=LANGUAGES, installed=True,
                            version=None, description="Local GGUF model (llama.cpp)",
                            attribution=Attribution(name="llama.cpp",
                                                    url="https://github.com/ggml-org/llama.cpp"))],
    )
    return Info(asr=[asr], tts=[tts], handle=[handle])
