"""Deciding what kind of request an utterance is, before anything acts."""
