"""Text to speech: Piper voices, text normalised for speaking, and a streaming sentence
chunker that lets audio start after the first clause of an answer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from num2words import num2words

from assistant.audio import RATE, resample

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
    t = re.sub(r"[*_`#>\[\]{}|]+", " ", text)  # markdown and brackets: not for the ear
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


class SentenceChunker:
    """Cut streamed LLM text into pieces worth synthesising: sentences, and for the first
    piece a clause of a few words, so that the first audio comes early. Never cuts inside
    '3.5', after 'Dr.', inside '4:30', or after a list number like '2.'."""

    def __init__(self, first_min_words: int = 3, max_chars: int = 220) -> None:
        self.buffer = ""
        self.first = True
        self.first_min_words = first_min_words
        self.max_chars = max_chars

    def feed(self, piece: str) -> Iterator[str]:
        self.buffer += piece
        while (cut := self._cut()) is not None:
            chunk, self.buffer = self.buffer[:cut].strip(), self.buffer[cut:]
            if chunk:
                self.first = False
                yield chunk

    def flush(self) -> Iterator[str]:
        yield from self.feed("")  # an answer that came whole still gets a short first chunk
        chunk, self.buffer = self.buffer.strip(), ""
        if chunk:
            self.first = False
            yield chunk

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
                if len(speakable(self.buffer[: m.start()]).split()) >= 2 and \
                        len(speakable(self.buffer[m.end():]).split()) >= 4:
                    return m.end()
        if len(self.buffer) > self.max_chars:
            clauses = list(_CLAUSE_END.finditer(self.buffer))
            if clauses:
                return clauses[-1].end()
            return self.buffer.rfind(" ", 0, self.max_chars) + 1 or None
        return None


# ---------------------------------------------------------------------- synthesis


class Synthesizer:
    """A Piper voice, loaded once, lazily; output resampled to the loop's 16 kHz."""

    def __init__(self, voice_path: Path, threads: int = 0) -> None:
        self.voice_path = Path(voice_path)
        self.threads = threads
        self._voice = None

    def load(self) -> None:
        if self._voice is not None:
            return
        from piper import PiperVoice

        if not self.voice_path.is_file() or not Path(str(self.voice_path) + ".json").is_file():
            from assistant.models import ModelError

            raise ModelError(f"Piper voice {self.voice_path} (and its .onnx.json) not found")
        self._voice = PiperVoice.load(str(self.voice_path))

    def synthesize(self, text: str) -> tuple[np.ndarray, float]:
        """16 kHz float32 audio of ``text`` (normalised first) and the time it took, in ms."""
        self.load()
        start = time.perf_counter()
        spoken = speakable(text)
        parts = [c.audio_float_array for c in self._voice.synthesize(spoken)] if spoken else []
        if not parts:
            return np.zeros(0, np.float32), 0.0
        audio = resample(np.concatenate(parts), self._voice.config.sample_rate, RATE)
        return audio, (time.perf_counter() - start) * 1000
