"""Speech recognition with faster-whisper's CTranslate2 Whisper, shaped for streaming.

``faster_whisper.WhisperModel.transcribe`` pads every input to Whisper's 30 s window, so even a
two-second command pays for a 30 s encoder pass (about 1 s on 2 cores). CTranslate2 accepts a
shorter mel input, so :class:`Recognizer` pads each utterance to the next whole second with at
least 1.5 s of trailing silence (less than that makes Whisper loop) and decodes greedily (a beam
only for the final decode of words that are not a command):
about 6x less encoder time for short commands. Files longer than 25 s go through the stock
``transcribe`` (with its VAD), which is also the offline reference the benchmark compares with.

:class:`StreamingTranscriber` re-decodes the growing utterance every few hundred ms
(LocalAgreement-2: words two hypotheses agree on are *committed*), and trims the audio at the
end of agreed, finished segments so that the final decode covers only the uncommitted tail.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.speech.audio import RATE
from assistant.speech.noise import snr_db
from assistant.speech.words import Heard, Word, disputed, least_sure, norm_word

_MAX_WINDOW_S = 30
_SHORT_LIMIT_S = 25.0
BEAM_PAD_S = 5.0
"""Silence after the words in a beam-search decode; 1.5 s (the least that does not make
Whisper loop) in a greedy one."""


@dataclass
class Segment:
    start: float
    end: float
    text: str


@dataclass
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    ms: float = 0.0
    decodes: tuple[bool, ...] = ()
    """The decodes of its one encoding, in order: False greedy, True beam search. The text
    is the last one's, unless ``checked``."""
    words: tuple[Word, ...] = ()
    """The decoded words with their probabilities (empty for ``transcribe_offline``)."""
    checked: bool = False
    """The greedy words were kept and the beam decoded them again as a second opinion: a
    word the two disagree on has probability 0 (:func:`disputed`)."""
    snr_db: float | None = None
    """How far the speech stood above the room's noise (:func:`assistant.speech.noise.snr_db`);
    None when unknown."""

    @property
    def heard(self) -> Heard:
        """How the words were heard, for the turn."""
        return Heard(self.words, self.snr_db)

    def unsure(self, below: float) -> frozenset[str]:
        """The words (lower case, without punctuation) heard with a probability under
        ``below``: the ones a turn should not act on without asking."""
        return frozenset(w for w, p in least_sure(self.words).items() if p < below)


_HALLUCINATIONS = re.compile(
    r"^\s*(?:thank you\.?|thanks for watching!?|you|bye\.?|\.+|\[.*\]|\(.*\))\s*$", re.IGNORECASE)


def collapse_repeats(text: str, max_repeat: int = 2) -> str:
    """Cut Whisper's repetition loops: a word said more than ``max_repeat`` times in a row is
    kept that many times; a phrase of 3-8 words or a whole sentence said more than once is
    kept once; a trailing start of the loop ("What time is it? What time is it? What") is
    dropped."""
    text = re.sub(r"([A-Za-z!?-][^\s\d,.]{0,3}?)\1{3,}", r"\1", text)  # "-y-y-y-y-y", "!!!!"
    words = text.split()
    for n in range(1, 9):
        keys = [norm_word(w) for w in words]  # "Go" repeats "go", "meters." repeats "meters"
        i = 0
        out: list[str] = []
        while i < len(words):
            phrase = keys[i:i + n]
            reps = 1
            while keys[i + reps * n:i + (reps + 1) * n] == phrase:
                reps += 1
            # A repeated phrase or sentence is a loop; "no no" may be meant.
            sentence = n > 1 and i + n <= len(words) and words[i + n - 1].endswith((".", "?", "!"))
            keep = max_repeat if n < 3 and not sentence else 1
            if reps > keep and len(phrase) == n:
                out += words[i:i + n * keep]
                i += reps * n
                tail = keys[i:]
                if tail and len(tail) < n and phrase[:len(tail)] == tail:
                    i = len(words)  # the loop's unfinished last round
            else:
                out.append(words[i])
                i += 1
        words = out
    return " ".join(words)


def guard(t: Transcript) -> Transcript:
    """``t``, or nothing for Whisper's inventions on silence and noise."""
    silent = t.no_speech_prob > 0.6 and t.avg_logprob < -0.7
    if silent or (_HALLUCINATIONS.match(t.text) and t.avg_logprob < -0.4):
        return Transcript("", [], t.no_speech_prob, t.avg_logprob, t.ms)
    return t


