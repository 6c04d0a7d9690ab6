"""``assistant bench voice``: the voice loop's latencies, barge-in, end of turn, ASR and TTS.

The utterances are commands and questions spoken by the bundled Piper voice and by espeak-ng,
and real human speech (:mod:`tests.fixtures.speech`). Everything runs in one process through
the real loop in ``--fast`` file mode (:mod:`tests.fixtures.loop`), so the numbers are those
of the live timeline.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

from assistant import fastpath
from assistant.bench.common import ROOT, cell, step
from assistant.config import Config
from assistant.speech.asr import StreamingTranscriber
from assistant.speech.audio import RATE, EchoPath
from assistant.speech.turn import Endpointer
from assistant.voice.events import (
    AudioOutPause,
    AudioOutResume,
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    ToolCall,
)
from tests.fixtures.loop import Models, Run, run_loop
from tests.fixtures.speech import Clip, espeak, normalise_words, real_speech_clips, silence, trim


def run(config: Config, args: argparse.Namespace, console: Console) -> int:
    return bench_voice(config, console, runs=args.runs)


COMMANDS = ["what time is it", "set a timer for ten minutes", "what's seventeen times "
            "twenty three", "how many kilometres in twenty six point two miles",
            "what's the date today", "cancel the timer"]


QUESTIONS = ["tell me something about the moon", "why is the sky blue", "tell me a joke",
             "who wrote hamlet"]
"""Open questions: no skill answers them, the LLM does."""


def _voice_to_voice(models: Models, utterances: list[np.ndarray]) -> list[float]:
    """True end of speech in the input → first assistant audio, one utterance per run."""
    out = []
    for speech in utterances:
        lead = 0.6
        run = run_loop(models, np.concatenate([silence(lead), speech, silence(2.5)]))
        starts = run.of(AudioOutStart)
        if starts:
            out.append((starts[0].t - (lead + len(speech) / RATE)) * 1000)
    return out


def _second_opinion(models: Models, texts: list[str],
                    say: Callable[[str], np.ndarray]) -> dict[bool, list[float]]:
    """Voice-to-voice latency of commands that change something, with the beam's second
    decode of their words (``asr.second_opinion``) and without, on the same utterances."""
    utterances = [say(t) for t in texts] + [espeak(t) for t in texts]
    configured = models.recognizer.second_opinion
    try:
        out = {}
        for on in (True, False):
            models.recognizer.second_opinion = on
            out[on] = _voice_to_voice(models, utterances)
        return out
    finally:
        models.recognizer.second_opinion = configured


def _naive(models: Models, utterances: list[np.ndarray], silence_s: float = 0.8) -> list[float]:
    """The sequential pipeline from the same models: wait for silence, transcribe everything
    (faster-whisper's own transcribe), answer fully, synthesise fully, then play."""
    out = []
    for speech in utterances:
        assistant = models.fresh_assistant()
        start = time.perf_counter()
        text = models.recognizer.transcribe_offline(speech).text
        reply = assistant.turn(text).text
        models.synth.synthesize(reply)
        out.append(silence_s * 1000 + (time.perf_counter() - start) * 1000)
    return out


ECHO_PATHS = {
    "loudspeaker (echo gain 0.5, 100 ms late)": EchoPath(0.5, 5),
    "loudspeaker in a room (RT60 0.3 s, overdriven)": EchoPath(0.5, 5, reverb_s=0.3, drive=2.0),
}
"""Loudspeaker setups (``voice.echo = "aec"``) of the barge-in and false barge-in rows."""


def _talk_over(question: np.ndarray, gap: float, speech: np.ndarray) -> tuple[np.ndarray,
                                                                              float]:
    """The question, then ``speech`` ``gap`` seconds after it (over the long answer), as one
    input; and the time the speech starts."""
    audio = np.concatenate([silence(0.5), question, silence(gap), speech, silence(3)])
    return audio, 0.5 + len(question) / RATE + gap


def _talked_over(models: Models, question: np.ndarray, echo: EchoPath | None, runs: int,
                 speech: np.ndarray) -> Iterator[tuple[Run, float, float]]:
    """Ask for a long answer and say ``speech`` over it, landing at ``runs`` points of the
    answer: each run, with the speech's true onset and end. Without echo it is the headphones
    setup, where the README says to turn AEC off."""
    for i in range(runs):
        audio, onset = _talk_over(question, 2.2 + 1.6 * i / runs, speech)
        yield (run_loop(models, audio, echo=echo,
                        voice_overrides=None if echo else {"echo": "off"}),
               onset, onset + len(speech) / RATE)


def _silent_after(run: Run, onset: float) -> float | None:
    """Onset → playback silent, ms: it goes silent at the pause; the barge-in confirms it a
    little later."""
    pauses = [e for e in run.of(AudioOutPause) if e.t >= onset - 0.05]
    return (pauses[0].t - onset) * 1000 if pauses else None


def _barge_in(models: Models, question: np.ndarray, echo: EchoPath | None,
              runs: int) -> tuple[list[float], int, int]:
    """Talk over a long answer ("what time is it"): true speech onset → playback silent.
    Returns the latencies, the runs where the assistant was interrupted, and the runs total."""
    latencies, interrupted = [], 0
    for run, onset, _end in _talked_over(models, question, echo, runs, espeak("what time is it")):
        silent = _silent_after(run, onset)
        if run.of(BargeIn) and silent is not None:
            interrupted += 1
            latencies.append(silent)
    return latencies, interrupted, runs


STORY = "Tell me a long story about a sailor who crossed the ocean."
"""A long answer that the LLM is still writing, and Piper still synthesising, when the user
talks over it."""
INTERRUPTION = "stop, what time is it"


@dataclass
class InterruptAndAsk:
    """The user talks over a long LLM answer with a new request."""

    silent_ms: list[float]
    """Their onset → playback silent."""
    answer_ms: list[float]
    """Their end of speech → the first audio of the answer to the request."""
    resumed: int
    """Times playback resumed while they were speaking."""
    understood: int
    """Runs where the request was answered (by get_time)."""
    runs: int


def _interrupt_and_ask(models: Models, story: np.ndarray, echo: EchoPath | None,
                       runs: int) -> InterruptAndAsk:
    result = InterruptAndAsk([], [], 0, 0, runs)
    for run, onset, end in _talked_over(models, story, echo, runs, espeak(INTERRUPTION)):
        if (silent := _silent_after(run, onset)) is not None:
            result.silent_ms.append(silent)
        result.resumed += sum(onset <= e.t <= end for e in run.of(AudioOutResume))
        if any(c.name == "get_time" and c.t >= onset for c in run.of(ToolCall)):
            result.understood += 1
            answer = [e.t for e in run.of(AudioOutStart) if e.t > onset]
            if answer:
                result.answer_ms.append((answer[0] - end) * 1000)
    return result


STOP_WORDS = ["Stop.", "Be quiet.", "Cancel that.", "Stop talking."]


def _stop_words(models: Models, question: np.ndarray, echo: EchoPath,
                placements: int = 4) -> tuple[int, int]:
    """Each stop phrase (espeak-ng) over a long answer at several points: how many times the
    assistant stopped talking, out of how many."""
    stopped = total = 0
    for phrase in STOP_WORDS:
        words = espeak(phrase)
        for i in range(placements):
            run = run_loop(models, _talk_over(question, 2.2 + 0.4 * i, words)[0], echo=echo)
            stopped += "interrupted" in [e.reason for e in run.of(AudioOutStop)]
            total += 1
    return stopped, total


def _false_barge_ins(models: Models, question: np.ndarray, echo: EchoPath,
                     runs: int) -> tuple[int, int]:
    """The assistant's own answer echoed into the microphone must never interrupt it, nor
    pause it. Returns the barge-ins and the pauses over all runs."""
    barge_ins = pauses = 0
    for _ in range(runs):
        run = run_loop(models, np.concatenate([silence(0.5), question, silence(9)]), echo=echo)
        barge_ins += len(run.of(BargeIn))
        pauses += len(run.of(AudioOutPause))
    return barge_ins, pauses


TURN_REQUESTS = ["what is the speed of light", "tell me a story about a dragon",
                 "how do bees make honey", "why is the ocean salty", "what makes a good friend",
                 "explain how a car engine works", "who painted the mona lisa",
                 "what should i read next", "how do i learn to play the guitar",
                 "why do we dream", "i think i'm catching a cold",
                 "what is the biggest animal on earth"]
"""Open requests for the end-of-turn judge (none of them in its calibration set)."""


@dataclass
class TurnJudged:
    """How the endpointer (rules, then the turn model) ended whole and cut-short requests."""
    whole_early: int
    """Whole requests ended after ``endpoint_finished_s``, not ``endpoint_s``."""
    whole_late: int
    """Whole requests made to wait ``endpoint_patient_s``."""
    cut_early: int
    """Cut-short requests ended early: the user, pausing there, would be cut off."""
    cut_patient: int
    """Cut-short requests given ``endpoint_patient_s``."""
    whole: int
    cut: int
    judge_ms: list[float]


def _end_of_turn(models: Models, say: Callable[[str], np.ndarray]) -> TurnJudged:
    """Each request whole and cut after half and all but one of its words, in two voices,
    transcribed as in the loop's closing silence, then judged."""
    registry = models.assistant.registry
    endpointer = Endpointer(models.config.voice,
                            lambda t: fastpath.match(registry, t) is not None, models.detector)
    c = models.config.voice
    counts = {"whole": [], "cut": []}
    judge_ms = []
    for request in TURN_REQUESTS:
        words = request.split()
        for n in sorted({len(words), (len(words) + 1) // 2, len(words) - 1}):
            for audio in (say(" ".join(words[:n])), espeak(" ".join(words[:n]))):
                stream = StreamingTranscriber(models.recognizer)
                stream.add(np.concatenate([silence(0.3), audio, silence(0.1)]))
                text = stream.final(keep_greedy=endpointer.is_command).text
                start = time.perf_counter()
                wait = endpointer.silence_after(text, judge=True)
                judge_ms.append((time.perf_counter() - start) * 1000)
                counts["whole" if n == len(words) else "cut"].append(wait)
    whole, cut = counts["whole"], counts["cut"]
    return TurnJudged(sum(w <= c.endpoint_finished_s for w in whole),
                      sum(w >= c.endpoint_patient_s for w in whole),
                      sum(w <= c.endpoint_finished_s for w in cut),
                      sum(w >= c.endpoint_patient_s for w in cut), len(whole), len(cut),
                      judge_ms)


def _asr(models: Models, clips: list[Clip]) -> dict[str, float]:
    import jiwer

    refs, streamed, offline = [], [], []
    stream_ms = offline_ms = audio_s = 0.0
    registry = models.assistant.registry
    beams = 0
    for clip in clips:
        stream = StreamingTranscriber(models.recognizer)
        start = time.perf_counter()
        step = int(0.4 * RATE)
        for i in range(0, len(clip.audio), step):
            stream.add(clip.audio[i:i + step])
            stream.partial()
        # as in the loop: a command keeps the greedy decode, other words get the beam
        final = stream.final(keep_greedy=lambda t: fastpath.match(registry, t) is not None)
        beams += True in final.decodes
        streamed.append(normalise_words(final.text))
        stream_ms += (time.perf_counter() - start) * 1000
        offline_result = models.recognizer.transcribe_offline(clip.audio)
        offline.append(normalise_words(offline_result.text))
        offline_ms += offline_result.ms
        refs.append(normalise_words(clip.text))
        audio_s += len(clip.audio) / RATE
    single = [models.recognizer.transcribe(c.audio) for c in clips]
    return {"wer_stream": jiwer.wer(refs, streamed), "wer_offline": jiwer.wer(refs, offline),
            "rtf_stream": stream_ms / 1000 / audio_s, "rtf_offline": offline_ms / 1000 / audio_s,
            "rtf_final": sum(s.ms for s in single) / 1000 / audio_s,
            "clips": len(clips), "audio_s": audio_s, "beams": beams}


def _tts(models: Models) -> tuple[list[float], float]:
    """Time to the first streamed piece of a sentence (what the loop waits for), and the
    real-time factor of whole-sentence synthesis."""
    sentences = ["Timer set for five minutes.", "It's four seventeen p m.",
                 "Seventeen times twenty three is three hundred and ninety one.",
                 "Today is Monday, November the twenty third."]
    firsts, total_audio, total_ms = [], 0.0, 0.0
    for s in sentences * 2:
        start = time.perf_counter()
        next(iter(models.synth.stream(s)))
        firsts.append((time.perf_counter() - start) * 1000)
        audio, ms = models.synth.synthesize(s)
        total_audio += len(audio) / RATE
        total_ms += ms
    return firsts, total_ms / 1000 / total_audio


def _idle_cpu(models: Models, seconds: float = 8.0) -> float:
    """Percent of one core used while listening, in real time, to silence."""
    proc = psutil.Process()
    before = proc.cpu_times()
    start = time.perf_counter()
    run_loop(models, silence(seconds), realtime=True)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / (time.perf_counter() - start)


def _in_a_child(code: str, timeout: float) -> float:
    """The number a fresh Python process prints last, running ``code`` in the checkout."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    return float(proc.stdout.strip().splitlines()[-1])


def _cold_start() -> float:
    """A fresh process: import, load every default model, ready to listen (LLM prefill runs
    in the background and is not counted)."""
    return _in_a_child("import time; t=time.perf_counter(); "
                       "from assistant.config import load_config; "
                       "from assistant.voice.events import EventLog; "
                       "from assistant.voice.app import build_loop; "
                       "loop=build_loop(load_config().config, EventLog()); "
                       "print(time.perf_counter()-t); loop.close()", timeout=300)


def _peak_rss() -> float:
    """MB at the peak of a fresh process that loads every default model and answers a command
    and an open question by voice: what the product needs, without this benchmark's own
    baselines (the naive pipeline, offline beam search) in the figure."""
    # VmHWM, not ru_maxrss: Linux carries the parent's peak over into a child's ru_maxrss.
    return _in_a_child("import re; import numpy as np; from assistant.config import load_config; "
                       "from tests.fixtures.loop import Models, run_loop; "
                       "from tests.fixtures.speech import silence, trim; "
                       "m = Models.load(load_config().config); "
                       "say = lambda t: trim(m.synth.synthesize(t)[0]); "
                       "run_loop(m, np.concatenate([silence(0.5), say('what time is it'), "
                       "silence(3), say('tell me something about the moon'), silence(3)])); "
                       "status = open('/proc/self/status').read(); "
                       "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024)",
                       timeout=600)


def bench_voice(config: Config, console: Console, runs: int = 6) -> int:
    with console.status("loading models..."):
        models = Models.load(config)
    say: Callable[[str], np.ndarray] = lambda text: trim(models.synth.synthesize(text)[0])  # noqa: E731
    latency = {}
    for kind, texts in (("commands", COMMANDS[:runs]), ("questions for the LLM", QUESTIONS)):
        utterances = [say(t) for t in texts] + [espeak(t) for t in texts]
        step(console, f"voice-to-voice, {kind}...")
        latency[kind] = _voice_to_voice(models, utterances), _naive(models, utterances)
    step(console, "commands that act, with and without the second decode...")
    checked = _second_opinion(models, [t for t in COMMANDS[:runs]
                                         if fastpath.acts(models.assistant.registry, t)], say)
    step(console, "barge-in...")
    question = say("how is the system doing")  # a long answer to talk over
    placements = max(runs, 20)  # enough for a p95 to mean something (with 10 it is the max)
    barge, hits, total = _barge_in(models, question, None, placements)
    false_runs = max(3, runs // 2)
    rooms = {room: (_barge_in(models, question, path, placements),
                    _false_barge_ins(models, question, path, false_runs))
             for room, path in ECHO_PATHS.items()}
    stops, stop_runs = _stop_words(models, question, next(iter(ECHO_PATHS.values())))
    step(console, "interrupt and ask...")
    story = say(STORY)
    asked = {"headphones (echo off)": _interrupt_and_ask(models, story, None, runs)}
    asked |= {room: _interrupt_and_ask(models, story, path, runs)
              for room, path in ECHO_PATHS.items()}
    step(console, "end of turn...")
    turns = _end_of_turn(models, say)
    step(console, "speech recognition...")
    asr = _asr(models, real_speech_clips())
    step(console, "speech synthesis...")
    tts_first, tts_rtf = _tts(models)
    step(console, "idle CPU, cold start, peak memory...")
    idle = _idle_cpu(models)
    cold = _cold_start()
    peak_mb = _peak_rss()

    table = Table("measure", "result (median / p95)", "target", title=(
        f"Voice loop, {psutil.cpu_count()} CPU threads, models: {config.asr.model}, "
        f"{config.tts.voice}, {config.llm.model}"))
    for kind, (ours, naive) in latency.items():
        ratio = statistics.median(ours) / statistics.median(naive) if ours and naive else \
            float("nan")
        table.add_row(f"voice-to-voice, {kind}, our loop, ms (n={len(ours)})", cell(ours, 0),
                      "median <= 500")
        table.add_row(f"  naive sequential pipeline, ms (n={len(naive)})", cell(naive, 0), "")
        table.add_row("  ours / naive (medians)", f"{ratio:.2f}", "<= 0.35")
    table.add_row(f"voice-to-voice, commands that act, with the second decode "
                  f"(asr.second_opinion), ms (n={len(checked[True])})", cell(checked[True], 0),
                  "median <= 500")
    table.add_row(f"  the same without it, ms (n={len(checked[False])})", cell(checked[False], 0),
                  "")
    table.add_row(f"barge-in, headphones (echo off): onset → playback stopped, ms "
                  f"({hits}/{total} interrupted)",
                  cell(barge, 0), "p95 <= 150")
    for room, ((latencies, room_hits, room_total), (false_hits, pauses)) in rooms.items():
        table.add_row(f"barge-in, {room}, ms ({room_hits}/{room_total})", cell(latencies, 0),
                      "p95 <= 150")
        table.add_row(f"  false barge-ins from its own echo ({false_runs} answers) / "
                      "playback pauses", f"{false_hits} / {pauses}", "0")
    table.add_row(f"stop words over the assistant ({', '.join(STOP_WORDS)}; loudspeaker): "
                  "stopped", f"{stops}/{stop_runs}", "all")
    for setup, ask in asked.items():
        table.add_row(f"interrupt and ask (\"{INTERRUPTION}\" over a story from the LLM), "
                      f"{setup}: onset → playback silent, ms (n={len(ask.silent_ms)})",
                      cell(ask.silent_ms, 0), "p95 <= 100")
        table.add_row("  end of speech → first audio of the answer, ms "
                      f"(n={len(ask.answer_ms)})", cell(ask.answer_ms, 0), "median <= 600")
        table.add_row("  playback resumed while the user speaks / request understood",
                      f"{ask.resumed} / {ask.understood}/{ask.runs}", "0 / all")
    finished, patient = config.voice.endpoint_finished_s, config.voice.endpoint_patient_s
    table.add_row(f"end of turn, {turns.whole} whole requests: ended after {finished} s / "
                  f"made to wait {patient} s", f"{turns.whole_early} / {turns.whole_late}",
                  "most / 0")
    table.add_row(f"  {turns.cut} cut short: ended after {finished} s (cut off) / "
                  f"waited {patient} s", f"{turns.cut_early} / {turns.cut_patient}", "0 / most")
    table.add_row("  judging the words (turn model), ms", cell(turns.judge_ms, 0), "")
    if asr["clips"]:
        beam = models.recognizer.beam_size
        rel = (asr["wer_stream"] - asr["wer_offline"]) / max(asr["wer_offline"], 1e-9)
        table.add_row(f"ASR WER streaming vs offline ({asr['clips']} real clips, "
                      f"{asr['audio_s']:.0f} s; {asr['beams']} not commands: beam {beam})",
                      f"{asr['wer_stream']:.1%} vs {asr['wer_offline']:.1%} ({rel:+.0%} rel.)",
                      "<= +10% rel.")
        table.add_row("ASR real-time factor: one final decode / streaming total / offline",
                      f"{asr['rtf_final']:.2f} / {asr['rtf_stream']:.2f} / "
                      f"{asr['rtf_offline']:.2f}", "")
    table.add_row("TTS time to the first streamed audio of a sentence, ms", cell(tts_first, 0), "")
    table.add_row("TTS real-time factor", f"{tts_rtf:.2f}", "")
    table.add_row("peak RSS, all default models, a command and a question, MB",
                  f"{peak_mb:.0f}", "<= 1024")
    table.add_row("  this benchmark's process, baselines included, MB",
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", "")
    table.add_row("CPU while listening to silence, % of one core", f"{idle:.1f}", "<= 5")
    table.add_row("cold start to ready, s", f"{cold:.2f}", "<= 3")
    console.print(table)
    return 0
