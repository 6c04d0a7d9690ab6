"""The built-in skills. Registered through the ``assistant.skills`` entry point like any
third-party plugin; the order below is the order the fast path tries their patterns
(specific before general: ``cancel_timer`` before ``stop``, ``list_timers`` before ``set_timer``).
"""

from skills.clock import cancel_timer, get_date, get_time, list_timers, set_alarm, set_timer
from skills.maths import calculate, convert_units
from skills.memory import forget, recall, remember
from skills.system import stop, system_status

__all__ = [
           "calculate",
           "cancel_timer",
           "convert_units",
           "forget",
           "get_date",
           "get_time",
           "list_timers",
           "recall",
           "remember",
           "set_alarm",
           "set_timer",
           "stop",
           "system_status",
]
