"""The voice front-ends: ``assistant voice`` (live or from a file), ``transcribe`` and ``say``.

Builds the models (in parallel: cold start is the slowest of them, not their sum), wires the
:class:`~assistant.voice.loop.VoiceLoop` to a driver, and shows a live view of what the assistant
hears and says (:mod:`assistant.voice.view`).
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
from rich.console import Console
from rich.live import Live

from assistant.agent import Assistant
from assistant.config import Config
from assistant.llm import LLMEngine
from assistant.models import resolve
from assistant.speech.asr import Recognizer
from assistant.speech.audio import (
    RATE,
    AudioError,
    AudioWriter,
    DeviceDriver,
    FileDriver,
    load_audio,
    save_wav,
    stream_audio,
)
from assistant.speech.longform import transcribe_blocks
from assistant.speech.tts import Synthesizer, speakable
from assistant.speech.turn import TurnDetector
from assistant.text import MAX_SPEECH_CHARS, bounded
from assistant.timeline import Timeline
from assistant.voice.events import EventLog
from assistant.voice.loop import VoiceLoop
from assistant.voice.view import LiveView


def build_recognizer(config: Config) -> Recognizer:
    # CTranslate2's default of 4 threads oversubscribes a 2-core CPU (measured ~20% slower).
    threads = config.llm.n_threads or psutil.cpu_count(logical=False) or 2
    return Recognizer(resolve(config.asr.model, "asr", config.paths.cache), threads=threads,
                      beam_size=config.asr.beam_size, unsure_below=config.asr.unsure_below,
                      second_opinion=config.asr.second_opinion)


def build_synthesizer(config: Config) -> Synthesizer:
    return Synthesizer(resolve(config.tts.voice, "tts", config.paths.cache), config.paths.cache)


def build_detector(config: Config) -> TurnDetector | None:
    """The end-of-turn judge on its own llama.cpp context, or None (``voice.turn_model``
    empty: the rules alone)."""
    if not config.voice.turn_model:
        return None
    path = resolve(config.voice.turn_model, "llm", config.paths.cache)
    tuning = config.voice.tuning
    return TurnDetector(LLMEngine(path, n_ctx=256, n_threads=config.llm.n_threads),
                        tuning.turn_finished_logp, tuning.turn_unfinished_logp)


def build_loop(config: Config, events: EventLog, wait_warm: bool = False) -> VoiceLoop:
    """All models loaded (concurrently) and the loop's threads started. The LLM's prompt
    prefill runs in the background unless ``wait_warm`` (file input: a repeatable timeline)."""
    assistant = Assistant(config)
    recognizer, synth = build_recognizer(config), build_synthesizer(config)
    detector = build_detector(config)
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(recognizer.load), pool.submit(synth.load),
                pool.submit(assistant.engine.load)]
        if detector is not None:
            jobs.append(pool.submit(detector.load))
        for job in jobs:
            job.result()
    loop = VoiceLoop(assistant, recognizer, synth, config.voice, events, detector)
    loop.start(warm_up=True)
    if wait_warm:
        loop.wait_warm()
    return loop


def run_voice(config: Config, *, input_path: str | None, output_path: str | None,
              events_path: str | None, fast: bool, console: Console) -> int:
    events = EventLog(Path(events_path) if events_path else None)
    if input_path:
        audio = load_audio(input_path)  # fail on a bad file before loading any model
    else:
        driver = DeviceDriver(config.voice.input_device or None,
                              config.voice.output_device or None)
    with console.status("loading models..."):
        start = time.perf_counter()
        loop = build_loop(config, events, wait_warm=input_path is not None)
        ready_s = time.perf_counter() - start
    mcp = None
    if config.mcp.serve_http:  # our skills for other programs, sharing this Assistant
        from assistant.mcp.http import alongside

        mcp = alongside(loop.port.assistant, console.print)
    view = LiveView(config.asr.noisy_below_db)
    events.listeners.append(view.on_event)
    tick = loop.tick
    if input_path:
        driver = FileDriver(audio, realtime=not fast, busy=loop.busy, backlog=loop.backlog)
        # Timers follow the file's timeline, which --fast races along (assistant.timeline).
        timeline = Timeline(loop.clock.now)
        loop.port.assistant.context.clock = timeline
        tick = timeline.ticking(loop.tick)
        if not console.is_terminal:
            events.listeners.append(lambda e: console.print(json.dumps(e.as_dict()),
                                                            highlight=False, soft_wrap=True))
    console.print(f"ready in {ready_s:.1f} s — " + ("speak; Ctrl-C to quit" if not input_path
                                                  else f"playing {input_path}"))
    if config.voice.push_to_talk and not input_path:
        _push_to_talk(loop, console)
    try:
        if console.is_terminal:
            with Live(view.render(), console=console, auto_refresh=False) as live:
                redraw = threading.Thread(target=view.redraw, args=(live,), daemon=True)
                redraw.start()
                try:
                    driver.run(tick, loop.clock, until_idle=loop.idle)
                finally:
                    view.stop.set()
                    redraw.join()
        else:
            driver.run(tick, loop.clock, until_idle=loop.idle)
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
        if mcp is not None:
            mcp.close()
    if output_path and isinstance(driver, FileDriver):
        save_wav(output_path, driver.output)
    return 0


def _push_to_talk(loop: VoiceLoop, console: Console) -> None:
    console.print("push-to-talk: press Enter to start and stop listening")

    def toggle() -> None:
        for _ in sys.stdin:
            loop.talk_enabled = not loop.talk_enabled
            console.print("listening" if loop.talk_enabled else "paused")

    threading.Thread(target=toggle, daemon=True).start()


def transcribe_file(config: Config, path: str, as_json: bool) -> int:
    """Speech → text, streamed (:mod:`assistant.speech.longform`): memory does not grow with
    the file. Plain output prints each piece of speech as a line as soon as it is decoded;
    ``--json`` prints one object at the end (the text is small beside the audio)."""
    blocks = stream_audio(path)
    first = next(blocks)  # an empty or unreadable file fails before the model loads
    samples = 0

    def counted() -> Iterator[np.ndarray]:
        nonlocal samples
        for block in itertools.chain([first], blocks):
            samples += len(block)
            yield block

    start = time.perf_counter()
    segments = []
    for segment in transcribe_blocks(counted(), build_recognizer(config),
                                     config.voice.vad.silero_threshold):
        if as_json:
            segments.append(segment)
        else:
            print(segment.text, flush=True)
    if as_json:
        print(json.dumps({"text": " ".join(s.text for s in segments),
                          "duration_s": round(samples / RATE, 3),
                          "ms": round((time.perf_counter() - start) * 1000, 1),
                          "segments": [vars(s) for s in segments]}))
    return 0


def say_text(config: Config, text: str, output: str) -> int:
    """Speak ``text`` into the file ``output``, sentence by sentence as it is synthesised."""
    text = bounded(text, MAX_SPEECH_CHARS)
    if not speakable(text):
        raise AudioError("nothing to say: the text is empty")
    synth = build_synthesizer(config)
    start = time.perf_counter()
    with AudioWriter(output) as out:
        for piece in synth.stream(text, whole=True):
            out.write(piece.audio)
    print(f"wrote {output} ({out.seconds:.2f} s of audio in "
          f"{(time.perf_counter() - start) * 1000:.0f} ms)", file=sys.stderr)
    return 0
