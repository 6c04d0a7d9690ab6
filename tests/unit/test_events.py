"""assistant.voice.events: one class per event, JSON lines as they always were, the log, and the
documented list generated from the classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.voice import events as ev
from assistant.voice.events import EventLog

README = Path(__file__).resolve().parents[2] / "README.md"

# One line of each kind as the loop wrote them before events were typed (values shortened):
# the format on disk must not change.
LINES = [
    '{"t": 0.5, "type": "speech_start", "during_playback": false}',
    '{"t": 1.26, "type": "partial", "text": "What\'s 17?"}',
    '{"t": 2.54, "type": "speech_end"}',
    '{"t": 3.939, "type": "speculation", "text": "What 17 times 23?"}',
    '{"t": 3.94, "type": "transcript", "text": "What 17 times 23?"}',
    '{"t": 3.94, "type": "tool_call", "name": "calculate", "arguments": {"expression": '
    '"17*23"}, "result": "17 times 23 is 391.", "ok": true}',
    '{"t": 3.942, "type": "tts_chunk", "text": "17 times 23"}',
    '{"t": 4.08, "type": "audio_out_start", "text": ""}',
    '{"t": 4.08, "type": "turn_end", "path": "fast", "speculative": true, "latency_ms": '
    '{"endpointing": 1400.0, "asr_final": 0.0, "llm_ttft": 1.5, "first_chunk": 3.4, '
    '"tts_first_audio": 138.0, "voice_to_voice": 1540.0}}',
    '{"t": 5.64, "type": "audio_out_pause"}',
    '{"t": 7.194, "type": "barge_in"}',
    '{"t": 7.194, "type": "audio_out_stop", "reason": "interrupted"}',
    '{"t": 8.0, "type": "audio_out_resume"}',
    '{"t": 8.1, "type": "barge_in_dismissed", "reason": "too short", "text": "Hm."}',
    '{"t": 9.0, "type": "transcript", "text": "Top.", "command": "stop"}',
    '{"t": 9.5, "type": "transcript", "text": "What time is it?", "ignored": "no wake phrase"}',
    '{"t": 9.6, "type": "wake", "until": 17.6}',
    '{"t": 16.6, "type": "speculation_dropped", "text": "Tell me about"}',
    '{"t": 17.834, "type": "retrieval", "ids": [], "sources": [], "ms": 21.8}',
    '{"t": 17.863, "type": "llm_first_token"}',
    '{"t": 20.5, "type": "audio_out_stop", "reason": "done"}',
    '{"t": 21.0, "type": "error", "where": "listener", "message": "ValueError: bad"}',
    '{"t": 22.0, "type": "hub", "connected": false, "detail": "lost the hub (connection '
    'closed)"}',
]


def _parse(row: dict) -> ev.Event:
    kind = next(k for k in ev.EVENT_TYPES if k.type == row["type"])
    return kind(**{k: v for k, v in row.items() if k != "type"})


@pytest.mark.parametrize("line", LINES)
def test_every_event_writes_the_json_line_it_always_did(line: str) -> None:
    event = _parse(json.loads(line))
    assert json.dumps(event.as_dict()) == line


def test_every_type_has_its_own_class_and_name() -> None:
    names = [k.type for k in ev.EVENT_TYPES]
    assert len(names) == len(set(names)) == 20
    assert all(names) and all(k.__doc__ for k in ev.EVENT_TYPES)
    assert {json.loads(line)["type"] for line in LINES} == set(names)


def test_event_as_dict_rounds_time() -> None:
    assert ev.TTSChunk(1.23456, "hi").as_dict() == {"t": 1.235, "type": "tts_chunk", "text": "hi"}


def test_event_log_emit_calls_listeners_and_keeps_events() -> None:
    log = EventLog()
    seen: list[ev.VoiceEvent] = []
    log.listeners.append(seen.append)
    first, second = ev.Transcript(1.5, "hello"), ev.SpeechStart(0.2, False)
    log.emit(first)
    log.emit(second)
    assert seen == log.events == [first, second]
    assert log.of_type(ev.SpeechStart) == [second]
    assert log.of_type(ev.BargeIn) == []


def test_event_log_close_writes_jsonl_sorted_by_time(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "events.jsonl"
    log = EventLog(path)
    log.emit(ev.Transcript(2.0, "what time is it"))
    log.emit(ev.SpeechStart(0.5, False))
    log.emit(ev.SpeechEnd(1.25))
    log.emit(ev.ToolCall(3.0, "time", {}, Path("x"), True))
    assert not path.exists()  # written on close
    log.close()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["t"] for r in rows] == [0.5, 1.25, 2.0, 3.0]
    assert rows[0] == {"t": 0.5, "type": "speech_start", "during_playback": False}
    assert rows[1] == {"t": 1.25, "type": "speech_end"}
    assert rows[2] == {"t": 2.0, "type": "transcript", "text": "what time is it"}
    assert rows[3]["result"] == "x"  # not JSON: written as its string
    assert all(list(r)[:2] == ["t", "type"] for r in rows)


def test_event_log_without_path_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    log = EventLog()
    log.emit(ev.Wake(0.0, 8.0))
    log.close()
    assert list(tmp_path.iterdir()) == []


def test_the_readme_lists_the_events_as_the_classes_document_them() -> None:
    text = README.read_text(encoding="utf-8")
    begin, end = "<!-- events: begin -->\n", "<!-- events: end -->"
    assert begin in text and end in text, "README lost its generated list of events"
    listed = text[text.index(begin) + len(begin):text.index(end)].strip()
    assert listed == ev.catalogue(), "regenerate the README's list: " + ev.catalogue()


def test_voice_help_lists_every_event_type(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["voice", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(k.type in help_text for k in ev.EVENT_TYPES)
