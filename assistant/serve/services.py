"""What the server computes with: the models, the threads they run on, the conversations.

Models load in the background (all at once, as the voice loop's do), so that the server
answers ``Describe`` at once; a request that needs a model waits for it, and if one cannot be
loaded, every request that needs it is told why in one line. Each kind of work has its own
threads: recognition one (Whisper decodes in order of arrival), synthesis one, turns several
(a fast-path command never waits behind another conversation's LLM answer; the model itself
decodes for one turn at a time, in order of arrival).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from assistant import AssistantError, fastpath, heap
from assistant.agent import Assistant
from assistant.config import Config
from assistant.llm import ModelServerError
from assistant.serve.conversations import Conversations
from assistant.serve.room import Rooms
from assistant.serve.stt import Dictation
from assistant.speech.audio import RATE
from assistant.speech.vad import silero_confirms, to_pcm16
from assistant.voice.app import build_detector, build_recognizer, build_synthesizer

log = logging.getLogger(__name__)

LOAD_WAIT_S = 600.0
"""How long a request waits for the models to finish loading."""


class Services:
    """Owned by the server. ``announce`` says what a skill announces outside a turn (a timer
    going off)."""

    def __init__(self, config: Config, announce: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.recognizer = build_recognizer(config)
        self.synthesizer = build_synthesizer(config)
        self.detector = build_detector(config)
        self.assistant = Assistant(config, announce=announce or self._log_announcement)
        self.assistant.context.channel = "voice"
        self.rooms = Rooms()
        self.assistant.context.announce_in = self.rooms.announce
        self.conversations = Conversations(self.assistant, config.serve.conversations,
                                           config.serve.conversation_idle_s)
        self.asr = ThreadPoolExecutor(1, thread_name_prefix="asr")
        self.tts = ThreadPoolExecutor(1, thread_name_prefix="tts")
        self.turns = ThreadPoolExecutor(8, thread_name_prefix="turn")
        self._dictations: weakref.WeakSet[Dictation] = weakref.WeakSet()
        self._loaded = threading.Event()
        self._loader: threading.Thread | None = None
        self.error = ""
        """Why the models could not be loaded ("" while loading or once loaded)."""

    def start_loading(self) -> None:
        self._loader = threading.Thread(target=self._load, name="load", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        try:
            with ThreadPoolExecutor(4) as pool:
                jobs = [pool.submit(self.recognizer.load), pool.submit(self.synthesizer.load),
                        pool.submit(self.assistant.engine.load),
                        pool.submit(self.is_speech, np.zeros(RATE // 2, np.float32))]
                if self.detector is not None:
                    jobs.append(pool.submit(self.detector.load))
                for job in jobs:
                    job.result()
            try:
                self.assistant.warm_up()
            except ModelServerError as exc:  # speech still works; each turn says this
                log.warning("the model server is not answering yet: %s", exc)
        except AssistantError as exc:
            self.error = str(exc)
            log.error("cannot serve: %s", exc)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("loading the models failed")
        finally:
            self._loaded.set()

    @property
    def loaded(self) -> bool:
        """Loading is over (well or not)."""
        return self._loaded.is_set()

    async def ready(self) -> str:
        """Wait until the models are loaded; "" when they are, else why not."""
        if not self._loaded.is_set():
            done = await asyncio.get_running_loop().run_in_executor(
                None, self._loaded.wait, LOAD_WAIT_S)
            if not done:
                return "the models are still loading; try again in a minute"
        return self.error

    def is_speech(self, audio: np.ndarray) -> bool:
        return silero_confirms(audio, self.config.voice.vad.silero_threshold)

    def dictation(self, wake: bool = False) -> Dictation:
        """A transcription; ``wake``: the wake phrase applies (a room's utterance, which
        this server answers: a command that acts gets the second decode)."""
        dictation = Dictation(self.recognizer, self.is_speech, self.config.voice,
                              self.is_command, self.detector, wake, self.backlog,
                              self.acts if wake else None)
        self._dictations.add(dictation)
        return dictation

    def backlog(self) -> int:
        """Frames of every client that wait for the one recognition thread. A listener makes
        partial transcripts only while this is small: with several rooms speaking at once,
        one room's partials would delay another's final words."""
        return sum(d.pending for d in list(self._dictations))

    def is_command(self, text: str) -> bool:
        return fastpath.match(self.assistant.registry, text) is not None

    def acts(self, text: str) -> bool:
        return fastpath.acts(self.assistant.registry, text)

    async def speak(self, texts: list[str], rate: int, samples: int,
                    send: Callable[[Event], Awaitable[None]]) -> None:
        """One ``AudioStart`` … ``AudioStop`` of ``texts`` at ``rate``, said one after another
        in ``AudioChunk``\\ s of ``samples``: the first goes out as soon as the first short
        piece of sound is made (synthesis runs on its own thread)."""
        await send(AudioStart(rate=rate, width=2, channels=1).event())
        loop = asyncio.get_running_loop()
        sounds = (piece.audio for text in texts
                  for piece in self.synthesizer.stream(text, rate=rate))
        while (audio := await loop.run_in_executor(self.tts, next, sounds, None)) is not None:
            for i in range(0, len(audio), samples):
                await send(AudioChunk(rate=rate, width=2, channels=1,
                                      audio=to_pcm16(audio[i:i + samples])).event())
        await send(AudioStop().event())
        heap.trim()  # what synthesis freed goes back to the system (assistant/heap.py)

    def close(self) -> None:
        """Stop taking work and wait (bounded) for the loading to end: a server stopped
        while its models load must not go on loading them behind its successor's back."""
        for pool in (self.asr, self.tts, self.turns):
            pool.shutdown(wait=False, cancel_futures=True)
        if self._loader is not None:
            self._loader.join(LOAD_WAIT_S)
        self.assistant.close()

    @staticmethod
    def _log_announcement(text: str) -> None:
        log.warning("announcement: %s", text)