class Recognizer:
    """A Whisper model (CTranslate2 folder), loaded once, lazily."""

    def __init__(self, model_dir: Path, threads: int = 0, language: str = "en",
                 beam_size: int = 1, unsure_below: float = 0.0,
                 second_opinion: bool = False) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.language = language
        self.beam_size = beam_size
        """Used by ``transcribe(..., beam=True)``."""
        self.unsure_below = unsure_below
        """``asr.unsure_below``: the live view marks the words heard with a lower
        probability (:meth:`Transcript.unsure`); the turn judges them by the same key."""
        self.second_opinion = second_opinion
        """``asr.second_opinion``: whether ``transcribe``'s ``recheck`` is honoured."""
        self._model = None
        self._tokenizer = None
        self._token_forms: np.ndarray | None = None

    def load(self) -> None:
        if self._model is not None:
            return
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        if not (self.model_dir / "model.bin").exists():
            from assistant.models import ModelError

            raise ModelError(f"no Whisper model in {self.model_dir} (model.bin missing)")
        try:
            model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                 cpu_threads=self.threads)
        # CTranslate2 and the tokenizer fail on a foreign model.bin or config in many ways
        # (RuntimeError, ValueError, OSError, JSON errors): all mean the folder is no model.
        except Exception as exc:
            from assistant.models import ModelError

            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"{self.model_dir} is not a usable CTranslate2 Whisper model "
                             f"({reason[:120]}); fetch it again (assistant models fetch) or "
                             "set asr.model to a faster-whisper model folder") from None
        self._model = model
        self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                    task="transcribe", language=self.language)

    def transcribe(self, audio: np.ndarray, prompt: str = "", beam: bool = False,
                   keep_greedy: Callable[[str], bool] | None = None,
                   recheck: Callable[[str], bool] | None = None) -> Transcript:
        """Decode one utterance. ``prompt`` (text already committed) conditions the decoder.
        Greedy unless ``beam``: beam search costs 50-150 ms more on a command here, and
        greedy decoding costs accuracy (10.7% WER vs 6.7% on the benchmark's clips). With
        ``keep_greedy``, the greedy text is kept if it accepts it, else the same encoding
        is decoded again with the beam (the encoder runs once). Kept greedy words that
        ``recheck`` accepts (a command that changes something) are decoded again with the
        beam all the same, as a second opinion on them (``checked``)."""
        self.load()
        start = time.perf_counter()
        duration = len(audio) / RATE
        if duration > _SHORT_LIMIT_S:
            return self.transcribe_offline(audio)
        import ctranslate2

        model, tok = self._model, self._tokenizer
        beam = beam and self.beam_size > 1
        both = keep_greedy is not None and self.beam_size > 1 and not beam
        # More silence after the words brings Whisper closer to the 30 s windows it was
        # trained on (the beam decode on real speech: 8.3% WER with 1.5 s, 6.2% with 5 s, as
        # whole 30 s windows), for a few ms of encoder time more; commands stay quick.
        window = min(_MAX_WINDOW_S,
                     math.ceil(duration + (BEAM_PAD_S if beam or both else 1.5)))
        padded = np.zeros(window * RATE, np.float32)
        padded[: len(audio)] = audio
        mel = model.feature_extractor(padded)[:, : window * 100]
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        encoded = model.model.encode(features, to_cpu=False)
        prompt_ids: list[int] = []
        if prompt:
            prompt_ids = [tok.sot_prev, *tok.encode(" " + prompt.strip())[-100:]]
        transcript = self._decode(encoded, prompt_ids, duration, beam)
        if both and transcript.text and not keep_greedy(transcript.text):
            transcript = replace(self._decode(encoded, prompt_ids, duration, True),
                                 decodes=(False, True))
        elif both and transcript.text and self.second_opinion and recheck is not None \
                and recheck(transcript.text):
            second = self._decode(encoded, prompt_ids, duration, True)
            transcript = replace(transcript, words=disputed(transcript.words, second.words),
                                 decodes=(False, True), checked=True)
        return guard(replace(transcript, snr_db=snr_db(audio),
                             ms=(time.perf_counter() - start) * 1000))

    def _decode(self, encoded: object, prompt_ids: list[int], duration: float,
                beam: bool) -> Transcript:
        tok = self._tokenizer
        result = self._model.model.generate(
            encoded, [prompt_ids + list(tok.sot_sequence)],
            beam_size=self.beam_size if beam else 1,
            # The limit counts the prompt too: one longer than the limit crashes CTranslate2.
            max_length=min(448, len(prompt_ids) + len(tok.sot_sequence) + int(duration * 8) + 24),
            return_scores=True, return_no_speech_prob=True, return_logits_vocab=not beam,
            suppress_blank=True, suppress_tokens=[-1], max_initial_timestamp_index=50,
        )[0]
        ids = result.sequences_ids[0]
        segments = self._segments(ids)
        text = collapse_repeats(" ".join(s.text for s in segments).strip())
        text = re.sub(r"\s*(?:\.\.\.|…)+", "", text).strip()  # Whisper's trailing-off dots
        words = self._words(ids, self._token_probabilities(result, ids, encoded, prompt_ids))
        return Transcript(text, segments, result.no_speech_prob,
                          result.scores[0] / max(1, len(ids)), decodes=(beam,), words=words)

    def _token_probabilities(self, result: object, ids: list[int], encoded: object,
                             prompt_ids: list[int]) -> list[float]:
        """The probability of each text token of ``ids``. A greedy decode returns each
        step's logits, at no cost; a beam decode does not, so its text is scored again by
        CTranslate2's ``align`` (one decoder pass, ~12 ms for a command here)."""
        tok = self._tokenizer
        text_ids = [t for t in ids if t < tok.eot]
        if not text_ids:
            return []
        if result.logits:  # greedy: step i's logits chose ids[i]
            probs = []
            for step, t in zip(result.logits[0], ids, strict=False):
                if t < tok.eot:
                    logits = np.asarray(step, dtype=np.float64)
                    p = np.exp(logits - logits.max())
                    forms = self._forms(len(p))
                    # " Set", "Set" and " set" are one word: the model's doubt between them
                    # is about the case, not the word (a first word is often split 3 ways).
                    probs.append(float(p[forms == forms[t]].sum() / p.sum()))
            return probs
        aligned = self._model.model.align(encoded, prompt_ids + list(tok.sot_sequence),
                                          [text_ids], encoded.shape[1])
        return list(aligned[0].text_token_probs)

    def _forms(self, size: int) -> np.ndarray:
        """For each of ``size`` token ids, a number shared by the tokens that spell the
        same piece whatever its case and leading space; the special and timestamp tokens
        each their own (cached: one pass over the vocabulary)."""
        if self._token_forms is None or len(self._token_forms) != size:
            keys: dict[str, int] = {}
            forms = np.arange(size, dtype=np.int64) + size  # unique unless spelled below
            for piece, i in self._model.hf_tokenizer.get_vocab().items():
                if i < size:
                    forms[i] = keys.setdefault(piece.lstrip("\u0120").lower(), len(keys))
            self._token_forms = forms
        return self._token_forms

    def _words(self, ids: list[int], probs: list[float]) -> tuple[Word, ...]:
        """Text tokens joined into words (a token that starts with a space starts a word).
        A punctuation mark does not lower its word's probability: Whisper's doubt between
        "fact," and "fact" (0.29 for the comma, 0.89 for " fact") is not about the word."""
        tok = self._tokenizer
        words: list[tuple[list[int], float]] = []
        for t, p in zip((t for t in ids if t < tok.eot), probs, strict=False):
            piece = tok.decode([t])
            if not words or piece.startswith(" "):
                words.append(([t], p))
            else:
                mark = not any(c.isalnum() for c in piece)
                words[-1] = (words[-1][0] + [t], words[-1][1] if mark else min(words[-1][1], p))
        return tuple(Word(tok.decode(w).strip(), round(p, 3)) for w, p in words)

    def _segments(self, ids: list[int]) -> list[Segment]:
        """Split a timestamped token sequence into segments."""
        tok = self._tokenizer
        base = tok.timestamp_begin
        segments: list[Segment] = []
        start, words = 0.0, []
        for t in ids:
            if t >= base:
                stamp = (t - base) * 0.02
                if words:
                    segments.append(Segment(start, stamp, tok.decode(words).strip()))
                    words = []
                start = stamp
            elif t < tok.eot:
                words.append(t)
        if words:
            segments.append(Segment(start, -1.0, tok.decode(words).strip()))
        return [s for s in segments if s.text]

    def transcribe_offline(self, audio: np.ndarray) -> Transcript:
        """faster-whisper's own whole-file transcription (30 s windows, its VAD, beam 5)."""
        self.load()
        start = time.perf_counter()
        segments, _ = self._model.transcribe(audio, language=self.language, vad_filter=True)
        segs = [Segment(s.start, s.end, s.text.strip()) for s in segments]
        return Transcript(" ".join(s.text for s in segs).strip(), segs,
                          ms=(time.perf_counter() - start) * 1000)


