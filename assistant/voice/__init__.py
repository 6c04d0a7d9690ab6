"""The realtime voice loop, as stages joined by queues of typed frames.

Microphone → :mod:`.listener` → :mod:`.responder` → :mod:`.synthesis` → speaker, with the
:mod:`.prefiller` beside the listener. What travels between them is in :mod:`.frames`, a
stage's thread and queue in :mod:`.stage`, each reply's life in :mod:`.reply`, the loop's pure
decisions in :mod:`.rules`, what it reports in :mod:`.events`, and the Assistant's hooks in
:mod:`.assistant_port`. :mod:`.loop` wires them together; :mod:`.app` is ``assistant voice``
and :mod:`.view` its live view.
"""
