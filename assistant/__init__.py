"""An offline, on-device voice assistant.

The package is split by concern: ``config`` (settings), ``models`` (the model
catalogue and where weights live), ``llm`` (the LLM: llama.cpp in-process, or an
OpenAI-compatible model server), ``skills``
(the function-calling registry), ``fastpath`` (LLM-free command matching),
``agent`` (one conversational turn end to end), ``chat`` (the text front-end)
and ``cli`` (the ``assistant`` command).
"""

__version__ = "0.1.0"


class AssistantError(Exception):
    """An error the user can fix; the CLI prints its message as one line, never a traceback."""