TRIM_AFTER_S = 8.0
"""Buffers shorter than this are decoded whole: a short utterance is never cut."""


class StreamingTranscriber:
    """One utterance, recognised while it is spoken."""

    def __init__(self, recognizer: Recognizer, context: str = "") -> None:
        self.recognizer = recognizer
        self.context = context
        """Words the speaker is likely to say, given to Whisper as earlier text (the stop
        phrases, over the assistant's voice: "Stop." is heard 12 times in 16 with it, 6
        without)."""
        self.audio = np.zeros(0, np.float32)
        self.committed = ""
        """Text of trimmed-off audio plus words agreed by two consecutive hypotheses."""
        self._done = ""  # text of audio already trimmed away
        self._previous: list[str] = []
        self.tentative = ""

    def add(self, samples: np.ndarray) -> None:
        self.audio = np.concatenate([self.audio, samples])

    @property
    def text(self) -> str:
        return " ".join(x for x in (self.committed, self.tentative) if x)

    def partial(self) -> str:
        """Decode the buffer, commit what two hypotheses agree on, trim finished segments."""
        hyp = self.recognizer.transcribe(self.audio, prompt=self._prompt)
        words = hyp.text.split()
        agreed = 0
        while (agreed < min(len(words), len(self._previous))
               and norm_word(words[agreed]) == norm_word(self._previous[agreed])):
            agreed += 1
        self._previous = words
        self.committed = " ".join(x for x in (self._done, " ".join(words[:agreed])) if x)
        self.tentative = " ".join(words[agreed:])
        self._trim(hyp, agreed)
        return self.text

    def _trim(self, hyp: Transcript, agreed: int) -> None:
        """Drop audio up to the end of the last finished segment that is fully agreed and
        ends a sentence, at least 1 s before the end of the buffer, once the buffer is long
        enough for decoding it to cost (Whisper's segment times are too rough to cut a short
        utterance: a cut inside a word makes the tail decode repeat it)."""
        buffer_s = len(self.audio) / RATE
        if buffer_s < TRIM_AFTER_S:
            return
        covered = 0
        cut, cut_words = 0.0, 0
        for seg in hyp.segments:
            covered += len(seg.text.split())
            if seg.end < 0 or covered > agreed or seg.end > buffer_s - 1.0:
                break
            if seg.text.rstrip().endswith((".", "?", "!")):
                cut, cut_words = seg.end, covered
        if cut_words:
            self._done = " ".join(x for x in (self._done, " ".join(self._previous[:cut_words]))
                                  if x)
            self.audio = self.audio[int(cut * RATE):]
            self._previous = self._previous[cut_words:]

    def final(self, keep_greedy: Callable[[str], bool] | None = None,
              greedy_first: bool = True,
              recheck: Callable[[str], bool] | None = None) -> Transcript:
        """The utterance's text: only the untrimmed tail is decoded again. If
        ``keep_greedy`` rejects the greedy text (it is not a command), the tail is decoded
        once more with beam search: those words go to the LLM, whose answer takes far
        longer than the beam; if ``recheck`` accepts it (a command that changes something),
        the beam decodes it again as a second opinion (:meth:`Recognizer.transcribe`).
        ``greedy_first=False`` (the words so far are no command) goes straight to the
        beam."""
        if not len(self.audio):
            return Transcript("")
        if keep_greedy is not None and not greedy_first:
            return self._after_done(self.recognizer.transcribe(self.audio, self._prompt, True))
        keep = None if keep_greedy is None else \
            (lambda text: keep_greedy(self._after_done_text(text)))
        check = None if recheck is None else \
            (lambda text: recheck(self._after_done_text(text)))
        return self._after_done(self.recognizer.transcribe(self.audio, self._prompt,
                                                           keep_greedy=keep, recheck=check))

    @property
    def _prompt(self) -> str:
        return " ".join(x for x in (self.context, self._done) if x)

    def _after_done(self, hyp: Transcript) -> Transcript:
        """The whole utterance's transcript from a decode of the buffer."""
        return replace(hyp, text=self._after_done_text(hyp.text))

    def _after_done_text(self, text: str) -> str:
        return " ".join(x for x in (self._done, drop_overlap(self._done, text)) if x)


def drop_overlap(before: str, after: str) -> str:
    """``after`` without the words it repeats from the end of ``before`` (Whisper, prompted
    with the text so far, sometimes starts the tail by saying it again)."""
    done, tail = before.split(), after.split()
    for n in range(min(len(done), len(tail)), 0, -1):
        if [norm_word(w) for w in done[-n:]] == [norm_word(w) for w in tail[:n]]:
            return " ".join(tail[n:])
    return after
