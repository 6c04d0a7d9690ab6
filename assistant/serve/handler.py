"""One Wyoming client's requests, in the sequences Home Assistant sends them.

* ``Describe`` → ``Info``, at once, even while the models load.
* Speech to text: ``Transcribe``, ``AudioStart``, ``AudioChunk``\\ s, ``AudioStop`` →
  ``TranscriptStart``, ``TranscriptChunk``\\ s of settled words, then one ``Transcript`` as soon
  as our endpointing decides the command is over (usually before ``AudioStop``: Home
  Assistant, told ``requires_external_vad = False``, stops at our ``Transcript``), then
  ``TranscriptStop``. Audio after the ``Transcript`` is ignored.
* Text to speech: ``Synthesize`` → one ``AudioStart`` … ``AudioStop``. Streaming:
  ``SynthesizeStart``, ``SynthesizeChunk``\\ s, ``SynthesizeStop`` → one ``AudioStart`` …
  ``AudioStop`` per piece of text as soon as it is a sentence (the first may be a clause),
  then ``SynthesizeStopped``; the ``Synthesize`` Home Assistant sends inside a stream for
  older servers is ignored (it would be spoken twice). One audio format throughout: the
  voice's own rate, 16-bit mono.
* A conversation turn: ``Transcript(text, context)`` → ``Handled(text, context)`` (or
  ``NotHandled``), in the conversation named by ``context.conversation_id`` (else the
  satellite's or device's id, else a new one), whose id comes back in the context.
* A room: ``Info(satellite=...)`` makes this connection a satellite's (:mod:`.room`); then
  ``RunPipeline`` + audio is an utterance to recognise (``VoiceStarted``/``VoiceStopped``
  and the ``Transcript`` are sent back) and answer, and ``VoiceStarted`` from the satellite
  interrupts the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)
from wyoming.vad import VoiceStarted, VoiceStopped

from assistant import AssistantError
from assistant.serve.info import describe
from assistant.serve.pcm import FormatError, Incoming
from assistant.serve.room import Room
from assistant.serve.services import Services
from assistant.serve.stt import Dictation
from assistant.serve.wire import Connection, Limits
from assistant.speech.tts import SentenceChunker

CHUNK_SAMPLES = 2048
"""Samples per ``AudioChunk`` of synthesised speech (~0.1 s at 22.05 kHz)."""


class Handler(Connection):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 services: Services, limits: Limits) -> None:
        super().__init__(reader, writer, limits)
        self.services = services
        self.config = services.config
        self._writing = asyncio.Lock()
        self._sends: set[asyncio.Task] = set()
        # speech to text
        self._language: str | None = None
        self._incoming: Incoming | None = None
        self._dictation: Dictation | None = None
        self._transcribed = False
        self._heard: list[asyncio.Future] = []
        # streaming text to speech
        self._chunker: SentenceChunker | None = None
        # a satellite's room
        self.room: Room | None = None
        self._pipeline = False
        """The audio under way is a room's utterance, to be answered."""
        self._voice = False

    async def handle_event(self, event: Event) -> bool:
        kind = event.type
        if Describe.is_type(kind):
            await self.send(describe(self.config).event())
        elif Transcribe.is_type(kind):
            self._language = Transcribe.from_event(event).language
        elif AudioStart.is_type(kind):
            await self._audio_start(event.data)
        elif AudioChunk.is_type(kind):
            await self._audio_chunk(event)
        elif AudioStop.is_type(kind):
            await self._audio_stop()
        elif Synthesize.is_type(kind):
            if self._chunker is None:  # inside a stream it repeats the chunks: not twice
                await self._synthesize(Synthesize.from_event(event).text)
        elif SynthesizeStart.is_type(kind):
            self._chunker = SentenceChunker()
        elif SynthesizeChunk.is_type(kind):
            await self._synthesize_chunk(SynthesizeChunk.from_event(event).text)
        elif SynthesizeStop.is_type(kind):
            await self._synthesize_stop()
        elif Transcript.is_type(kind):
            await self._handle(Transcript.from_event(event))
        elif Info.is_type(kind):
            self._join(Info.from_event(event))
        elif RunPipeline.is_type(kind) and self.room is not None:
            self._pipeline = True
        elif VoiceStarted.is_type(kind) and self.room is not None:
            self.room.interrupt()
        # Anything else is not for us: Wyoming peers ignore events they do not know.
        return True

    async def send(self, event: Event) -> None:
        """Write ``event`` after those sent before it (asyncio's lock is fair)."""
        async with self._writing:
            await self.write_event(event)

    def _send_soon(self, event: Event) -> None:
        """Send from a callback, in order, without waiting for it."""
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _ready(self) -> bool:
        why = await self.services.ready()
        if why:
            await self.error(why, "not-ready")
        return not why

    # ------------------------------------------------------------------ speech to text

    async def _audio_start(self, data: dict[str, Any]) -> None:
        try:
            incoming = Incoming(data.get("rate"), data.get("width"), data.get("channels"))
        except FormatError as exc:
            await self.error(str(exc), "bad-audio")
            return
        if not await self._ready():
            return
        self._incoming, self._transcribed, self._heard = incoming, False, []
        self._voice = False
        self._dictation = self.services.dictation(wake=self._pipeline)
        await self.send(TranscriptStart(language=self._language).event())

    async def _audio_chunk(self, event: Event) -> None:
        if self._incoming is None:  # no AudioStart: the chunk's own format starts the audio
            await self._audio_start(event.data)
            if self._incoming is None:
                return
        incoming, dictation = self._incoming, self._dictation
        if self._transcribed or dictation is None:
            return
        d = event.data
        if (d.get("rate"), d.get("width"), d.get("channels")) != \
                (incoming.rate, incoming.width, incoming.channels):
            await self.error("the audio format changed in the middle of the audio", "bad-audio")
            return
        frames = incoming.frames(event.payload or b"")
        if incoming.seconds > self.config.serve.max_audio_s:
            await self.error(f"more than {self.config.serve.max_audio_s:g} s of audio; "
                             "the transcription ends here", "too-long")
            await self._audio_stop()
            return
        dictation.pending += len(frames)
        heard = asyncio.get_running_loop().run_in_executor(self.services.asr, dictation.hear,
                                                           frames)
        heard.add_done_callback(lambda f: self._on_heard(dictation, f))
        self._heard = [f for f in self._heard if not f.done()] + [heard]

    def _on_heard(self, dictation: Dictation, heard: asyncio.Future) -> None:
        if heard.cancelled() or dictation is not self._dictation or self._transcribed:
            return
        if heard.exception() is not None:
            self._send_soon(Error(text=f"recognition failed: {heard.exception()}",
                                  code="failed").event())
            self._transcribed = True
            return
        if self._pipeline and dictation.hearing and not self._voice:
            self._voice = True
            self._send_soon(VoiceStarted().event())
        for words in heard.result():
            self._send_soon(TranscriptChunk(text=words).event())
        if dictation.done:
            self._transcript(dictation)

    def _transcript(self, dictation: Dictation) -> None:
        self._transcribed = True
        if self._pipeline:
            self._send_soon(VoiceStopped().event())
        self._send_soon(Transcript(text=dictation.text, language=self._language).event())
        self._send_soon(TranscriptStop().event())
        if self._pipeline and self.room is not None:
            self._pipeline = False
            if dictation.text:
                self.room.answer(dictation.text, dictation.heard)

    async def _audio_stop(self) -> None:
        dictation = self._dictation
        if dictation is None:
            return
        self._incoming = None
        if not self._transcribed:
            await asyncio.gather(*self._heard, return_exceptions=True)
            await asyncio.get_running_loop().run_in_executor(self.services.asr,
                                                             dictation.finish)
            if not self._transcribed:
                self._transcript(dictation)
        self._dictation = None
        await asyncio.gather(*self._sends)

    # ------------------------------------------------------------------ rooms

    def _join(self, info: Info) -> None:
        if info.satellite is None:
            return
        name = info.satellite.area or info.satellite.name
        if self.room is not None:
            self.services.rooms.leave(self.room)
        self.room = Room(name, self.services, self.send)
        self.services.rooms.join(self.room)
        task = asyncio.get_running_loop().create_task(self._run_satellite())
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _run_satellite(self) -> None:
        """Let the satellite stream once the models are loaded (Wyoming's RunSatellite)."""
        if await self._ready():
            await self.send(RunSatellite().event())

    async def disconnect(self) -> None:
        if self.room is not None:
            self.services.rooms.leave(self.room)
        if self._dictation is not None:  # gone mid-utterance: nothing more will come
            self._dictation.done = True

    # ------------------------------------------------------------------ text to speech

    async def _synthesize(self, text: str) -> None:
        """The whole text as one stream of audio, sentence after sentence."""
        if not await self._check_text(text) or not await self._ready():
            return
        chunker = SentenceChunker()
        pieces = [*chunker.feed(text), *chunker.flush()]
        await self._speak(pieces)

    async def _synthesize_chunk(self, text: str) -> None:
        if self._chunker is None:
            self._chunker = SentenceChunker()
        if not await self._check_text(self._chunker.buffer + text) or not await self._ready():
            return
        for piece in self._chunker.feed(text):
            await self._speak([piece])

    async def _synthesize_stop(self) -> None:
        if self._chunker is not None:
            pieces = list(self._chunker.flush())
            self._chunker = None
            if pieces and await self._ready():
                for piece in pieces:
                    await self._speak([piece])
        await self.send(SynthesizeStopped().event())

    async def _check_text(self, text: str) -> bool:
        limit = self.config.serve.max_text_chars
        if len(text) > limit:
            await self.error(f"text of {len(text)} characters is over the limit of {limit}",
                             "too-long")
            return False
        return True

    async def _speak(self, texts: list[str]) -> None:
        """One AudioStart … AudioStop of ``texts``, at the voice's own rate."""
        await self.services.speak(texts, self.services.synthesizer.rate, CHUNK_SAMPLES,
                                  self.send)

    # ------------------------------------------------------------------ conversation

    async def _handle(self, transcript: Transcript) -> None:
        context = dict(transcript.context or {})
        cid = context.get("conversation_id") or context.get("satellite_id") or \
            context.get("device_id")
        if not await self._check_text(transcript.text) or not await self._ready():
            return
        try:
            cid, result = await asyncio.get_running_loop().run_in_executor(
                self.services.turns, self.services.conversations.turn, transcript.text,
                str(cid) if cid else None)
        except AssistantError as exc:
            await self.send(NotHandled(text=str(exc), context=context).event())
            return
        context["conversation_id"] = cid
        reply = Handled if result.kind != "empty" else NotHandled
        await self.send(reply(text=result.text, context=context).event())

