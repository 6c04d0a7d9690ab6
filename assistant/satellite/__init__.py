"""A room's satellite: microphone, echo cancellation, VAD, barge-in and speaker on the small
device, everything else on the hub (``assistant serve``), over Wyoming events.

* :mod:`.link`: the connection to the hub (its own thread; reconnects with back-off).
* :mod:`.loop`: the 20 ms audio loop: onset → stream to the hub; answers → the speaker.
* :mod:`.app`: ``assistant satellite``.
"""
