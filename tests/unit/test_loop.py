"""assistant.voice.loop: the stages wired together, driven by the file driver as a live run is,
with fake models: a spoken command answered end to end, an announcement, a barge-in, a stage
that fails."""

from __future__ import annotations

import numpy as np

from assistant.config import VoiceConfig
from assistant.skills import SkillRegistry
from assistant.speech.audio import FRAME, RATE, FileDriver
from assistant.voice.events import (
    AudioOutStart,
    AudioOutStop,
    BargeIn,
    Error,
    EventLog,
    Speculation,
    SpeechStart,
    Transcript,
    TTSChunk,
    TurnEnd,
)
from assistant.voice.loop import VoiceLoop
from tests.fixtures.fakes import FakeAssistant, FakeRecognizer, FakeSynthesizer, quiet, voiced


class Overheard(FakeRecognizer):
    """Hears ``over`` in speech over the assistant's voice (which the listener decodes with
    the stop phrases as context), ``text`` otherwise."""

    def __init__(self, text: str, over: str) -> None:
        super().__init__(text)
        self.over = over

    def transcribe(self, audio, prompt="", beam=False, keep_greedy=None, recheck=None):
        heard = super().transcribe(audio, prompt, beam, keep_greedy)
        return heard if not prompt else type(heard)(self.over, avg_logprob=-0.2)


def _run(loop: VoiceLoop, audio: np.ndarray) -> np.ndarray:
    loop.start()
    driver = FileDriver(audio, realtime=False, busy=loop.busy, backlog=loop.backlog)
    try:
        driver.run(loop.tick, loop.clock, until_idle=loop.idle)
    finally:
        loop.close()
    return driver.output


def _loop(assistant: FakeAssistant, recognizer: FakeRecognizer, **voice: object) -> VoiceLoop:
    return VoiceLoop(assistant, recognizer, FakeSynthesizer(), VoiceConfig(turn_model="",
                                                                          **voice),
                     EventLog(), is_speech=lambda _audio: True)


def test_a_spoken_command_is_answered_end_to_end(builtin_registry: SkillRegistry) -> None:
    assistant = FakeAssistant(builtin_registry, answers={"What time is it?": ["It's noon."]},
                              path="fast")
    loop = _loop(assistant, FakeRecognizer("What time is it?"))
    output = _run(loop, np.concatenate([quiet(10), voiced(40), quiet(60)]))
    kinds = [type(e) for e in loop.events.events]
    for kind in (SpeechStart, Speculation, Transcript, TTSChunk, AudioOutStart, TurnEnd):
        assert kind in kinds
    assert kinds.index(Transcript) < kinds.index(AudioOutStart)  # held until the endpoint
    (end,) = loop.events.of_type(TurnEnd)
    assert end.speculative and end.path == "fast"
    assert 200 <= end.latency_ms["voice_to_voice"] < 400  # endpoint_fast_s, then a fake answer
    assert [e.reason for e in loop.events.of_type(AudioOutStop)] == ["done"]
    loud = np.flatnonzero(output) / RATE
    assert loud[0] > 50 * FRAME / RATE  # silent while the user speaks
    assert assistant.history[0]["content"] == "What time is it?" and assistant.closed


def test_an_announcement_is_spoken(builtin_registry: SkillRegistry) -> None:
    assistant = FakeAssistant(builtin_registry)
    loop = _loop(assistant, FakeRecognizer())
    loop.start()
    assistant.context.announce("Your timer is done.")
    driver = FileDriver(quiet(10), realtime=False, busy=loop.busy, backlog=loop.backlog)
    try:
        driver.run(loop.tick, loop.clock, until_idle=loop.idle)
    finally:
        loop.close()
    assert [e.text for e in loop.events.of_type(TTSChunk)] == ["Your timer is done."]
    assert loop.events.of_type(TurnEnd) == []  # no turn: nothing to report
    assert np.count_nonzero(driver.output) == int(0.1 * RATE * 4) // 2 * 2


def test_speaking_over_an_answer_interrupts_it(builtin_registry: SkillRegistry) -> None:
    story = [f"word{i} " for i in range(40)] + ["end."]
    assistant = FakeAssistant(builtin_registry, answers={"Tell me a story.": story, "Stop.": []},
                              speculable_words=False)  # "stop" acts: it is never answered early
    loop = _loop(assistant, Overheard("Tell me a story.", "Stop."), echo="off")
    _run(loop, np.concatenate([voiced(40), quiet(100), voiced(20), quiet(60)]))
    assert len(loop.events.of_type(BargeIn)) == 1
    assert [e.reason for e in loop.events.of_type(AudioOutStop)] == ["interrupted"]
    assert assistant.asked == ["Tell me a story.", "Stop."]
    (heard,) = assistant.interrupted  # the history keeps what was played
    assert heard.startswith("word0") and "end." not in heard


def test_a_stage_that_fails_is_reported_and_the_loop_goes_on(
        builtin_registry: SkillRegistry) -> None:
    class Flaky(FakeRecognizer):
        def transcribe(self, audio, prompt="", beam=False, keep_greedy=None, recheck=None):
            if self.decodes == 0:
                self.decodes += 1
                raise RuntimeError("decoder fell over")
            return super().transcribe(audio, prompt, beam, keep_greedy)

    assistant = FakeAssistant(builtin_registry, answers={"What time is it?": ["It's noon."]})
    loop = _loop(assistant, Flaky("What time is it?"))
    _run(loop, np.concatenate([voiced(40), quiet(60), voiced(40), quiet(60)]))
    (error,) = loop.events.of_type(Error)
    assert (error.where, error.message) == ("listener", "RuntimeError: decoder fell over")
    assert "What time is it?" in assistant.asked
