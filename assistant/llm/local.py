"""The local backend: llama-cpp-python in this process, with the GGUF's own chat template,
token streaming, cancellation, context trimming, prompt-cache accounting and
grammar-constrained JSON. Nothing leaves the device.

The prompt always starts with the same prefix (system prompt, then tool schemas, then memory,
then the conversation), so llama.cpp reuses the KV cache of everything up to the first change:
:attr:`Generation.cached_tokens` reports how much of each prompt that saved.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from assistant.llm.engine import Generation, LLMError, Message, complete, fit_messages

_LOADING = threading.Lock()
"""llama-cpp-python silences the whole process while it loads a model (stdout and stderr
dup2'd to /dev/null, then put back): two loads at once can put back the silenced ones, and
the process never prints again. Loads take turns."""


class FairLock:
    """A re-entrant lock granted in order of arrival. ``threading.RLock`` is not fair: the
    thread that just released it often takes it again, so with several rooms sharing one
    model, one room's answer could wait behind every token of another's."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._waiting: deque[int] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return self
            self._waiting.append(me)
            while self._owner is not None or self._waiting[0] != me:
                self._cond.wait()
            self._waiting.popleft()
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()


def check_gguf(path: Path) -> None:
    """Raise LLMError unless ``path`` is a file that starts like a GGUF model."""
    if not path.is_file():
        raise LLMError(f"LLM model file not found: {path}")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise LLMError(f"{path} is not a GGUF model file (corrupt or wrong format)")


class LLMEngine:
    """One loaded GGUF model. Loads lazily on first use; safe to share across threads."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        self._llama: Any = None
        self._formatter: Any = None
        # Re-entrant: generation holds it while calling helpers that load lazily. Fair:
        # conversations sharing the model decode one at a time, in order of arrival.
        self._lock = FairLock()

    # ------------------------------------------------------------------ loading

    @property
    def where(self) -> str:
        return f"this device: {self.model_path}"

    def load(self) -> None:
        _ = self.llama

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (loaded on first access)."""
        with self._lock:  # two threads must never load (and free) two copies
            if self._llama is None:
                self._load()
        return self._llama

    def _load(self) -> None:
        check_gguf(self.model_path)
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        threads = self.n_threads or psutil.cpu_count(logical=False) or os.cpu_count() or 2
        try:
            with _LOADING:
                llama = llama_cpp.Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=threads,
                    n_threads_batch=threads, n_gpu_layers=self.n_gpu_layers, seed=self.seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"cannot load {self.model_path}: {exc}") from None
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError(f"{self.model_path.name} has no chat template; use an instruct model")

        def token_text(token_id: int) -> str:
            return llama._model.token_get_text(token_id) if token_id >= 0 else ""

        self._formatter = Jinja2ChatFormatter(
            template=template, eos_token=token_text(llama.token_eos()),
            bos_token=token_text(llama.token_bos()),
        )
        self._llama = llama

    # ------------------------------------------------------------------ prompts

    def render(self, messages: list[Message]) -> tuple[str, list[str]]:
        """Prompt text (ending with the assistant's turn opening) and stop strings."""
        _ = self.llama
        formatted = self._formatter(messages=messages)
        return formatted.prompt, [s for s in formatted.stop if s]

    def render_open(self, messages: list[Message]) -> tuple[str, str]:
        """The prompt split where the last message's content ends: (everything up to there,
        what the template writes after it). The first part is a prompt still open for more
        of the last message's words (a live transcript); the second starts with the
        template's end-of-message token."""
        mark = "\u0000"
        *rest, last = messages
        prompt, _ = self.render([*rest, {**last, "content": last["content"] + mark}])
        before, after = prompt.split(mark, 1)
        return before, after

    def tokenize(self, text: str) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count(self, messages: list[Message]) -> int:
        return len(self.tokenize(self.render(messages)[0]))

    def count_text(self, text: str) -> int:
        return len(self.tokenize(text))

    def fit(self, messages: list[Message], reserve: int) -> list[Message]:
        return fit_messages(messages, self.n_ctx - reserve, self.count, self._keep_end)

    def _keep_end(self, text: str, tokens: int) -> str:
        # 8 tokens more: a cut can merge tokens at the seam, so the count may grow a little.
        ids = self.tokenize(text)
        return self.llama.detokenize(ids[tokens + 8 :]).decode("utf-8", "ignore")

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
        """Yield the reply's text pieces as they are generated.

        ``json_schema`` constrains the output to JSON matching it (llama.cpp grammar);
        ``repeat_penalty`` keeps small models out of loops ("100% GPU, 100% GPU, ...").
        Setting ``cancel`` stops generation before the next token; ``stats`` is filled in.
        """
        stats = stats if stats is not None else Generation()
        start = time.perf_counter()
        grammar = None
        if json_schema is not None:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
        with self._lock:  # one generation at a time: the model and its KV cache are shared
            prompt, stop = self.render(self.fit(messages, reserve=max_tokens))
            tokens = self.tokenize(prompt)
            llama = self.llama
            stats.prompt_tokens = len(tokens)
            stats.cached_tokens = llama.longest_token_prefix(llama._input_ids.tolist(), tokens)
            chunks = llama.create_completion(
                tokens, max_tokens=max_tokens, temperature=temperature, stop=stop,
                grammar=grammar, stream=True, seed=self.seed, repeat_penalty=repeat_penalty,
            )
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        stats.cancelled = True
                        break
                    piece = chunk["choices"][0]["text"]
                    stats.tokens += 1
                    if piece:
                        if not stats.text:
                            stats.ttft_ms = (time.perf_counter() - start) * 1000
                        stats.text += piece
                        yield piece
            finally:
                chunks.close()
                stats.total_ms = (time.perf_counter() - start) * 1000

    def prefill(self, messages: list[Message]) -> None:
        """Evaluate the prompt up to where the last message's words end so far: an answer
        that comes prefills only what follows. Words that change on the way cost nothing
        more: llama.cpp keeps the longest common prefix."""
        self.evaluate(self.render_open(messages)[0])

    def evaluate(self, text: str) -> None:
        """Run the raw prompt ``text`` (special tokens parsed) through the model without
        generating. The KV cache of the longest prefix already evaluated is reused, and a
        later prompt that starts the same way prefills only the rest."""
        with self._lock:
            self._evaluate(text)

    def next_token_logprobs(self, text: str) -> np.ndarray:
        """Log-probabilities of the token that would follow ``text`` (as in
        :meth:`evaluate`), over the whole vocabulary."""
        import llama_cpp

        with self._lock:
            llama = self._evaluate(text)
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1),
                                           shape=(llama.n_vocab(),)).astype(np.float64)
        logits -= logits.max()
        return logits - np.log(np.exp(logits).sum())

    def _evaluate(self, text: str) -> Any:
        llama = self.llama
        tokens = self.tokenize(text)[-(self.n_ctx - 1):]
        # At least one token is evaluated: its logits are the last ones.
        reuse = min(llama.longest_token_prefix(llama._input_ids.tolist(), tokens),
                    len(tokens) - 1)
        llama.n_tokens = reuse
        llama.eval(tokens[reuse:])
        return llama

    def complete(self, messages: list[Message], **kwargs: Any) -> tuple[str, Generation]:
        return complete(self, messages, **kwargs)
