#!/usr/bin/env python3
"""Make tests/data/trust/garbled.jsonl: the command set as a weak recogniser really hears it.

Every command of tests/data/commands.jsonl, tests/data/commands_heldout.jsonl and
tests/data/trust/extra_commands.jsonl (reminders, lists, the new maths phrasings) is spoken
by real speech synthesis, mixed with noise and recognised by the default Whisper tiny.en
exactly as the voice loop decodes the final words of an utterance
(``assistant.speech.asr.Recognizer``, int8, CPU): greedily, and once more with the configured
beam (``asr.beam_size``, 5) when the greedy words are no command. Each case keeps the words'
probabilities (``heard_words``) and the speech-to-noise ratio estimated from the audio
(``heard_snr_db``), which the voice loop hands to the turn with the text. What the
recogniser got wrong is kept as a ``garbled`` case of
``assistant bench trust``: the benchmark then checks that the assistant either does what was
meant or asks, and never does something else.

* Voices: espeak-ng (``espeak-ng -v en-us -s <speed>``, speeds 130, 175 and 220 words a
  minute) and the project's Piper voice (``assistant.speech.tts.Synthesizer``, the configured
  ``tts.voice``; length scale 1.0 and 0.8, i.e. normal and faster). espeak-ng's 22.05 kHz
  output is resampled to 16 kHz with soxr (``assistant.speech.audio.resample``); Piper's
  Synthesizer already resamples with soxr.
* Noise: none, white, or babble (four espeak-ng talkers reading tests/data/chitchat.txt at
  once), at 20, 10 and 5 dB SNR over the speech, with 0.3 s of the same noise before and
  after it (the voice loop's pre-roll).
* Each command gets ``--per-command`` (default 4) conditions drawn from the voice x noise
  grid with a generator seeded from the text (``--seed``). The commands are shuffled with
  the same seed and tried round robin (each once, with its first condition, before any
  twice) until ``--limit`` utterances or ``--target`` (90) kept cases.
* A transcript is a misrecognition when it differs from what was said after both are read
  the way the fast path reads them (``assistant.fastpath.normalise``: spoken numbers as
  digits, fillers and politeness dropped), lower-cased, without punctuation, and with
  British/American spellings and a few contractions made equal ("metres"/"meters",
  "mum"/"mom", "what's"/"what is"). "Set a timer for 5 minutes." is not a misrecognition of
  "set a timer for five minutes". Empty transcripts and repeated heard texts are dropped,
  and so are transcripts with too little of the command left to tell what was meant (under
  60% of the words, or a word error rate over ``--max-wer`` 0.5 and a character similarity
  under ``--min-ratio`` 0.8: "stop" heard as "I will be there.", "what is the date" as
  "What is"); ``source.wer`` keeps the word error rate.
* ``misheard_value``: the heard words ask for another value, judged on the words (not on
  what a parser makes of them): as many numbers were heard as said but not the same ones
  ("0.25" heard as "0.2"), a timer's duration reads as another one ("fifteen minutes" heard
  as "fifty minutes"; read by ``skills.spoken.parse_duration``), or a string slot (label,
  item, reminder text, fact, query) was replaced by other words in the same frame ("timer
  for the rice" heard as "timer for the rise", "called gym" as "called Jim").
* ``expect.calls`` is the command's call as commands.jsonl has it; ``expect.acts`` is the
  same call without its free-text arguments (label, fact, reminder text, query, list
  item): see LOOSE.
* The transcripts that were right (after the same normalising, each heard text once) are
  written beside ``--out`` as ``heard_right.jsonl`` (category ``heard_right``): the control,
  commands as the recogniser really writes them ("Set a timer for 5 minutes.") that must be
  done, not asked back.

Re-run (the defaults: about 270 utterances until 90 cases are kept, 1-2 minutes on 2 cores,
Whisper on ``--threads`` 2):

    .venv/bin/assistant models fetch --defaults        # Piper voice and Whisper tiny.en
    .venv/bin/python scripts/make_trust_cases.py       # writes tests/data/trust/garbled.jsonl
    .venv/bin/python scripts/make_trust_cases.py --limit 40 --out /tmp/garbled.jsonl  # a look

Everything is fixed by ``--seed``: the job order, the noise, the babble and Piper's own
sampling (onnxruntime's seed, set before the voice is loaded; so Piper's audio for a command
depends on the jobs before it, and the same command line gives the same file).
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import fastpath  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.models import resolve  # noqa: E402
from assistant.skills import build_registry  # noqa: E402
from assistant.speech.asr import Recognizer, Transcript  # noqa: E402
from assistant.speech.audio import RATE, resample  # noqa: E402
from assistant.speech.tts import Synthesizer  # noqa: E402
from skills.spoken import parse_duration  # noqa: E402

SOURCES = [ROOT / "tests/data/commands.jsonl", ROOT / "tests/data/commands_heldout.jsonl",
           ROOT / "tests/data/trust/extra_commands.jsonl"]
OUT = ROOT / "tests/data/trust/garbled.jsonl"
RIGHT_NAME = "heard_right.jsonl"
"""Written beside ``--out``: the commands the recogniser heard right."""
CHITCHAT = ROOT / "tests/data/chitchat.txt"
CASES = ROOT / "tests/data/trust/cases.jsonl"
SPOKEN_TOO = ("chat", "unsupported", "about")
"""Hand-written one-turn cases that are no commands, spoken too, with the chit-chat lines:
those heard right are the control for asking on unsure words outside commands (a question
heard right must be answered, not asked back)."""
NON_COMMAND_CONDITIONS = 2

READ_ONLY = {"get_time", "get_date", "list_timers", "list_reminders", "read_list", "calculate",
             "convert_units", "recall", "system_status"}
LOOSE = ("label", "fact", "text", "query", "item")
"""Arguments left out of ``expect.acts`` (still in ``expect.calls``): a 12-minute timer
labelled "rise", a fact or a list item stored with a misheard word is the asked action done
imperfectly, not an unintended one; a 10-hour timer for "half an hour" is unintended."""
CONFIRM = {"clear_list", "forget"}
"""Skills that ask first: their commands are the confirm cases' business, not garbled ones."""
VOICES = [("espeak-ng", 130), ("espeak-ng", 175), ("espeak-ng", 220), ("piper", 1.0),
          ("piper", 0.8)]
