"""Text to speech: Piper voices, text normalised for speaking, and a streaming sentence
chunker that lets audio start after the first clause of an answer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from num2words import num2words

from assistant import onnx_sessions
from assistant.speech.audio import RATE
from assistant.text import clean

# ---------------------------------------------------------------------- normalisation

_UNITS = {
    "km/h": "kilometres per hour", "kmh": "kilometres per hour", "mph": "miles per hour",
    "km": "kilometres", "cm": "centimetres", "mm": "millimetres", "m": "metres",
    "mi": "miles", "ft": "feet", "kg": "kilograms", "mg": "milligrams",
    "g": "grams", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ml": "millilitres",
    "l": "litres", "°C": "degrees Celsius", "°F": "degrees Fahrenheit", "°": "degrees",
    "%": "percent", "GB": "gigabytes", "MB": "megabytes", "ms": "milliseconds",
    "s": "seconds", "min": "minutes", "h": "hours",
}
_SINGULAR = {"kilometres": "kilometre", "centimetres": "centimetre", "millimetres": "millimetre",
             "metres": "metre", "miles": "mile", "feet": "foot", "inches": "inch",
             "kilograms": "kilogram", "milligrams": "milligram", "grams": "gram",
             "pounds": "pound", "ounces": "ounce", "millilitres": "millilitre", "litres": "litre",
             "degrees": "degree", "gigabytes": "gigabyte", "megabytes": "megabyte",
             "milliseconds": "millisecond", "seconds": "second", "minutes": "minute",
             "hours": "hour"}
_UNIT_RX = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_CURRENCY = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds")}
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December")


def _number(text: str) -> str:
    value = float(text) if "." in text else int(text)
    return num2words(value).replace("-", " ")


def _clock(m: re.Match[str]) -> str:
    hour, minute, ampm = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower()
    if not ampm:
        ampm = "pm" if hour >= 12 else "am"
    hour = hour % 12 or 12
    spoken = _number(str(hour))
    if minute:
        spoken += " oh " + _number(str(minute)) if minute < 10 else " " + _number(str(minute))
    return f"{spoken} {ampm[0]} m"


def _measure(m: re.Match[str]) -> str:
    unit = _UNITS[m.group(2)]
    if m.group(1) in ("1", "1.0"):
        unit = " ".join(_SINGULAR.get(w, w) for w in unit.split(" ", 1)[:1]) + \
            (" " + unit.split(" ", 1)[1] if " " in unit else "")
    return f"{_number(m.group(1))} {unit}"


def _money(m: re.Match[str]) -> str:
    one, many = _CURRENCY[m.group(1)]
    return f"{_number(m.group(2))} {one if m.group(2) in ('1', '1.00') else many}"


def _date(m: re.Match[str]) -> str:
    day = num2words(int(m.group(2)), to="ordinal")
    return f"{m.group(1)} {day}, {num2words(int(m.group(3)), to='year')}"


def speakable(text: str) -> str:
    """Numbers, times, units and symbols as a person would say them:
    '14:30' → 'two thirty p m', '5 km' → 'five kilometres', '42.16' → 'forty two point one six'.
    """
    t = re.sub(r"[*_`#>\[\]{}|]+", " ", clean(text))  # markdown and brackets: not for the ear
    t = re.sub(r"\b(\d{1,2}):(\d{2})\s*([AaPp])\.?\s?[Mm]\b", lambda m: _clock(
        re.match(r"(\d+):(\d+)(.*)", f"{m.group(1)}:{m.group(2)}{m.group(3)}m")), t)
    t = re.sub(r"\b([01]?\d|2[0-3]):([0-5]\d)\b()", _clock, t)
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # thousands separators: "1,000"
    t = re.sub(r"(?<![\w.])-(?=\d)", "minus ", t)
    t = re.sub(r"([$€£])(\d+(?:\.\d+)?)", _money, t)
    t = re.sub(rf"\b(\d+(?:\.\d+)?)\s?({_UNIT_RX})(?![\w/])", _measure, t)
    t = re.sub(rf"\b({_MONTHS}) (\d{{1,2}}), (\d{{4}})\b", _date, t)
    t = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal"), t)
    t = re.sub(r"(?<=\d)\s*\+\s*(?=\d)", " plus ", t)
    t = re.sub(r"(?<=\d)\s*[x×*]\s*(?=\d)", " times ", t)
    t = re.sub(r"(?<=\d)\s*=\s*(?=\d)", " equals ", t)
    t = t.replace("&", " and ")
    t = re.sub(r"\d+(?:\.\d+)?", lambda m: _number(m.group(0)), t)
    return " ".join(t.split())


# ---------------------------------------------------------------------- chunking

_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "vs", "etc", "e.g", "i.e", "no", "prof", "jr",
                  "sr", "approx", "fig", "mt"}
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s")
_CLAUSE_END = re.compile(r"[,;:]\s")
_PREDICATE = re.compile(r"\s(?=(?:is|are|was|were|will|has|have|had)\s)")
"""Where a long first sentence with no comma can pause: before its verb ("Seventeen times
twenty three | is three hundred and ninety one.")."""


PREDICATE_AFTER_WORDS = 4
"""A first sentence this long from its verb on is cut before the verb; a shorter one stays
whole ("The timer | is done now." would sound broken for nothing)."""
PREDICATE_STREAMING_WORDS = 2
"""...but while the sentence is still being written, two words from the verb on are enough:
each word more to wait for is another LLM token (~12 ms here) before the first audio."""


class SentenceChunker:
    """Cut streamed LLM text into pieces worth synthesising: sentences, and for the first
    piece a clause of a few words, so that the first audio comes early. Never cuts inside
    '3.5', after 'Dr.', inside '4:30', or after a list number like '2.'. Code in ``` fences
    is not for the ear and is left out."""

    def __init__(self, first_min_words: int = 3, max_chars: int = 220) -> None:
        self.buffer = ""
        self.first = True
        self.first_min_words = first_min_words
        self.max_chars = max_chars
        self._raw = ""
        """Text not yet sorted into speech or code (it may end in part of a fence)."""
        self._in_code = False

    def feed(self, piece: str) -> Iterator[str]:
        self._raw += piece
        self._sort()
        while (cut := self._cut()) is not None:
            chunk, self.buffer = self.buffer[:cut].strip(), self.buffer[cut:]
            if chunk:
                self.first = False
                yield chunk

    def flush(self) -> Iterator[str]:
        if not self._in_code:
            self.buffer += self._raw
        self._raw = ""
        yield from self.feed("")  # an answer that came whole still gets a short first chunk
        chunk, self.buffer = self.buffer.strip(), ""
        if chunk:
            self.first = False
            yield chunk

    def _sort(self) -> None:
        """Move text from ``_raw`` to ``buffer``, dropping fenced code."""
        while True:
            fence = self._raw.find("```")
            if fence < 0:
                # A trailing "`" or "``" may be the start of a fence: wait for the rest.
                keep = len(self._raw) - len(self._raw.rstrip("`"))
                if not self._in_code:
                    self.buffer += self._raw[:len(self._raw) - keep]
                self._raw = self._raw[len(self._raw) - keep:]
                return
            if not self._in_code:
                self.buffer += self._raw[:fence] + " "
            self._raw, self._in_code = self._raw[fence + 3:], not self._in_code

    def _cut(self) -> int | None:
        for m in _SENTENCE_END.finditer(self.buffer):
            before = self.buffer[: m.start() + 1]
            word = re.search(r"([\w.]+)\.$", before)
            if word and (word.group(1).lower() in _ABBREVIATIONS or word.group(1).isdigit()):
                continue
            return m.end()
        if self.first:
            for m in _CLAUSE_END.finditer(self.buffer):
                if len(self.buffer[: m.start()].split()) >= self.first_min_words:
                    return m.end()
            for m in _PREDICATE.finditer(self.buffer):  # words as spoken: "391" is three
                rest = self.buffer[m.end():]
                needed = PREDICATE_AFTER_WORDS if re.search(r"[.!?]", rest) else \
                    PREDICATE_STREAMING_WORDS
                if len(speakable(self.buffer[: m.start()]).split()) >= 2 and \
                        len(speakable(rest).split()) >= needed:
                    return m.end()
        if len(self.buffer) > self.max_chars:
            clauses = list(_CLAUSE_END.finditer(self.buffer))
            if clauses:
                return clauses[-1].end()
            return self.buffer.rfind(" ", 0, self.max_chars) + 1 or None
        return None


# ---------------------------------------------------------------------- synthesis

MAX_PIECE_WORDS = 40
"""Longest run of words given to Piper at once. Its memory grows with the square of a
sentence's length (10 KB without a full stop took 24 GB); 40 words is ~15 s of speech."""


def spoken_pieces(text: str, max_words: int = MAX_PIECE_WORDS) -> Iterator[str]:
    """``text`` in runs of at most ``max_words`` words, for Piper to split into sentences as
    it does: whole sentences together while they fit, a longer sentence cut at its commas,
    and a run of words with neither every ``max_words`` words."""
    run: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        words = sentence.split()
        if len(run) + len(words) > max_words and run:
            yield " ".join(run)
            run = []
        if len(words) <= max_words:
            run += words
            continue
        for clause in re.split(r"(?<=[,;:])\s+", sentence):
            words = clause.split()
            for i in range(0, len(words), max_words):
                yield " ".join(words[i:i + max_words])
    if run:
        yield " ".join(run)

VOCODER_NODE = "/dec/conv_pre/Conv"
"""First node of the VITS vocoder in Piper's exported graphs; its input is the latent."""
FIRST_FRAMES = 20
"""Latent frames (256 samples each at 22.05 kHz: ~0.23 s of sound) in the first piece."""
PIECE_FRAMES = 80
"""Frames in each later piece."""
CONTEXT_FRAMES = 12
"""Latent frames of context decoded on each side of a piece and then dropped: more than the
vocoder's receptive field, so the pieces join into exactly the audio of one whole decode."""
LARGE_IDS = 240
"""Phoneme ids (~25 words) above which a sentence is a large input: onnxruntime's arena gives
back what its runs took (see :mod:`assistant.onnx_sessions`)."""
GAIN = 1.5
"""Fixed output gain. Piper scales each sentence to full scale, which needs the whole sentence
before the first sample; its raw output peaks at 0.35-0.8."""


@dataclass
class Piece:
    """Part of a streamed synthesis."""

    audio: np.ndarray
    """float32 samples (16 kHz unless another rate was asked for)."""
    upto: float
    """Fraction of the text spoken once this piece has played (by phonemes)."""


def split_voice(model: Path, cache: Path | None = None) -> tuple[bytes | str, bytes | str] | None:
    """Cut a Piper (VITS) graph in two at the vocoder's input: the *front* (text encoder,
    durations, flow: ~1/3 of the work) gives the latent, the *vocoder* turns any stretch of
    it into sound. Returns the two models (paths in ``cache`` when given, else bytes), or None
    for a graph without the usual node names (multi-speaker or foreign exports), which is then
    synthesised whole."""
    if cache is not None:
        st = model.stat()
        folder = cache / "derived" / f"{model.stem}-{st.st_size}-{st.st_mtime_ns}"
        front, vocoder = folder / "front.onnx", folder / "vocoder.onnx"
        if front.is_file() and vocoder.is_file():
            return str(front), str(vocoder)
    import onnx
    import onnx.utils

    graph = onnx.load(str(model))
    node = next((n for n in graph.graph.node if n.name == VOCODER_NODE), None)
    inputs = [i.name for i in graph.graph.input]
    if node is None or "sid" in inputs:
        return None
    extractor = onnx.utils.Extractor(graph)
    parts = (extractor.extract_model(inputs, [node.input[0]]).SerializeToString(),
             extractor.extract_model([node.input[0]], ["output"]).SerializeToString())
    if cache is None:
        return parts
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in zip((front, vocoder), parts, strict=True):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # a killed process leaves no half-written model
    except OSError:
        return parts  # a read-only or full cache: keep them in memory
    return str(front), str(vocoder)


class Synthesizer:
    """A Piper voice, loaded once, lazily; output resampled to the loop's 16 kHz.
    :meth:`stream` gives the first ~0.2 s of sound after a third of the work for the sentence
    (the voice is split in two, see :func:`split_voice`); :meth:`synthesize` gives it whole."""

    def __init__(self, voice_path: Path, cache: Path | None = None) -> None:
        self.voice_path = Path(voice_path)
        self.cache = cache
        self._voice = None
        self._vocoder = None
        self._latent = ""

    def load(self) -> None:
        if self._voice is not None:
            return
        from piper import PiperConfig, PiperVoice

        config = Path(str(self.voice_path) + ".json")
        if not self.voice_path.is_file() or not config.is_file():
            from assistant.models import ModelError

            raise ModelError(f"Piper voice {self.voice_path} (and its .onnx.json) not found")
        try:
            split = split_voice(self.voice_path, self.cache)
            sessions = [onnx_sessions.session(part) for part in split or (str(self.voice_path),)]
            voice = PiperVoice(session=sessions[0], config=PiperConfig.from_dict(
                json.loads(config.read_text(encoding="utf-8"))))
        # A file that is no voice fails anywhere in onnx, onnxruntime, protobuf or piper's
        # config, each with its own exception type: all of them mean the same to the user.
        except Exception as exc:
            from assistant.models import ModelError

            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"{self.voice_path} is not a usable Piper voice ({reason[:120]}); "
                             "fetch it again (assistant models fetch) or set tts.voice to a "
                             "voice .onnx with its .onnx.json") from None
        if split is not None:
            self._vocoder = sessions[1]
            self._latent = self._vocoder.get_inputs()[0].name
        self._voice = voice

    @property
    def rate(self) -> int:
        self.load()
        return self._voice.config.sample_rate

    def synthesize(self, text: str) -> tuple[np.ndarray, float]:
        """16 kHz float32 audio of ``text`` (normalised first) and the time it took, in ms."""
        start = time.perf_counter()
        audio = np.concatenate([np.zeros(0, np.float32),
                                *(p.audio for p in self.stream(text, whole=True))])
        return audio, (time.perf_counter() - start) * 1000

    def stream(self, text: str, whole: bool = False, rate: int = RATE) -> Iterator[Piece]:
        """Audio of ``text`` (normalised first) at ``rate`` (the loop's 16 kHz unless told),
        piece by piece: the first is short, so that it is ready soon; the others are decoded
        while it plays. ``whole``: one piece per sentence (least work in all)."""
        self.load()
        sentences = [p for piece in spoken_pieces(speakable(text))
                     for p in self._voice.phonemize(piece) if p]
        total = sum(len(p) for p in sentences)
        resampler = soxr.ResampleStream(self.rate, rate, 1, dtype="float32")
        done = 0
        first = not whole
        for phonemes in sentences:
            for audio, fraction in self._sentence(phonemes, first):
                first = False
                out = resampler.resample_chunk(np.clip(audio * GAIN, -1, 1), last=False)
                yield Piece(out, (done + fraction * len(phonemes)) / total)
            done += len(phonemes)
        if sentences:
            yield Piece(resampler.resample_chunk(np.zeros(0, np.float32), last=True), 1.0)

    def _sentence(self, phonemes: list[str], short_first: bool) -> Iterator[tuple[np.ndarray,
                                                                                  float]]:
        """Audio at the voice's rate of one sentence, in pieces, with the fraction of the
        sentence done after each."""
        voice = self._voice
        ids = voice.phonemes_to_ids(phonemes)
        c = voice.config
        args = {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                "scales": np.array([c.noise_scale, c.length_scale, c.noise_w_scale], np.float32)}
        if c.num_speakers > 1:  # only whole graphs have speakers (see split_voice)
            args["sid"] = np.array([c.default_speaker_id], np.int64)
        options = onnx_sessions.run_options(len(ids) > LARGE_IDS)
        out = voice.session.run(None, args, options)[0]
        if self._vocoder is None:  # a whole graph (see split_voice) gives the sound itself
            yield out.reshape(-1), 1.0
            return
        latent = out
        frames = latent.shape[2]
        start, size = 0, FIRST_FRAMES if short_first else frames
        while start < frames:
            end = start + size
            if frames - end < size // 2:  # no sliver at the end
                end = frames
            lo, hi = max(0, start - CONTEXT_FRAMES), min(frames, end + CONTEXT_FRAMES)
            audio = self._vocoder.run(None, {self._latent: np.ascontiguousarray(
                latent[:, :, lo:hi])}, options)[0].reshape(-1)
            hop = len(audio) // (hi - lo)
            yield audio[(start - lo) * hop:(end - lo) * hop], end / frames
            start, size = end, PIECE_FRAMES
