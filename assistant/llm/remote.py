"""The remote backend (``llm.backend = "openai"``): any OpenAI-compatible chat server
(llama.cpp's llama-server, llama-cpp-python's server, Ollama, vLLM, LM Studio) over HTTP.

Each answer is one streamed ``POST {base_url}/chat/completions``; the messages go as chat
messages in the agent's stable-prefix order (system, tools, memory, conversation), so the
server applies its model's own template and its prompt cache reuses the common prefix
(``cache_prompt``). Cancelling, or closing the iterator, closes the response stream: the
server sees the client leave and stops generating. Every failure is a
:class:`ModelServerError` of one sentence; connecting and each wait for the next piece are
bounded by ``timeout_s``. There is no tokenizer on this side: token counts are estimates
(:mod:`assistant.llm.wire`) until the server reports its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from assistant.llm.engine import Generation, Message, ModelServerError, complete, fit_messages
from assistant.llm.wire import (
    CHARS_PER_TOKEN,
    SCHEMA_SHAPES,
    SchemaShape,
    count_into,
    error_detail,
    estimate_prompt,
    estimate_tokens,
    parse_chunk,
    request_body,
    sse_data,
)


class RemoteEngine:
    """A chat model on an OpenAI-compatible server; safe to share across threads (the
    server queues or batches concurrent requests itself)."""

    def __init__(self, base_url: str, *, model: str = "", api_key: str = "",
                 timeout_s: float = 30.0, n_ctx: int = 2048, seed: int = 0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        """The server's model name; "" = the first one it lists (llama-server serves one)."""
        self.n_ctx = n_ctx
        self.seed = seed
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers,
                                    timeout=httpx.Timeout(timeout_s))
        self._lock = threading.Lock()
        self._shapes: list[SchemaShape] = list(SCHEMA_SHAPES)
        """``response_format`` shapes to try; the one the server took moves first."""

    @property
    def where(self) -> str:
        return f"the model server at {self.base_url} (model {self.model or 'its first'})"

    def load(self) -> None:
        """Nothing to load on this side: the server holds the weights. Whether it answers
        is found out by the first request (``assistant doctor`` asks at once)."""

    def models(self) -> list[str]:
        """The model names the server lists (``GET /models``)."""
        with self._failures():
            response = self._client.get("/models")
            self._check(response)
            try:
                return [m["id"] for m in response.json()["data"]]
            except (ValueError, KeyError, TypeError):
                raise ModelServerError(
                    f"The model server at {self.base_url} sent no model list: is llm.base_url "
                    "an OpenAI-compatible API root (usually ending in /v1)?") from None

    def _model_name(self) -> str:
        with self._lock:
            if not self.model:
                names = self.models()
                if not names:
                    raise ModelServerError(f"The model server at {self.base_url} lists no "
                                           "model: load one there, or set llm.model.")
                self.model = names[0]
            return self.model

    # ------------------------------------------------------------------ prompts

    def count(self, messages: list[Message]) -> int:
        return estimate_prompt(messages)

    def count_text(self, text: str) -> int:
        return estimate_tokens(text)

    def fit(self, messages: list[Message], reserve: int) -> list[Message]:
        return fit_messages(messages, self.n_ctx - reserve, self.count,
                            lambda text, tokens: text[int((tokens + 8) * CHARS_PER_TOKEN):])

    def prefill(self, messages: list[Message]) -> None:
        """Nothing: the chat API reads a prompt only to answer it, and a generation per live
        transcript would cost the server more than the early read saves. The server's
        prompt cache still serves the stable prefix."""

    # ------------------------------------------------------------------ generation

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 200,
        temperature: float = 0.3,
        json_schema: dict[str, Any] | None = None,
        repeat_penalty: float = 1.1,
        cancel: threading.Event | None = None,
        stats: Generation | None = None,
    ) -> Iterator[str]:
        stats = stats if stats is not None else Generation()
        start = time.perf_counter()
        fitted = self.fit(messages, reserve=max_tokens)
        stats.prompt_tokens = self.count(fitted)
        try:
            with self._failures():
                shapes = list(self._shapes) if json_schema is not None else self._shapes[:1]
                for shape in shapes:
                    body = request_body(self._model_name(), fitted, max_tokens=max_tokens,
                                        temperature=temperature, seed=self.seed,
                                        repeat_penalty=repeat_penalty,
                                        json_schema=json_schema, shape=shape)
                    with self._client.stream("POST", "/chat/completions", json=body) as resp:
                        if resp.status_code >= 400 and shape != shapes[-1]:
                            # Refused (llama-cpp-python's server: HTTP 500 for a validation
                            # error): the other response_format shape, once; the last
                            # refusal is the one reported.
                            continue
                        self._check(resp)
                        self._prefer(shape)
                        yield from self._pieces(resp, cancel, stats, start)
                        return
        finally:
            stats.total_ms = (time.perf_counter() - start) * 1000

    def _pieces(self, response: httpx.Response, cancel: threading.Event | None,
                stats: Generation, start: float) -> Iterator[str]:
        finished = False
        for data in sse_data(response.iter_lines()):
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                return  # leaving the ``with`` closes the stream: the server stops
            if data == "[DONE]":
                return
            try:
                chunk = parse_chunk(data)
            except ValueError as exc:
                raise ModelServerError(f"The model server at {self.base_url} sent a malformed "
                                       f"answer ({exc}): is it an OpenAI-compatible "
                                       "server?") from None
            count_into(stats, chunk)
            finished = finished or chunk.finish_reason is not None
            if chunk.text:
                if chunk.completion_tokens is None:
                    stats.tokens += 1  # llama.cpp servers send a chunk per token
                if not stats.text:
                    stats.ttft_ms = (time.perf_counter() - start) * 1000
                stats.text += chunk.text
                yield chunk.text
        if not finished:
            raise ModelServerError(f"The model server at {self.base_url} ended the answer "
                                   "early: is it still running?")

    def _prefer(self, shape: SchemaShape) -> None:
        with self._lock:
            self._shapes.sort(key=lambda s: s != shape)

    def _check(self, response: httpx.Response) -> None:
        """A one-sentence error for an HTTP error status."""
        if response.status_code < 400:
            return
        detail = error_detail(response.read())
        hint = {401: "check llm.api_key", 403: "check llm.api_key",
                404: "check llm.base_url and llm.model"}.get(response.status_code, "")
        raise ModelServerError(f"The model server at {self.base_url} answered HTTP "
                               f"{response.status_code} ({detail})" +
                               (f": {hint}." if hint else "."))

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """httpx's exceptions as one sentence that says what to do."""
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ModelServerError(f"The model server at {self.base_url} did not answer: is "
                                   "it running?") from None
        except httpx.TimeoutException:
            raise ModelServerError(f"The model server at {self.base_url} sent nothing for "
                                   f"{self.timeout_s:g} s: is it overloaded (or llm.timeout_s "
                                   "too short)?") from None
        except httpx.HTTPError as exc:
            raise ModelServerError(f"The model server at {self.base_url} broke off the answer "
                                   f"({type(exc).__name__}): is it still running?") from None

    def complete(self, messages: list[Message], **kwargs: Any) -> tuple[str, Generation]:
        return complete(self, messages, **kwargs)