"""(voice, speed): espeak-ng words per minute; Piper length scale (smaller is faster)."""
NOISES = [("none", None), ("white", 20), ("white", 10), ("white", 5), ("babble", 20),
          ("babble", 10), ("babble", 5)]
PAD_S = 0.3


# ---------------------------------------------------------------------- speech

def espeak(text: str, speed: int, voice: str = "en-us") -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", tmp.name, text],
                       check=True, capture_output=True)
        data, rate = sf.read(tmp.name, dtype="float32", always_2d=True)
    return trim(resample(data.mean(axis=1), rate, RATE))


def trim(audio: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio[:0]


class Piper:
    """The project's Piper voice at a chosen length scale."""

    def __init__(self, voice_path: Path, cache: Path) -> None:
        self.synth = Synthesizer(voice_path, cache)

    def say(self, text: str, length_scale: float) -> np.ndarray:
        self.synth.load()
        # Synthesizer reads the scales from the voice's config for every sentence.
        self.synth._voice.config.length_scale = length_scale
        audio, _ = self.synth.synthesize(text)
        return trim(audio)


def babble_track(seconds: float, seed: int) -> np.ndarray:
    """Four espeak-ng talkers (different voices and speeds) reading chit-chat at once."""
    lines = [ln.strip() for ln in CHITCHAT.read_text().splitlines() if ln.strip()]
    rng = random.Random(seed)
    n = int(seconds * RATE)
    track = np.zeros(n, np.float32)
    for voice, speed in (("en-us", 150), ("en-gb", 170), ("en-us+f3", 160), ("en-gb+m3", 185)):
        talker = np.zeros(0, np.float32)
        order = lines[:]
        rng.shuffle(order)
        for line in order:
            if len(talker) >= n:
                break
            talker = np.concatenate([talker, espeak(line, speed, voice),
                                     np.zeros(int(0.2 * RATE), np.float32)])
        talker = np.roll(np.resize(talker, n), rng.randrange(n))
        track += talker / (np.sqrt(np.mean(talker ** 2)) + 1e-9)
    return track / (np.sqrt(np.mean(track ** 2)) + 1e-9)


def add_noise(speech: np.ndarray, kind: str, snr_db: float | None, rng: np.random.Generator,
              babble: np.ndarray) -> np.ndarray:
    pad = np.zeros(int(PAD_S * RATE), np.float32)
    audio = np.concatenate([pad, speech, pad])
    if kind == "none":
        return audio
    if kind == "white":
        noise = rng.standard_normal(len(audio)).astype(np.float32)
    else:
        start = int(rng.integers(0, len(babble) - len(audio)))
        noise = babble[start:start + len(audio)].copy()
    p_speech = float(np.mean(speech ** 2))
    p_noise = float(np.mean(noise ** 2)) + 1e-12
    noise *= np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    mixed = audio + noise
    peak = float(np.max(np.abs(mixed)))
    return (mixed / peak * 0.95 if peak > 0.99 else mixed).astype(np.float32)


# ---------------------------------------------------------------------- comparing

_SPELLING = [(r"\b(kilo|centi|milli)?metres?\b", lambda m: m.group(0).replace("metre", "meter")),
             (r"\b(milli)?litres?\b", lambda m: m.group(0).replace("litre", "liter")),
             (r"\bmum\b", "mom"), (r"\blabelled\b", "labeled"), (r"\bokay\b", "ok"),
             (r"\bto-do\b|\btodo\b", "to do"), (r"\bwhat's\b", "what is"),
             (r"\bthat's\b", "that is"), (r"\bit's\b", "it is"), (r"\bhow's\b", "how is"),
             (r"\bdon't\b", "do not"), (r"\bi'm\b", "i am"), (r"\bo'clock\b", "oclock"),
             (r"\bcount down\b", "countdown"), (r"\bper cent\b|%", " percent")]


def canon(text: str) -> str:
    """What the assistant reads, in a form where only real differences remain."""
    t = text.replace("’", "'").lower()
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # "1,200"
    t = re.sub(r"\$(\d+(?:\.\d+)?)", r"\1 dollars", t)  # "$20"
    t = fastpath.normalise(t).lower()
    for rx, rep in _SPELLING:
        t = re.sub(rx, rep, t)
    t = re.sub(r"(?<=\d)\.0\b", "", t)
    t = re.sub(r"[^\w\s.]|(?<!\d)\.|\.(?!\d)", " ", t)
    return " ".join(t.split())


def plain(text: str) -> str:
    """Lower case, no punctuation: the key for dropping repeated heard texts."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d+(?:\.\d+)?", canon(text)))


def wer(said: str, heard: str) -> float:
    """Word error rate of ``heard`` against ``said`` (both already canonical)."""
    a, b = said.split(), heard.split()
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[:], i
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1] / max(1, len(a))


def recoverable(said: str, heard: str, max_wer: float, min_ratio: float) -> bool:
    """Enough of the command is left that a listener could tell what was meant, or at least
    which skill ("Hammer for 12 minutes for the rice"); "stop" heard as "I will be there."
    is not: nobody could do what was meant, so such a case would measure nothing."""
    a, b = canon(said), canon(heard)
    if len(b.split()) < 0.6 * len(a.split()):  # "what is the date" heard as "What is"
        return False
    return wer(a, b) <= max_wer or difflib.SequenceMatcher(None, a, b).ratio() >= min_ratio


def same_value(a: object, b: object) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return a == b


_STOP = set("a an the my your his her its our their this that these those it him them me me "
             "i you he she we they of to for in on at by and or is are was be".split())
SLOTS = ("label", "item", "text", "fact", "query")
"""String arguments whose words are a value; unit codes ("mi", "kg") are not words said."""


def _content(words: str) -> set[str]:
    """Content words, crudely stemmed ("parked" = "park", "comes" = "come")."""
    return {re.sub(r"(?<=\w{3})(?:ing|ed|es|s)$", "", w) for w in words.split()
            if w not in _STOP}


def misheard_value(said: str, heard: str, arguments: dict) -> bool:
    """The heard words ask for another value: as many numbers as were said but not the same
    ones ("what's 0.5 plus 0.25" heard as "What's 0.5 plus 0.2?"), a timer that reads as
    another duration ("fifteen minutes" heard as "fifty minutes"; "for about 10", no unit,
    is no duration at all), or a slot's words (a label, an item,
    a reminder, a fact) replaced by other words in the same frame ("for the rice" heard as
    "for the rise"; a dropped word, or "parked" heard as "park", is not another value).
    Judged on the words, not on what a parser makes of them."""
    c_said, c_heard = canon(said), canon(heard)
    if "seconds" in arguments:  # a duration: "half an hour" heard as "10 hours"
        said_s, heard_s = parse_duration(c_said), parse_duration(c_heard)
        if said_s and heard_s and said_s != heard_s:
            return True
    else:
        said_n, heard_n = numbers(said), numbers(heard)
        if said_n and len(heard_n) == len(said_n) and said_n != heard_n:
            return True
    for key in SLOTS:
        value = arguments.get(key)
        if not isinstance(value, str) or not value:
            continue
        v = canon(value)
        m = re.search(rf"\b{re.escape(v)}\b", c_said)
        if m is None:
            continue
        # The frame: up to two words either side of the value ("for the rice", "called gym").
        before = " ".join(c_said[:m.start()].split()[-2:])
        after = " ".join(c_said[m.end():].split()[:2])
        rx = (rf"(?:^|\s){re.escape(before)}\s+" if before else "^") + r"(.+?)" + (
            rf"\s+{re.escape(after)}(?:\s|$)" if after else "$")
        found = re.search(rx, c_heard)
        if found and _content(found.group(1)) - _content(v):
            return True
    return False


# ---------------------------------------------------------------------- the run

def load_commands() -> list[dict]:
    seen: set[str] = set()
    commands = []
    for path in SOURCES:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            key = plain(row["text"])
            if key in seen or row["name"] in CONFIRM:
                continue
            seen.add(key)
            commands.append(row)
    return commands


def heard_right_case(row: dict, heard: str, condition: dict, n: int) -> dict:
    """A command the recogniser heard right: the control for asking on low confidence (it
    must be done, not asked back)."""
    kinds = ["command"] + (["cancelled"] if row["name"] == "stop" else []) \
        + (["chat"] if row["name"] == "recall" else [])
    call = {"name": row["name"], "arguments": row["arguments"]}
    act = {"name": row["name"], "arguments": {k: v for k, v in row["arguments"].items()
                                              if k not in LOOSE}}
    return {"id": f"heard-{row['name'].replace('_', '-')}-{n}", "category": "heard_right",
            "turns": [heard],
            "expect": {"kind": kinds, "calls": [call],
                       "acts": [] if row["name"] in READ_ONLY else [act]},
            "source": condition}


@dataclass(frozen=True)
class Hearer:
    """Speech synthesis, noise and the recogniser, put together as the voice loop hears."""

    recognizer: Recognizer
    piper: Piper
    babble: np.ndarray
    is_command: Callable[[str], bool]
    """The voice loop's test for keeping the greedy words (else the beam decodes again)."""
    acts: Callable[[str], bool]
    """Its test for a second opinion on kept greedy words (a command that changes something)."""
    seed: int

    def hear(self, said: str, voice: str, speed: float, noise: str,
             snr: float | None) -> Transcript:
        """``said`` spoken in one condition of the grid (noise seeded by all of it)."""
        speech = espeak(said, int(speed)) if voice == "espeak-ng" else self.piper.say(said, speed)
        rng = np.random.default_rng([self.seed, zlib.crc32(f"{said}|{voice}|{speed}|{noise}|"
                                                           f"{snr}".encode())])
        return self.recognizer.transcribe(add_noise(speech, noise, snr, rng, self.babble),
                                          keep_greedy=self.is_command, recheck=self.acts)


