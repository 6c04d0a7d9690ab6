"""The realtime voice loop, as stages joined by queues of typed frames (:mod:`.frames`).

Microphone → :mod:`.listener` → :mod:`.responder` → :mod:`.synthesis` → speaker, with the
:mod:`.prefiller` beside the listener, each reply's life in :mod:`.reply`, the loop's pure
decisions in :mod:`.rules` and what it reports in :mod:`.events`. :mod:`.loop` wires them
together; :mod:`.app` is ``assistant voice``.
"""
