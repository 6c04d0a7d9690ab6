"""One conversational turn, end to end: decide what kind of request it is, then answer it.

``Assistant.turn(text)`` is the whole brain that the text chat and the voice loop share:

0. A question the assistant asked is answered first (a clarification's missing value, a
   yes or no to a proposed call: :mod:`assistant.understand.dialogue`). Then the utterance
   is classified (:mod:`assistant.understand.classify`): a question about the assistant, an
   undo or correction of the last action, a command, a near-command (ask for what is
   missing), a domain no skill serves (say so), or chat. Only commands the user gave, or
   calls the user confirmed, change anything.
1. The fast path (:mod:`assistant.fastpath`) matches skill patterns; a hit runs the skill and
   its result is the reply, with no LLM at all.
2. Otherwise the LLM decides, under a JSON-schema grammar, which tools to call (possibly
   none). Read-only calls run, once per skill; a call that acts is grounded in the user's
   words (:mod:`assistant.understand.grounding`) and put to the user as a question unless
   the model is trusted with tools (``llm.tools_trusted``); results go back to the model, up
   to ``llm.max_tool_steps`` rounds (:mod:`assistant.agent.answer`).
3. Unless the utterance is small talk, the memory is searched
   (:mod:`assistant.memory.retrieval`). When a sentence of the user's notes answers the
   question closely enough, it is the answer (``memory.answer = "quote"``). Otherwise the
   relevant passages are quoted in the user message for the answer (never for the tool
   decision: a document cannot choose a tool).
   The model streams the spoken answer, led by where the passages came from ("From your
   note on ...: ").

Modules: ``assistant`` (the Assistant: conversation state and the turn's dispatch),
``commands`` (the paths that run, ask about, undo or amend a command), ``answer`` (the LLM
path), ``prompt`` (the system message and the tool decision), ``result`` (what a turn gives
back).
"""

from assistant.agent.assistant import Assistant
from assistant.agent.prompt import decide, decision_schema, system_message
from assistant.agent.result import TurnKind, TurnMetrics, TurnResult

__all__ = ["Assistant", "TurnKind", "TurnMetrics", "TurnResult", "decide", "decision_schema",
           "system_message"]
