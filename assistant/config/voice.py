"""The speech sections: ``[asr]``, ``[tts]`` and ``[voice]`` with its measured
subsections ``[voice.vad]`` and ``[voice.tuning]``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assistant.config.base import Frames, Ratio, Seconds, Section


class ASRConfig(Section):
    model: str = Field(
        "whisper-tiny.en", description="Catalogue name or a CTranslate2 Whisper folder."
    )
    beam_size: int = Field(
        5, ge=1, le=10, description="Beam width of the final decode of an utterance that is "
        "not a command (it goes to the LLM); commands and partials decode greedily, for speed."
    )
    unsure_below: float = Field(
        0.35, ge=0.0, le=1.0, description="A spoken word heard with a probability under this "
        "is unsure: a command that would act on it is asked back first, and so are words for "
        "the LLM with an unsure skill word or a word under half of this (0 never asks). "
        "Calibrated on `bench trust`'s spoken cases."
    )
    second_opinion: bool = Field(
        True, description="Decode a command that changes something (a timer, a list, a "
        "note) once more with the beam, and ask back about the words the two decodes "
        "disagree on; costs the beam's time (~50-150 ms on 2 cores) on those commands only."
    )
    noisy_below_db: float = Field(
        10.0, ge=0.0, le=60.0, description="A room whose speech-to-noise ratio, estimated "
        "from each utterance, is under this many dB is noisy: the recogniser's confidence "
        "means less there, so a command that acts is asked back unless each of its values "
        "was heard at `sure_in_noise` or better (0 never)."
    )
    sure_in_noise: float = Field(
        0.9, ge=0.0, le=1.0, description="How sure the recogniser must be of a value (a "
        "number, a label, an item) in a noisy room for a command to act on it unasked."
    )


class TTSConfig(Section):
    voice: str = Field("piper-joe-medium", description="Catalogue name or a piper .onnx voice.")


class _Tuning(Section):
    """A subsection of [voice] whose keys are described by their docstrings: measured and
    calibrated values, there to experiment with rather than to set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              use_attribute_docstrings=True)


class VadConfig(_Tuning):
    """[voice.vad]: webrtcvad on every frame, Silero VAD on a finished utterance."""

    aggressiveness: Annotated[int, Field(ge=0, le=3)] = 2
    """webrtcvad mode 0-3; higher rejects more noise."""
    onset_frames: Frames = 3
    """Voiced frames within onset_window that start speech (60 ms)."""
    onset_window: Frames = 5
    """The frames over which onset_frames are counted."""
    barge_onset_frames: Frames = 2
    """Voiced frames that start speech while the assistant talks (40 ms): that onset only
    pauses playback, which resumes if the sound turns out to be no request."""
    pre_roll_s: Seconds = 0.3
    """Audio kept from before the onset and put in front of the utterance."""
    min_rms: Annotated[float, Field(ge=0)] = 0.004
    """Frames quieter than this are silence whatever webrtcvad says (about -48 dBFS)."""
    silero_threshold: Ratio = 0.5
    """Silero's speech probability for an utterance to count as speech (webrtcvad fires on
    steady noise, which Whisper would then happily 'transcribe')."""


