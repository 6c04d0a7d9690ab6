"""The voice loop end to end on audio files, through the real models (Whisper tiny.en, Piper
joe-medium, SmolLM2), in --fast file mode: the same timeline as a live run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from assistant.config import Config
from assistant.speech.audio import RATE, EchoPath, load_audio, save_wav
from assistant.speech.words import TYPED, Heard, norm_word
from assistant.voice.events import (
    AudioOutPause,
    AudioOutResume,
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    Partial,
    Retrieval,
    Speculation,
    SpeculationDropped,
    ToolCall,
    Transcript,
    TTSChunk,
    TurnEnd,
    Wake,
)
from tests.fixtures.loop import Models, run_loop
from tests.fixtures.speech import espeak, normalise_words, real_speech_clips, silence, trim

pytestmark = pytest.mark.slow
ECHO = (0.5, 5)  # a loudspeaker heard by the microphone at half level, 100 ms late
ROOM = EchoPath(0.5, 5, reverb_s=0.3, drive=2.0)  # ...in a reverberant room, overdriven
HEADPHONES = {"echo": "off"}  # no echo path, as the README advises


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    from assistant.config import load_config

    data = tmp_path_factory.mktemp("data")
    config = load_config(overrides={"paths.data_dir": str(data)}, env={}).config
    return Models.load(config)


def piper(models: Models, text: str) -> np.ndarray:
    return trim(models.synth.synthesize(text)[0])


def said(models: Models, output: np.ndarray) -> str:
    """What the assistant said, transcribed back from its output audio."""
    return normalise_words(models.recognizer.transcribe_offline(output).text)


def test_spoken_command_gets_the_right_tool_and_a_spoken_answer(models: Models) -> None:
    speech = piper(models, "What's seventeen times twenty three?")
    run = run_loop(models, np.concatenate([silence(0.5), speech, silence(3)]))
    calls = run.of(ToolCall)
    assert [c.name for c in calls] == ["calculate"]
    assert calls[0].arguments == {"expression": "17*23"}
    assert "three hundred and ninety one" in said(models, run.output)
    types = [e.type for e in sorted(run.events.events, key=lambda e: e.t)]
    for kind in ("speech_start", "speech_end", "transcript", "tool_call", "tts_chunk",
                 "audio_out_start", "turn_end", "audio_out_stop"):
        assert kind in types
    assert types.index("speech_start") < types.index("transcript") < types.index(
        "audio_out_start")
    latency = run.of(TurnEnd)[0].latency_ms
    assert set(latency) == {"endpointing", "asr_final", "llm_ttft", "first_chunk",
                            "tts_first_audio", "voice_to_voice"}
    assert latency["voice_to_voice"] > 0


def test_output_lines_up_with_the_input(models: Models) -> None:
    speech = piper(models, "What time is it?")
    audio = np.concatenate([silence(0.5), speech, silence(3)])
    run = run_loop(models, audio)
    start = run.of(AudioOutStart)[0].t
    end_of_speech = 0.5 + len(speech) / RATE
    loud = np.flatnonzero(np.abs(run.output) > 0.02) / RATE
    assert loud.size and loud[0] > end_of_speech  # silence while the user speaks
    assert abs(loud[0] - start) < 0.1  # the answer sits where the event says it starts


def test_a_second_voice_espeak(models: Models) -> None:
    speech = espeak("set a timer for ten minutes")
    run = run_loop(models, np.concatenate([silence(0.5), speech, silence(3)]))
    calls = run.of(ToolCall)
    assert calls and calls[0].name == "set_timer"
    assert calls[0].arguments["seconds"] == 600
    assert "ten minutes" in said(models, run.output)


def test_a_prompt_longer_than_the_words_is_fine(models: Models) -> None:
    # CTranslate2 counts the prompt in its length limit; exceeding it crashed the process.
    word = piper(models, "Stop.")
    prompt = " ".join(["Stop talking. Be quiet. Cancel that. Never mind."] * 12)
    assert "stop" in models.recognizer.transcribe(word, prompt=prompt).text.lower()


def test_real_human_speech_is_recognised(models: Models) -> None:
    import jiwer

    clips = real_speech_clips()
    assert clips, "pocketsphinx-testdata is missing (scripts/setup.sh installs it)"
    go = next(c for c in clips if c.text == "go forward ten meters")
    assert normalise_words(models.recognizer.transcribe(go.audio).text) == \
        "go forward ten meters"
    refs = [normalise_words(c.text) for c in clips]
    hyps = [normalise_words(models.recognizer.transcribe(c.audio).text) for c in clips]
    assert jiwer.wer(refs, hyps) < 0.25


@pytest.mark.parametrize(("is_command", "decodes"), [(True, (False,)), (False, (False, True))])
def test_a_command_keeps_the_greedy_decode_other_words_get_the_beam(
        models: Models, is_command: bool, decodes: tuple[bool, ...]) -> None:
    recognizer = models.recognizer
    assert recognizer.beam_size > 1
    audio = piper(models, "Tell me something about the moon.")
    heard = recognizer.transcribe(audio, keep_greedy=lambda _t: is_command)
    assert heard.decodes == decodes  # one encoding either way
    assert "moon" in heard.text.lower()


def test_a_command_that_acts_gets_a_second_opinion_from_the_beam(models: Models) -> None:
    audio = piper(models, "Set a timer for five minutes.")
    greedy = models.recognizer.transcribe(audio, keep_greedy=lambda _t: True)
    checked = models.recognizer.transcribe(audio, keep_greedy=lambda _t: True,
                                           recheck=lambda _t: True)
    assert (checked.decodes, checked.checked) == ((False, True), True)
    assert checked.text == greedy.text  # the greedy words stay; the beam only checks them
    # Said clearly, the two decodes agree: no word is disputed.
    assert [w.probability for w in checked.words] == [w.probability for w in greedy.words]


@pytest.mark.parametrize("beam", [False, True])
def test_every_word_comes_with_its_probability(models: Models, beam: bool) -> None:
    # Greedy: from each step's logits; beam: the text scored again by CTranslate2's align.
    heard = models.recognizer.transcribe(espeak("add bread and butter to the shopping list"),
                                         beam=beam)
    assert [w.text for w in heard.words] == heard.text.split()
    assert all(0.0 < w.probability <= 1.0 for w in heard.words)
    assert max(w.probability for w in heard.words) > 0.8  # the sure words are sure
    least = min(heard.words, key=lambda w: w.probability)
    assert norm_word(least.text) in heard.unsure(least.probability + 1e-3)
    assert heard.unsure(0.0) == frozenset()


def test_a_transcript_says_how_noisy_the_room_was(models: Models) -> None:
    # The utterance as the loop keeps it: the pre-roll, the words, the closing silence.
    speech = espeak("set a timer for two minutes")
    pad = silence(0.3)
    clean = np.concatenate([pad, speech, pad])
    noise = np.random.default_rng(5).standard_normal(len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(speech ** 2) / np.mean(noise ** 2))
    quiet = models.recognizer.transcribe(clean + noise * 10 ** (-30 / 20))
    noisy = models.recognizer.transcribe(clean + noise * 10 ** (-5 / 20))
    assert quiet.snr_db is not None and quiet.snr_db > 20
    assert noisy.snr_db is not None and noisy.snr_db < Config().asr.noisy_below_db
    assert noisy.heard == Heard(noisy.words, noisy.snr_db)


def test_a_word_is_as_sure_as_its_least_sure_piece_bar_punctuation(models: Models) -> None:
    # Whisper's own tokens: a word split in pieces, a comma and a full stop.
    r = models.recognizer
    ids = r._tokenizer.encode(" Add red and mugger, please.")
    pieces = [r._tokenizer.decode([t]) for t in ids]
    probs = [0.01 if p in (",", ".") else 0.3 if p == "ger" else 0.9 for p in pieces]
    assert "ger" in pieces  # " mug" + "ger"
    words = r._words(ids, probs)
    assert [(w.text, w.probability) for w in words] == [
        ("Add", 0.9), ("red", 0.9), ("and", 0.9), ("mugger,", 0.3), ("please.", 0.9)]


def _question_then(models: Models, interruption: np.ndarray, gap: float = 2.4):
    question = piper(models, "How is the system doing?")
    audio = np.concatenate([silence(0.5), question, silence(gap), interruption, silence(3)])
    return audio, 0.5 + len(question) / RATE + gap


@pytest.mark.parametrize("setup", ["loudspeaker", "headphones"])
def test_barge_in_stops_playback_and_answers_the_new_question(models: Models,
                                                              setup: str) -> None:
    audio, onset = _question_then(models, espeak("what time is it"))
    run = run_loop(models, audio, echo=ECHO) if setup == "loudspeaker" else \
        run_loop(models, audio, voice_overrides=HEADPHONES)
    assert len(run.of(BargeIn)) == 1
    pause = [e for e in run.of(AudioOutPause) if e.t >= onset - 0.05]
    assert pause, "playback was not paused when the user spoke"
    stops = [e.reason for e in run.of(AudioOutStop)]
    assert stops == ["interrupted", "done"]
    calls = [c.name for c in run.of(ToolCall)]
    assert calls[0] == "system_status"
    if setup == "headphones":  # over loudspeaker echo the words may come out damaged
        assert calls == ["system_status", "get_time"]
    # Only what was heard stays in the history, marked as interrupted.
    first_answer = run.assistant.history[1]["content"]
    assert first_answer.endswith("[interrupted]")
    assert "disk free" not in first_answer
    # The output is silent between the pause and the new answer.
    second = run.of(AudioOutStart)[1].t
    quiet = run.output[int((pause[0].t + 0.05) * RATE):int(second * RATE)]
    assert quiet.size and np.abs(quiet).max() < 0.01


@pytest.mark.parametrize("echo", [ECHO, ROOM], ids=["loudspeaker", "room"])
def test_playback_never_resumes_while_the_user_speaks(models: Models, echo) -> None:
    # "Stop, ... what time is it", with a pause: over the assistant's voice the first word
    # may end an utterance of its own and be dismissed; the answer must still not come back
    # over the rest of the request.
    speech = np.concatenate([espeak("stop"), silence(0.35), espeak("what time is it")])
    audio, onset = _question_then(models, speech)
    end = onset + len(speech) / RATE
    run = run_loop(models, audio, echo=echo)
    assert [e.t for e in run.of(AudioOutResume) if onset <= e.t <= end + 0.1] == []
    pause = next(e.t for e in run.of(AudioOutPause) if e.t >= onset - 0.05)
    after = [e.t for e in run.of(AudioOutStart) if e.t > onset]
    stop = after[0] if after else len(run.output) / RATE
    quiet = run.output[int((pause + 0.05) * RATE):int(stop * RATE)]
    assert quiet.size and np.abs(quiet).max() < 0.01  # silent until the next answer, if any
    if echo == ECHO:  # through the room the words may come out too damaged to be understood
        calls = [c.name for c in run.of(ToolCall) if c.t > onset]
        assert [name for name in calls if name != "stop"] == ["get_time"]  # "stop" alone, or not
        assert after and after[0] - end < 1.0


def test_own_echo_does_not_interrupt(models: Models) -> None:
    question = piper(models, "How is the system doing?")
    run = run_loop(models, np.concatenate([silence(0.5), question, silence(9)]), echo=ECHO)
    assert run.of(BargeIn) == []
    assert run.of(AudioOutPause) == []  # not even a stutter
    assert [e.reason for e in run.of(AudioOutStop)] == ["done"]
    assert len(run.of(Transcript)) == 1


def test_in_a_reverberant_room_its_echo_does_not_interrupt_but_the_user_does(
        models: Models) -> None:
    # AEC leaves more of a reverberant, distorted echo; the gate follows what it leaves.
    question = piper(models, "How is the system doing?")
    run = run_loop(models, np.concatenate([silence(0.5), question, silence(9)]), echo=ROOM)
    assert run.of(BargeIn) == []
    assert [e.reason for e in run.of(AudioOutStop)] == ["done"]
    audio, _ = _question_then(models, espeak("what time is it"))
    run = run_loop(models, audio, echo=ROOM)
    assert len(run.of(BargeIn)) == 1
    # The room damages the words more than a clean echo path does: what follows the
    # interruption may be an answer (which then plays to its end) or nothing (heard as
    # "stop", or an empty reply); seen once in a full-suite run.
    stops = [e.reason for e in run.of(AudioOutStop)]
    assert stops in (["interrupted", "done"], ["interrupted"])


def test_a_read_only_command_is_answered_during_the_closing_silence(models: Models) -> None:
    run = run_loop(models, np.concatenate([silence(0.5), piper(models, "What time is it?"),
                                           silence(3)]))
    # A pause inside the words ("What | time") may start one early; the user going on
    # drops it. The last one is the whole request, and it is the answer given.
    speculations = [e.text for e in run.of(Speculation)]
    assert speculations[-1] == "What time is it?"
    assert len(run.of(SpeculationDropped)) == len(speculations) - 1
    (end,) = run.of(TurnEnd)
    assert end.speculative is True
    # Its audio waited for the endpoint: it starts after the transcript is final.
    assert run.of(AudioOutStart)[0].t >= run.of(Transcript)[0].t
    assert [m["role"] for m in run.assistant.history] == ["user", "assistant"]


@pytest.mark.parametrize(("first", "pause", "rest", "check", "answer"), [
    ("What's seventeen times twenty three", 0.2, "plus one?", "plus", "392"),  # a command
    ("Tell me about the moon", 0.2, "and the sun.", "sun", ""),  # an LLM answer, cancelled
])
def test_a_speculation_is_dropped_when_the_user_goes_on(models: Models, first: str,
                                                        pause: float, rest: str,
                                                        check: str, answer: str) -> None:
    run = run_loop(models, np.concatenate([silence(0.5), piper(models, first), silence(pause),
                                           piper(models, rest), silence(4)]))
    assert len(run.of(SpeculationDropped)) >= 1
    (transcript,) = run.of(Transcript)
    assert check in transcript.text.lower()
    assert len(run.of(AudioOutStart)) == 1  # only the answer to the whole request
    # The dropped answer's calculation ran, but it is not in the log: the only call is
    # the one whose answer was given.
    assert len(run.of(ToolCall)) == (1 if answer else 0)
    assert [m["role"] for m in run.assistant.history] == ["user", "assistant"]
    assert check in run.assistant.history[0]["content"].lower()
    assert answer in run.assistant.history[1]["content"]


def test_a_finished_question_ends_sooner_than_an_open_sentence(models: Models) -> None:
    run = run_loop(models, np.concatenate([silence(0.5), piper(models, "Why is the sky blue?"),
                                           silence(3)]))
    (end,) = run.of(TurnEnd)
    assert end.path == "llm"
    assert end.latency_ms["endpointing"] < 1000 * models.config.voice.endpoint_s


def test_the_llm_prompt_is_prefilled_while_the_user_speaks(models: Models,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.agent import Assistant
    from assistant.understand.classify import classify

    prefilled: list[str] = []
    prefill = Assistant.prefill

    def recorded(self: Assistant, words: str) -> None:  # the real prefill, recorded
        prefilled.append(words)
        prefill(self, words)

    asked: list[tuple[str, bool, str]] = []  # why not, if it never prefills
    speculable = Assistant.speculable

    def judged(self: Assistant, words: str, heard: Heard = TYPED) -> bool:
        verdict = speculable(self, words, heard)
        asked.append((words, verdict, classify(self.registry, words).kind))
        return verdict

    monkeypatch.setattr(Assistant, "prefill", recorded)
    monkeypatch.setattr(Assistant, "speculable", judged)
    run = run_loop(models, np.concatenate([
        silence(0.5), piper(models, "Tell me something interesting about the ocean and the "
                                    "animals that live in it."), silence(3)]))
    assert prefilled, f"no prefill while the user spoke; speculable: {asked}; partials: " \
        f"{[e.text for e in run.of(Partial)]}"
    partials = {e.text for e in run.of(Partial)}
    assert set(prefilled) <= partials  # the words so far, as the live transcript had them
    (end,) = run.of(TurnEnd)
    assert end.path == "llm"


def test_a_pause_after_an_unfinished_phrase_is_waited_out(models: Models) -> None:
    # "between" is in no rule: the turn model judges the phrase unfinished.
    run = run_loop(models, np.concatenate([
        silence(0.5), piper(models, "What's the difference between"), silence(0.7),
        piper(models, "a frog and a toad?"), silence(3)]))
    (transcript,) = run.of(Transcript)  # one utterance: both halves
    words = transcript.text.lower().split()
    assert "difference" in " ".join(words) and len(words) >= 6  # tiny.en spells the rest freely
    assert len(run.of(AudioOutStart)) == 1


def test_wake_phrase_by_voice(models: Models) -> None:
    wake = {"wake_phrase": "hey computer"}
    # Without it, nothing is done; with it (as Piper says it and tiny.en hears it), the
    # request is answered; the wake phrase alone makes the next utterance count.
    run = run_loop(models, np.concatenate([silence(0.5), piper(models, "What time is it?"),
                                           silence(2)]), voice_overrides=wake)
    assert [e.ignored for e in run.of(Transcript)] == ["no wake phrase"]
    assert run.of(ToolCall) == []
    run = run_loop(models, np.concatenate([silence(0.5), piper(
        models, "Hey computer, what time is it?"), silence(3)]), voice_overrides=wake)
    assert [c.name for c in run.of(ToolCall)] == ["get_time"]
    run = run_loop(models, np.concatenate([
        silence(0.5), piper(models, "Hey computer."), silence(1.5),
        piper(models, "Set a timer for ten minutes."), silence(3)]), voice_overrides=wake)
    assert len(run.of(Wake)) == 1
    assert [c.name for c in run.of(ToolCall)] == ["set_timer"]


def test_a_short_noise_pauses_then_resumes(models: Models) -> None:
    burst = np.random.default_rng(3).normal(0, 0.3, int(0.15 * RATE)).astype(np.float32)
    audio, onset = _question_then(models, burst, gap=2.6)
    run = run_loop(models, audio, echo=ECHO)
    assert run.of(BargeIn) == []
    assert [e.t >= onset - 0.05 for e in run.of(AudioOutPause)] == [True]
    assert len(run.of(AudioOutResume)) == 1
    assert [e.reason for e in run.of(AudioOutStop)] == ["done"]
    assert [c.name for c in run.of(ToolCall)] == ["system_status"]


@pytest.mark.parametrize("kind", ["silence", "noise"])
def test_silence_and_noise_give_no_turn(models: Models, kind: str) -> None:
    rng = np.random.default_rng(1)
    audio = silence(8) if kind == "silence" else rng.normal(0, 0.03, 8 * RATE).astype(
        np.float32)
    run = run_loop(models, audio)
    assert run.of(Transcript) == []
    assert run.of(AudioOutStart) == []


def test_ten_minutes_of_input_keeps_memory_flat(models: Models) -> None:
    rng = np.random.default_rng(2)
    command = piper(models, "What time is it?")
    minute = rng.normal(0, 0.002, 60 * RATE).astype(np.float32)
    minute[20 * RATE:20 * RATE + len(command)] += command
    proc = psutil.Process()
    run_loop(models, np.tile(minute, 2))  # warm up allocators and caches
    before = proc.memory_info().rss
    run = run_loop(models, np.tile(minute, 10))
    after = proc.memory_info().rss
    assert len(run.of(ToolCall)) == 10
    assert (after - before) / 2**20 < 60


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_voice_cli_with_any_audio_format(models: Models, tmp_path: Path,
                                         cli_env: dict[str, str]) -> None:
    speech = piper(models, "What's the date today?")
    audio = np.concatenate([silence(0.5), speech, silence(3)])
    # 44.1 kHz stereo 24-bit: mixed down and resampled by the loop.
    stereo = np.stack([audio, audio], axis=1)
    from assistant.speech.audio import resample

    src = tmp_path / "in.wav"
    sf.write(src, resample(stereo[:, 0], RATE, 44100)[:, None].repeat(2, axis=1), 44100,
             subtype="PCM_24")
    out, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    proc = _cli("voice", "--input", str(src), "--output", str(out), "--events", str(events),
                "--fast", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert all({"t", "type"} <= set(e) for e in lines)
    assert [e["t"] for e in lines] == sorted(e["t"] for e in lines)
    assert any(e["type"] == "tool_call" and e["name"] == "get_date" for e in lines)
    written = load_audio(out)
    assert abs(len(written) - len(load_audio(src))) < 3 * RATE  # same timeline (+ tail)


@pytest.mark.parametrize("content", [b"", b"this is not audio at all", b"RIFF\x00\x00"])
def test_bad_audio_input_is_one_clear_line(tmp_path: Path, cli_env: dict[str, str],
                                           content: bytes) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    proc = _cli("voice", "--input", str(bad), "--fast", env=cli_env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "bad.wav" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_audio_device_says_so(cli_env: dict[str, str]) -> None:
    # A microphone that is not there, so that the test holds on a machine with a sound card.
    proc = _cli("voice", env={**cli_env, "ASSISTANT_VOICE__INPUT_DEVICE": "no such microphone"})
    assert proc.returncode == 3
    assert "assistant chat" in proc.stderr and "Traceback" not in proc.stderr


def test_transcribe_and_say_commands(tmp_path: Path, cli_env: dict[str, str]) -> None:
    heard = []
    for text in ("The meeting is at 14:30.", "The shop is 5 km away."):
        wav = tmp_path / "say.wav"
        proc = _cli("say", text, "-o", str(wav), env=cli_env)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(_cli("transcribe", str(wav), "--json", env=cli_env).stdout)
        assert out["duration_s"] > 1
        heard.append(out["text"].lower())
    # Spoken as "two thirty p m"; Whisper writes it "2:30 p.m.", "2.30pm" or "230 PM".
    assert re.search(r"\b(?:2[:.]?30|two thirty)(?!\d)", heard[0]), heard[0]
    assert re.search(r"\b(?:5|five)\s*(?:km|kilomet)", heard[1]), heard[1]


def test_save_wav_roundtrip(tmp_path: Path) -> None:
    tone = np.sin(np.arange(RATE) * 2 * np.pi * 440 / RATE).astype(np.float32) * 0.5
    save_wav(tmp_path / "t.wav", tone)
    assert np.allclose(load_audio(tmp_path / "t.wav"), tone, atol=1e-3)


def test_config_type(models: Models) -> None:
    assert isinstance(models.config, Config)


def test_remember_and_recall_by_voice(models: Models) -> None:
    remember = piper(models, "Remember that my bike is in the garage.")
    recall = piper(models, "What did I tell you about my bike?")
    # The second question comes after the first answer has been spoken (no barge-in).
    run = run_loop(models, np.concatenate([silence(0.5), remember, silence(6), recall,
                                           silence(4)]))
    calls = run.of(ToolCall)
    assert [c.name for c in calls] == ["remember", "recall"], run.of(Transcript)
    assert "garage" in calls[0].arguments["fact"]
    assert "garage" in calls[1].result
    assert "garage" in said(models, run.output)


def test_document_question_by_voice_logs_the_chunks_used(models: Models) -> None:
    from assistant.memory.ingest import ingest

    pdf = Path(__file__).resolve().parent.parent / "data" / "memory" / "sample.pdf"
    report = ingest(models.assistant.memory(), [pdf])
    assert report.added or report.unchanged
    question = piper(models, "How often should I grease the wheel bearings?")
    run = run_loop(models, np.concatenate([silence(0.5), question, silence(6)]))
    found = run.of(Retrieval)
    assert found and found[0].ids, run.of(Transcript)
    assert found[0].sources[0].startswith("your note on sample")
    assert "from your note on sample" in said(models, run.output)


def test_by_voice_a_garbled_timer_is_asked_about_and_a_correction_amends_it(
        models: Models) -> None:
    """The trust rules through the real loop: the issue's misheard "remind me in one hour
    with a timer" gets a question, not a guessed timer; "no, I meant ten minutes" changes the
    five-minute timer instead of adding one."""
    run = run_loop(models, np.concatenate([
        silence(0.5), espeak("remind me in one hour with a timer"), silence(4),
        espeak("set a timer for five minutes"), silence(4),
        espeak("no, I meant ten minutes"), silence(4)]))
    chunks = " ".join(c.text for c in run.of(TTSChunk))
    assert "how long?" in chunks
    calls = [(c.name, c.arguments.get("seconds")) for c in run.of(ToolCall)]
    assert calls == [("set_timer", 300), ("set_timer", 600)]
    assert "Changed it." in chunks
    timers = run.assistant.turn("what timers do I have")
    assert "10 minutes" in timers.text or "9 minutes" in timers.text
    assert "5 minutes" not in timers.text and "4 minutes" not in timers.text


def test_an_mcp_servers_tools_by_voice_with_the_trust_rules(models: Models,
                                                            tmp_path: Path) -> None:
    """Another program's tools (the MCP fixture server, over stdio) by voice: a trusted
    read-only tool answers at once; a destructive one is asked about first and runs only
    after a spoken "yes"."""
    from assistant.agent import Assistant
    from assistant.config import McpConfig

    log = tmp_path / "ran.log"
    fixture = Path(__file__).parents[1] / "fixtures" / "mcp_server.py"
    config = models.config.model_copy(deep=True)
    config.mcp = McpConfig.model_validate({"servers": {"fx": {
        "command": sys.executable, "args": [str(fixture)], "trust": "trusted",
        "env": {"MCP_FIXTURE_LOG": str(log)}, "tools": {
            "turn_on": {"patterns": [r"^turn on (?:the )?(?P<name>.+)$"]},
            "room_temperature": {"patterns": [r"\bhow warm is the (?P<room>\w+)\b"],
                                 "say": "The {room} is at {celsius} degrees."}}}}})
    assistant = Assistant(config, engine=models.assistant.engine, announce=lambda _m: None,
                          memory=models.assistant.memory())
    run = run_loop(models, np.concatenate([
        silence(0.5), espeak("turn on the kitchen lights"), silence(4),
        espeak("yes"), silence(4), espeak("how warm is the kitchen"), silence(4)]),
        assistant=assistant)
    chunks = " ".join(c.text for c in run.of(TTSChunk))
    assert "Should I fx turn on with name kitchen lights?" in chunks
    calls = [(c.name, c.arguments) for c in run.of(ToolCall)]
    assert calls == [("fx_turn_on", {"name": "kitchen lights"}),
                     ("fx_room_temperature", {"room": "kitchen"})]
    assert log.read_text() == "turn_on kitchen lights\n"
    assert "The kitchen is at 21.5 degrees." in chunks
