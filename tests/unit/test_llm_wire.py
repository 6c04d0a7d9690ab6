"""The remote backend's pure parts (request bodies, server-sent events, chunks, estimates,
trimming), its config, and its one-sentence failures against small real HTTP servers on
127.0.0.1 that misbehave on purpose."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.bench.serve import free_port
from assistant.config import Config, ConfigError, load_config
from assistant.llm import Engine, Generation, LLMEngine, ModelServerError, build_engine
from assistant.llm.remote import RemoteEngine
from assistant.llm.wire import (
    Chunk,
    count_into,
    error_detail,
    estimate_prompt,
    parse_chunk,
    request_body,
    sse_data,
)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
SCHEMA = {"type": "object", "properties": {"calls": {"type": "array"}}, "required": ["calls"]}


def test_request_body_streams_with_usage_and_the_prompt_cache() -> None:
    body = request_body("m", MESSAGES, max_tokens=9, temperature=0.2, seed=3,
                        repeat_penalty=1.1, json_schema=None, shape="json_schema")
    assert body["messages"] == MESSAGES and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True} and body["cache_prompt"] is True
    assert (body["max_tokens"], body["temperature"], body["seed"]) == (9, 0.2, 3)
    assert "response_format" not in body


def test_both_response_format_shapes() -> None:
    openai = request_body("m", MESSAGES, max_tokens=9, temperature=0, seed=0, repeat_penalty=1,
                          json_schema=SCHEMA, shape="json_schema")["response_format"]
    assert openai == {"type": "json_schema",
                      "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True}}
    llama = request_body("m", MESSAGES, max_tokens=9, temperature=0, seed=0, repeat_penalty=1,
                         json_schema=SCHEMA, shape="json_object")["response_format"]
    assert llama == {"type": "json_object", "schema": SCHEMA}


def test_sse_data_joins_lines_and_skips_comments() -> None:
    lines = [": keep-alive", "", "data: {\"a\":", "data: 1}", "", "event: x", "data:[DONE]"]
    assert list(sse_data(lines)) == ['{"a":\n1}', "[DONE]"]


def test_chunks_text_end_and_counts() -> None:
    text = parse_chunk(json.dumps({"choices": [{"delta": {"content": "Hi"},
                                                "finish_reason": None}]}))
    assert text == Chunk(text="Hi")
    end = parse_chunk(json.dumps({"choices": [{"delta": {}, "finish_reason": "stop"}]}))
    assert end.finish_reason == "stop" and end.text == ""
    openai = parse_chunk(json.dumps({"choices": [], "usage": {
        "prompt_tokens": 40, "completion_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": 32}}}))
    assert (openai.prompt_tokens, openai.cached_tokens, openai.completion_tokens) == (40, 32, 7)
    llama = parse_chunk(json.dumps({"choices": [{"delta": {}, "finish_reason": "stop"}],
                                    "timings": {"prompt_n": 8, "cache_n": 32,
                                                "predicted_n": 5}}))
    assert (llama.prompt_tokens, llama.cached_tokens, llama.completion_tokens) == (40, 32, 5)
    stats = Generation(tokens=3)
    count_into(stats, llama)
    assert (stats.prompt_tokens, stats.cached_tokens, stats.tokens) == (40, 32, 5)


@pytest.mark.parametrize("data,message", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a chunk"),
    ('{"id": 1}', "without choices"),
    ('{"error": {"message": "out of memory"}}', "out of memory"),
])
def test_malformed_chunks_are_value_errors(data: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_chunk(data)


def test_error_detail_is_one_short_line() -> None:
    assert error_detail(b'{"error": {"message": "model\\n not found"}}') == "model not found"
    assert error_detail(b'{"detail": "Not Found"}') == "Not Found"
    assert len(error_detail(b"x" * 1000)) == 203


def test_fit_keeps_the_system_message_and_the_last_one() -> None:
    engine = RemoteEngine("http://127.0.0.1:1/v1", n_ctx=256)
    turns = [{"role": r, "content": f"turn {i} " * 20}
             for i, r in enumerate(["user", "assistant"] * 5)]
    messages = [MESSAGES[0], *turns, {"role": "user", "content": "the question"}]
    fitted = engine.fit(messages, reserve=64)
    assert fitted[0] == MESSAGES[0] and fitted[-1] == messages[-1]
    assert 2 < len(fitted) < len(messages) and fitted[1:] == messages[-(len(fitted) - 1):]
    assert engine.count(fitted) + 64 <= 256
    huge = [MESSAGES[0], {"role": "user", "content": "word " * 5000 + "the end"}]
    kept = engine.fit(huge, reserve=64)
    assert kept[-1]["content"].endswith("the end") and estimate_prompt(kept) + 64 <= 256


def test_both_backends_have_every_engine_member() -> None:
    members = {n for n in dir(Engine) if not n.startswith("_")}
    assert {"stream", "count_text", "prefill", "load", "where"} <= members
    for backend in (LLMEngine, RemoteEngine):
        assert [n for n in members if not hasattr(backend, n)] == [], backend


def test_config_keys(config: Config, tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert config.llm.backend == "local"
    assert isinstance(build_engine(config, str(gguf)), LLMEngine)  # nothing loaded yet
    empty = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match=r"llm\.base_url.*not an http"):
        load_config(empty, env={"ASSISTANT_LLM__BASE_URL": "127.0.0.1:8080"})
    with pytest.raises(ConfigError, match=r"needs llm\.base_url"):
        load_config(empty, env={"ASSISTANT_LLM__BACKEND": "openai"})
    config.llm.base_url = "http://192.168.1.20:8080/v1/"
    config.llm.backend = "openai"
    engine = build_engine(config)
    assert isinstance(engine, RemoteEngine)
    assert engine.base_url == "http://192.168.1.20:8080/v1"
    assert engine.model == ""  # the local default's name: the server's first model is used
    config.llm.model = "qwen2.5:3b"
    assert build_engine(config).model == "qwen2.5:3b"  # type: ignore[attr-defined]


# --- failures, against real (small, scripted) HTTP servers -----------------------------------

class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers every request with the server's ``reply``: (status, body lines)."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        status, lines = self.server.reply  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write("".join(line + "\n" for line in lines).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _answer(server: http.server.ThreadingHTTPServer, status: int, lines: list[str]) -> str:
    server.reply = (status, lines)  # type: ignore[attr-defined]
    text, _ = RemoteEngine(f"http://127.0.0.1:{server.server_address[1]}/v1", model="m",
                           timeout_s=5).complete(MESSAGES)
    return text


def _chunk(text: str, finish: str | None = None) -> str:
    return "data: " + json.dumps({"choices": [{"delta": {"content": text},
                                               "finish_reason": finish}]}) + "\n"


def test_a_scripted_stream_is_read(scripted: http.server.ThreadingHTTPServer) -> None:
    assert _answer(scripted, 200, [_chunk("Hel"), _chunk("lo", "stop"), "data: [DONE]"]) == \
        "Hello"


@pytest.mark.parametrize("status,lines,message", [
    (200, ["data: {oops", ""], "sent a malformed answer"),
    (200, [_chunk("Hel")], "ended the answer early: is it still running?"),
    (401, ['{"error": {"message": "bad key"}}'], r"HTTP 401 \(bad key\): check llm.api_key"),
    (404, ['{"detail": "Not Found"}'], "check llm.base_url and llm.model"),
])
def test_failures_are_one_sentence(scripted: http.server.ThreadingHTTPServer, status: int,
                                   lines: list[str], message: str) -> None:
    with pytest.raises(ModelServerError, match=message) as err:
        _answer(scripted, status, lines)
    assert "\n" not in str(err.value)


def test_nothing_listening_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelServerError) as err:
        RemoteEngine(url, timeout_s=2).complete(MESSAGES)
    assert str(err.value) == f"The model server at {url} did not answer: is it running?"