class VoiceTuning(_Tuning):
    """[voice.tuning]: the loop's timings and thresholds (what each was measured against is in
    its description)."""

    speculate_after_s: Seconds = 0.08
    """Silence after which the utterance is transcribed (and answered, where that changes
    nothing) in case it is over: 0.06 paused inside words ('What | time'), 0.1 made LLM
    answers ~70 ms later."""
    first_piece_wait_s: Seconds = 0.2
    """Longest the LLM pauses after the first clause while its first sound is synthesised."""
    prefill_silence_s: Seconds = 0.04
    """Silence after which the prefiller leaves the CPU to the final decode."""
    catch_up_wait_s: Seconds = 0.2
    """Longest the prefiller waits for the listener to catch up with the microphone."""
    partial_voiced_frames: Frames = 3
    """Voiced frames in a row before the live transcript is refreshed: mid-speech only, not
    on a trailing edge where the final decode is about to run."""
    partial_max_backlog: Annotated[int, Field(ge=0)] = 2
    """Frames the listener may be behind the microphone and still refresh the live transcript
    (on a slow CPU, Whisper must not fall behind)."""
    min_voiced_frames: Frames = 5
    """An utterance with fewer voiced frames is a click or a knock; it takes more to be
    answered before its endpoint."""
    max_utterance_s: Seconds = 30.0
    """An utterance ends after this long, whatever is said."""
    barge_min_logprob: float = -0.8
    """Over the assistant's voice, a transcript less sure than this (Whisper's mean
    log-probability) is no interruption unless it is a stop."""
    interrupt_min_words: Frames = 3
    """Words that interrupt the assistant even when they make no command."""
    stop_likeness: Ratio = 0.7
    """How close up to three words over the assistant's voice must be to a stop phrase to
    stop it ('Start talking.' for 'stop talking': 0.8)."""
    resume_after_s: Seconds = 0.6
    """Silence after a sound that paused the assistant and was no interruption, before
    playback resumes: never while the user is still speaking."""
    wake_likeness: Ratio = 0.8
    """How close the first words must be to the wake phrase ('a computer': 0.82)."""
    wake_window_s: Seconds = 8.0
    """After the wake phrase alone, how long the next utterance needs none."""
    echo_tail_s: Seconds = 1.0
    """How long after the speaker falls silent its echo may still be in the microphone; the
    echo canceller runs until then."""
    echo_window_s: Annotated[float, Field(gt=0)] = 3.0
    """Seconds of the assistant speaking alone over which the echo gate measures what AEC
    leaves of its voice."""
    echo_percentile: Annotated[float, Field(gt=0, le=100)] = 98
    """The percentile of what AEC left that the gate follows (a few loud frames do not count)."""
    echo_margin: Annotated[float, Field(ge=1)] = 1.5
    """How far above what AEC left the user must be, as a multiple of it."""
    echo_floor_min: Ratio = 0.02
    """The least the gate asks, as a fraction of the assistant's level (a clean echo path)."""
    echo_floor_max: Ratio = 0.5
    """The most it asks (a reverberant room, a distorting speaker)."""
    echo_learn_frames: Frames = 25
    """Frames of the assistant speaking alone before the gate follows them."""
    echo_learn_level: Annotated[float, Field(ge=0)] = 0.01
    """The assistant's level above which its frames teach the gate."""
    echo_reference_frames: Frames = 15
    """Frames of the assistant's level the microphone is compared with (its echo is late)."""
    gate_ratio: Annotated[float, Field(gt=0)] = 0.6
    """With echo = 'gate', the fraction of the assistant's level the user must be above."""
    gate_margin: Annotated[float, Field(ge=0)] = 0.003
    """What the microphone must exceed the gate by, in both loudspeaker modes."""
    turn_finished_logp: float = -1.0
    """log P(the message ends here), from the turn model, at or above which the words are
    finished. Calibrated for SmolLM2-135M-Instruct on 30 spoken requests and their 232
    truncations: >= -1 held 48% of the whole requests and 1% of the truncations."""
    turn_unfinished_logp: float = -7.0
    """log P(the message ends here) below which the words plainly go on (53% of the
    truncations, none of the whole requests)."""


class VoiceConfig(Section):
    input_device: str = Field("", description="Microphone name or index; empty = default.")
    output_device: str = Field("", description="Speaker name or index; empty = default.")
    interruptible: bool = Field(True, description="Speaking over the assistant interrupts it.")
    echo: Literal["aec", "gate", "off"] = Field(
        "aec", description="The assistant's own voice in the microphone: 'aec' (loudspeaker) "
        "cancels it with WebRTC AEC3; 'gate' (loudspeaker, no AEC) lets only speech louder than "
        "it interrupt; 'off' (headphones) there is none."
    )
    wake_phrase: str = Field(
        "", description="Only act on utterances starting with this, e.g. 'hey computer'; "
        "empty = always listening."
    )
    push_to_talk: bool = Field(
        False, description="Listen only while toggled on with Enter in the terminal."
    )
    endpoint_s: float = Field(
        0.5, gt=0, description="Silence that ends an utterance, in seconds."
    )
    endpoint_fast_s: float = Field(
        0.25, gt=0, description="Silence that ends an utterance that is already a command."
    )
    endpoint_finished_s: float = Field(
        0.35, gt=0, description="Silence that ends a sentence the turn model judges finished."
    )
    endpoint_patient_s: float = Field(
        1.0, gt=0, description="Silence allowed after an unfinished phrase ('set a timer for')."
    )
    turn_model: str = Field(
        "smollm2-135m-instruct", description="Small chat model (catalogue name or .gguf path) "
        "that judges whether the words so far finish a sentence, to end it after "
        "endpoint_finished_s or wait endpoint_patient_s; empty = rules only."
    )
    barge_in_min_s: float = Field(
        0.15, ge=0, description="Voiced speech over the assistant needed to interrupt it; "
        "shorter sounds pause it briefly and it resumes."
    )
    speculate: bool = Field(
        True, description="Start answering during the closing silence when the answer changes "
        "nothing (the time, a sum, a question for the LLM); dropped if you go on speaking."
    )
    partial_interval_s: float = Field(
        0.4, gt=0, description="How often the live transcript is refreshed while speaking."
    )
    vad: VadConfig = Field(default_factory=VadConfig)
    tuning: VoiceTuning = Field(default_factory=VoiceTuning)
