"""The built-in skills. Registered through the ``assistant.skills`` entry point like any
third-party plugin.

The order of ``__all__`` is the order the fast path tries their patterns: specific before
general. ``recall`` first ("remind me about the dentist" is a question, not a reminder);
reminders before timers and alarms ("remind me to check the timer in 5 minutes");
``cancel_reminder`` before ``cancel_timer`` and ``forget``; the lists before ``calculate`` and
``system_status`` ("add 2 batteries to the shopping list"); ``cancel_timer`` before
``list_timers`` before ``set_timer``; the catch-all ``calculate`` (any digit) late; ``stop``
last. ``restore_timers`` and ``restore_reminders`` run once when an assistant starts.
"""

from skills.clock import (
    cancel_alarm,
    cancel_timer,
    get_date,
    get_time,
    list_timers,
    restore_timers,
    set_alarm,
    set_timer,
)
from skills.lists import add_to_list, clear_list, read_list, remove_from_list
from skills.maths import calculate, convert_units
from skills.memory import forget, recall, remember
from skills.reminders import cancel_reminder, list_reminders, restore_reminders, set_reminder
from skills.system import stop, system_status

# Not sorted (ruff RUF022): the order is the fast path's order, see above.
__all__ = [  # noqa: RUF022
    "recall",
    "set_reminder",
    "cancel_reminder",
    "list_reminders",
    "clear_list",
    "remove_from_list",
    "add_to_list",
    "read_list",
    "cancel_timer",
    "cancel_alarm",
    "list_timers",
    "set_timer",
    "set_alarm",
    "get_date",
    "get_time",
    "calculate",
    "convert_units",
    "forget",
    "remember",
    "system_status",
    "stop",
    "restore_timers",
    "restore_reminders",
]
