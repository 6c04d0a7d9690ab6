"""Speech to text for a file of any length, in memory that does not grow with its length.

The audio comes in blocks (:func:`assistant.speech.audio.stream_audio`: read and resampled
as it goes). Silero VAD finds the speech in windows of :data:`WINDOW_S`; only speech reaches
Whisper, so digital silence and noise transcribe to nothing instead of Whisper's "you" or
"I'm going to go to the ground." Speech is decoded in pieces of at most :data:`PIECE_S`
(cut at pauses where it can be), each yielded as one segment as soon as it is decoded,
stamped on the file's timeline. A stretch of speech still going on at a window's end waits
for the next window, so a word is not cut in two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from assistant.speech.asr import Recognizer, Segment
from assistant.speech.audio import RATE

WINDOW_S = 30.0
"""Audio searched for speech at once (and so, with what waits, at most twice this held)."""
PIECE_S = 20.0
"""Longest speech decoded at once: under Whisper's 30 s window with room for its padding."""
_OPEN_END_S = 1.0
"""Speech that reaches this close to a window's end may go on: it waits for more audio."""


def speech_spans(audio: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(start, end) samples of the speech in ``audio`` by Silero VAD, each at most
    :data:`PIECE_S` long, padded a little so that first and last phonemes are kept."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_speech_duration_ms=120,
                         max_speech_duration_s=PIECE_S, min_silence_duration_ms=500,
                         speech_pad_ms=200)
    found = get_speech_timestamps(audio, vad_options=options, sampling_rate=RATE)
    return [(int(f["start"]), int(f["end"])) for f in found]


def _pieces(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Neighbouring spans joined while the whole stays within :data:`PIECE_S` (one decode
    each, with the context of the words around)."""
    pieces: list[tuple[int, int]] = []
    for start, end in spans:
        if pieces and end - pieces[-1][0] <= PIECE_S * RATE:
            pieces[-1] = (pieces[-1][0], end)
        else:
            pieces.append((start, end))
    return pieces


def transcribe_blocks(blocks: Iterable[np.ndarray], recognizer: Recognizer,
                      threshold: float) -> Iterator[Segment]:
    """The segments of the speech in ``blocks`` (16 kHz mono float32), in order, each as
    soon as it is decoded; times are seconds from the first block."""
    buffer = np.zeros(0, np.float32)
    offset = 0  # samples of the input before buffer[0]
    window = int(WINDOW_S * RATE)
    blocks = iter(blocks)
    done = False
    while not done:
        block = next(blocks, None)
        done = block is None
        if block is not None:
            buffer = np.concatenate([buffer, block])
            if len(buffer) < window:
                continue
        spans = speech_spans(buffer, threshold) if len(buffer) else []
        cut = len(buffer)
        if not done:
            open_end = len(buffer) - int(_OPEN_END_S * RATE)
            waiting = [s for s, e in spans if e > open_end]
            cut = min([open_end, *waiting])
            if len(buffer) - cut >= window:  # a whole window of unbroken speech: decode it
                cut = len(buffer)
        for start, end in _pieces([(s, min(e, cut)) for s, e in spans if s < cut]):
            # Whisper's own segment times inside a piece are rough; the piece's are the VAD's.
            text = recognizer.transcribe(buffer[start:end], beam=True).text
            if text:
                yield Segment(round((offset + start) / RATE, 3), round((offset + end) / RATE, 3),
                              text)
        buffer, offset = buffer[cut:], offset + cut