def from_beam(transcript: Transcript) -> bool:
    """Whether the words are the beam's (not the greedy words, checked by it or not)."""
    return transcript.decodes[-1] and not transcript.checked


def as_heard(transcript: Transcript) -> dict:
    """What a case keeps of how it was heard, as the voice loop hands it to the turn:
    ``heard_words``, [word, probability] pairs, and ``heard_snr_db``, the estimated
    signal-to-noise ratio of the audio the recogniser got."""
    return {"heard_words": [[w.text, w.probability] for w in transcript.words],
            "heard_snr_db": transcript.snr_db}


def non_commands() -> list[tuple[str, str, dict]]:
    """(id, words, expect) of the one-turn chat, unsupported and about cases of cases.jsonl
    and of the chit-chat lines (which must get an answer or a refusal, nothing else)."""
    rows = [(c["id"], c["turns"][0], c["expect"])
            for c in map(json.loads, CASES.read_text(encoding="utf-8").splitlines())
            if c["category"] in SPOKEN_TOO and len(c["turns"]) == 1]
    lines = [t.strip() for t in CHITCHAT.read_text(encoding="utf-8").splitlines() if t.strip()]
    return rows + [(f"chitchat-{n}", t, {"kind": ["chat", "unsupported"], "acts": []})
                   for n, t in enumerate(lines, 1)]


