"""The assistant on the network, over the Wyoming protocol (Home Assistant's voice protocol).

* :mod:`.wire`: events read with limits, and a connection that outlives a bad client.
* :mod:`.pcm`: raw PCM in any format to 16 kHz frames.
* :mod:`.stt`: speech to text for one client, with the voice loop's own listener.
* :mod:`.conversations`: many conversations over one set of models.
* :mod:`.services`: the models and the threads they run on.
* :mod:`.info`: what the server offers (``Describe`` → ``Info``).
* :mod:`.handler`: one client's requests.
* :mod:`.server`: the TCP port (``assistant serve``).
"""
