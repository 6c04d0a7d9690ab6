"""The speech side: everything between the sound card and words, with no knowledge of the
conversation.

* :mod:`~assistant.speech.audio`: audio files, resampling, the clocks that drive the loop
  (a sound card, or a file standing in for the microphone), simulated echo;
* :mod:`~assistant.speech.echo`: our own voice cancelled from the microphone (WebRTC AEC3);
* :mod:`~assistant.speech.vad`: voiced frames, speech onsets, pre-roll, Silero's second opinion;
* :mod:`~assistant.speech.asr`: Whisper for short utterances, and streamed while they are spoken;
* :mod:`~assistant.speech.words`: how an utterance was heard (words, probabilities, noise);
* :mod:`~assistant.speech.noise`: how far the speech stood above the room's noise;
* :mod:`~assistant.speech.turn`: has the user finished? (rules, then a small LLM);
* :mod:`~assistant.speech.tts`: text made speakable, cut into clauses, synthesised by Piper;
* :mod:`~assistant.speech.player`: the speaker's queue (pause, hold, stop, what was heard).

The voice loop (:mod:`assistant.voice`) puts them together.
"""
