"""assistant.satellite.loop: frames in (a buzz webrtcvad calls speech), events to the hub
recorded, the hub's events played back."""

from __future__ import annotations

import numpy as np
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.satellite import RunSatellite
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStopped

from assistant.config import VoiceConfig
from assistant.satellite.loop import SatelliteLoop
from assistant.speech.audio import FRAME, RATE
from assistant.voice.events import BargeIn, BargeInDismissed, EventLog, Hub, ToolCall
from tests.fixtures.fakes import quiet, voiced


def make(**voice: object) -> tuple[SatelliteLoop, list[Event]]:
    sent: list[Event] = []
    loop = SatelliteLoop(VoiceConfig(echo="off", **voice), EventLog(), sent.append)
    loop.on_hub(RunSatellite().event())
    return loop, sent


def play(loop: SatelliteLoop, audio: np.ndarray) -> np.ndarray:
    out = []
    for i in range(len(audio) // FRAME):
        out.append(loop.tick(audio[i * FRAME:(i + 1) * FRAME]))
        loop.clock.advance()
    return np.concatenate(out)


def types(sent: list[Event]) -> list[str]:
    kinds = []
    for e in sent:
        if not kinds or e.type != kinds[-1] or e.type != "audio-chunk":
            kinds.append(e.type)
    return kinds


def answer(loop: SatelliteLoop, seconds: float, text: str = "It is noon.") -> None:
    """The hub's reply: one clause of ``seconds`` of a quiet tone, then Handled."""
    loop.on_hub(Transcript(text="what time is it").event())
    loop.on_hub(Synthesize(text=text).event())
    loop.on_hub(AudioStart(RATE, 2, 1).event())
    tone = (0.05 * np.sin(np.arange(int(seconds * RATE)) / 3) * 32767).astype("<i2")
    loop.on_hub(AudioChunk(RATE, 2, 1, tone.tobytes()).event())
    loop.on_hub(AudioStop().event())
    loop.on_hub(Handled(text=text, context={"tool_calls": [
        {"name": "get_time", "arguments": {}, "result": text, "ok": True}]}).event())


def test_an_utterance_streams_from_its_pre_roll_until_the_hub_ends_it() -> None:
    loop, sent = make()
    play(loop, np.concatenate([quiet(20), voiced(30), quiet(10)]))
    assert types(sent) == ["run-pipeline", "audio-start", "audio-chunk"]
    chunks = [e for e in sent if e.type == "audio-chunk"]
    assert len(chunks) >= 15 + 30  # the pre-roll (0.3 s) came along
    assert loop.busy()
    loop.on_hub(VoiceStopped().event())
    play(loop, quiet(2))
    assert types(sent)[-1] == "audio-stop"
    assert loop.busy()  # the answer is still to come
    answer(loop, 0.2)
    play(loop, quiet(20))
    assert not loop.busy() and loop.idle()
    assert types(sent)[-1] == "played"
    assert [e.name for e in loop.events.of_type(ToolCall)] == ["get_time"]


def test_nothing_streams_before_the_hub_is_ready_and_a_silent_hub_is_given_up_on() -> None:
    sent: list[Event] = []
    loop = SatelliteLoop(VoiceConfig(echo="off"), EventLog(), sent.append)
    play(loop, np.concatenate([voiced(30), quiet(5)]))
    assert sent == []
    loop.on_hub(RunSatellite().event())
    play(loop, np.concatenate([voiced(30), quiet(int(3.2 / 0.02))]))  # the hub says nothing
    assert types(sent) == ["run-pipeline", "audio-start", "audio-chunk", "audio-stop"]
    assert loop.busy()  # the hub answers an AudioStop with its Transcript
    loop.on_hub(Transcript(text="").event())
    assert not loop.busy()


def test_a_cough_over_the_answer_pauses_it_and_it_resumes() -> None:
    loop, sent = make()
    answer(loop, 3.0)
    play(loop, quiet(10))
    assert loop.player.speaking
    play(loop, np.concatenate([voiced(4), quiet(60)]))  # 80 ms: under barge_in_min_s
    kinds = [e.type for e in loop.events.events]
    assert "audio_out_pause" in kinds and "audio_out_resume" in kinds
    assert loop.events.of_type(BargeInDismissed) and not loop.events.of_type(BargeIn)
    assert "run-pipeline" not in types(sent)  # a cough is never sent to the hub


def test_speech_over_the_answer_drops_it_and_tells_the_hub() -> None:
    loop, sent = make()
    answer(loop, 3.0)
    play(loop, quiet(10))
    play(loop, voiced(15))
    assert loop.events.of_type(BargeIn)
    assert types(sent)[-4:] == ["voice-started", "run-pipeline", "audio-start", "audio-chunk"]
    assert not loop.player.pending
    # Late audio of the interrupted answer is dropped; the next turn's plays.
    loop.on_hub(Synthesize(text="It is").event())
    loop.on_hub(AudioChunk(RATE, 2, 1, b"\x10\x00" * 3200).event())
    assert not loop.player.pending
    loop.on_hub(VoiceStopped().event())
    play(loop, quiet(2))
    answer(loop, 0.2, "Stopped.")
    assert loop.player.pending


def test_a_lost_hub_ends_the_utterance_and_the_reply() -> None:
    loop, sent = make()
    play(loop, voiced(20))
    loop.on_hub(Synthesize(text="half").event())
    loop.on_link(False, "lost the hub (connection closed)")
    assert not loop.busy() and not loop.online.is_set()
    assert loop.events.of_type(Hub)[-1].connected is False
    n = len(sent)
    play(loop, np.concatenate([quiet(10), voiced(20)]))
    assert len(sent) == n  # nothing streams until the hub is back and ready