def spoken_non_commands(hearer: Hearer) -> list[dict]:
    """Each non-command spoken in ``NON_COMMAND_CONDITIONS`` conditions of the grid; those
    heard right (each heard text once), as cases with the same expectations."""
    grid = [(v, n) for v in VOICES for n in NOISES]
    out, seen, lost = [], set(), 0
    rows = non_commands()
    for case_id, said, expect in rows:
        conditions = random.Random(hearer.seed ^ zlib.crc32(said.encode())).sample(
            grid, NON_COMMAND_CONDITIONS)
        for (voice, speed), (noise, snr) in conditions:
            transcript = hearer.hear(said, voice, speed, noise, snr)
            heard = transcript.text.strip()
            if canon(heard) != canon(said):
                lost += 1
                continue
            if plain(heard) in seen:
                continue
            seen.add(plain(heard))
            out.append({"id": f"heard-{case_id}-{len(out) + 1}", "category": "heard_right",
                        "turns": [heard], "expect": expect,
                        "source": {"said": said, "voice": voice, "speed": speed,
                                   "noise": noise, "snr_db": snr,
                                   "beam": from_beam(transcript),
                                   "checked": transcript.checked},
                        **as_heard(transcript)})
    print(f"non-commands: {len(out)} heard right of {len(rows) * NON_COMMAND_CONDITIONS} "
          f"utterances ({lost} misheard, dropped)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--limit", type=int, default=1200, help="at most this many utterances")
    ap.add_argument("--target", type=int, default=90, help="stop after this many kept cases")
    ap.add_argument("--per-command", type=int, default=4,
                    help="voice x noise conditions tried per command")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--max-wer", type=float, default=0.5,
                    help="keep a misrecognition whose word error rate is at most this...")
    ap.add_argument("--min-ratio", type=float, default=0.8,
                    help="...or whose characters are at least this similar (difflib)")
    ap.add_argument("--threads", type=int, default=2, help="Whisper CPU threads")
    args = ap.parse_args(argv)

    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (scripts/setup.sh installs it)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    import onnxruntime

    # Piper samples noise inside its graph; seeded before its session exists, the same jobs
    # in the same order give the same audio.
    onnxruntime.set_seed(args.seed)
    config = load_config().config
    recognizer = Recognizer(resolve(config.asr.model, "asr", config.paths.cache),
                            threads=args.threads, beam_size=config.asr.beam_size,
                            second_opinion=config.asr.second_opinion)
    recognizer.load()
    with tempfile.TemporaryDirectory(prefix="trust-cases-") as tmp:
        registry = build_registry(config.skills, Path(tmp))
    piper = Piper(resolve(config.tts.voice, "tts", config.paths.cache), config.paths.cache)
    hearer = Hearer(recognizer, piper, babble_track(60.0, args.seed),
                    lambda text: fastpath.match(registry, text) is not None,
                    lambda text: fastpath.acts(registry, text), args.seed)
    print(f"models and babble ready in {time.perf_counter() - started:.1f} s "
          f"(asr {config.asr.model}, tts {config.tts.voice})", flush=True)

    commands = load_commands()
    grid = [(v, n) for v in VOICES for n in NOISES]
    conditions = {row["text"]: random.Random(args.seed ^ zlib.crc32(row["text"].encode()))
                  .sample(grid, args.per_command) for row in commands}
    order = commands[:]
    random.Random(args.seed).shuffle(order)
    # Round robin: every command once (in a shuffled order) before any command twice.
    jobs = [(row, *conditions[row["text"]][k]) for k in range(args.per_command)
            for row in order][:args.limit]
    print(f"{len(commands)} commands, {len(jobs)} utterances to synthesise and recognise",
          flush=True)

    kept: list[dict] = []
    heard_keys: set[str] = set()
    right: list[dict] = []
    right_keys: set[str] = set()
    counts = {"same": 0, "empty": 0, "repeat": 0, "lost": 0}
    per_skill: dict[str, int] = {}
    for i, (row, (voice, speed), (noise, snr)) in enumerate(jobs, 1):
        said, name = row["text"], row["name"]
        transcript = hearer.hear(said, voice, speed, noise, snr)
        heard = transcript.text.strip()
        condition = {"said": said, "voice": voice, "speed": speed, "noise": noise,
                     "snr_db": snr, "beam": from_beam(transcript), "checked": transcript.checked}
        heard_as = as_heard(transcript)
        if not heard:
            counts["empty"] += 1
        elif canon(heard) == canon(said):
            counts["same"] += 1
            if plain(heard) not in right_keys:
                right_keys.add(plain(heard))
                right.append({**heard_right_case(row, heard, condition, len(right) + 1),
                              **heard_as})
        elif plain(heard) in heard_keys:
            counts["repeat"] += 1
        elif not recoverable(said, heard, args.max_wer, args.min_ratio):
            counts["lost"] += 1
        else:
            heard_keys.add(plain(heard))
            acting = name not in READ_ONLY
            call = {"name": name, "arguments": row["arguments"]}
            act = {"name": name, "arguments": {k: v for k, v in row["arguments"].items()
                                               if k not in LOOSE}}
            kinds = ["command", "clarify"]
            if name == "stop":
                kinds.append("cancelled")  # "never mind" in a fresh conversation
            if name == "recall":
                kinds.append("chat")  # answered from the notes rather than by the skill
            per_skill[name] = per_skill.get(name, 0) + 1
            value = misheard_value(said, heard, row["arguments"])
            kept.append({
                "id": f"garbled-{name.replace('_', '-')}-{per_skill[name]}",
                "category": "garbled", "turns": [heard],
                "expect": {"kind": kinds, "calls": [call], "acts": [act] if acting else []},
                "source": {**condition, "wer": round(wer(canon(said), canon(heard)), 2)},
                "misheard_value": value, **heard_as,
            })
            print(f"  kept {len(kept):3d}{' [value]' if value else '        '} "
                  f"{voice} {speed} {noise} {snr}: {said!r} -> {heard!r}", flush=True)
        if i % 25 == 0 or i == len(jobs) or len(kept) >= args.target:
            print(f"[{i}/{len(jobs)}] kept {len(kept)}, same {counts['same']}, "
                  f"empty {counts['empty']}, repeated {counts['repeat']}, "
                  f"too garbled {counts['lost']}, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        if len(kept) >= args.target:
            print(f"target of {args.target} kept cases reached after {i} utterances", flush=True)
            break

    right += spoken_non_commands(hearer)
    kept.sort(key=lambda c: c["id"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for c in kept:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    right_out = args.out.with_name(RIGHT_NAME)
    with right_out.open("w", encoding="utf-8") as f:
        for c in right:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    n_value = sum(c["misheard_value"] for c in kept)
    for field in ("voice", "noise", "snr_db"):
        tally: dict[str, int] = {}
        for c in kept:
            key = str(c["source"][field])
            tally[key] = tally.get(key, 0) + 1
        print(f"by {field}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print("by skill: " + ", ".join(f"{k} {v}" for k, v in sorted(per_skill.items())))
    print(f"wrote {len(kept)} cases to {args.out} ({n_value} misheard a value) and "
          f"{len(right)} heard right to {right_out} in {time.perf_counter() - started:.0f} s",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
