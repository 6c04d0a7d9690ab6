"""The engine's parts that need no model (assistant.llm)."""

from __future__ import annotations

import threading
import time

from assistant.llm import FairLock


def test_the_fair_lock_is_granted_in_order_of_arrival() -> None:
    lock = FairLock()
    order: list[int] = []
    lock.__enter__()
    threads = []
    for i in range(5):
        def take(i: int = i) -> None:
            with lock:
                order.append(i)
        t = threading.Thread(target=take)
        t.start()
        threads.append(t)
        time.sleep(0.05)  # each thread is waiting before the next arrives
    lock.__exit__()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_the_fair_lock_is_reentrant_and_a_releasing_thread_queues_again() -> None:
    lock = FairLock()
    got: list[str] = []
    def other() -> None:
        with lock:
            got.append("other")

    with lock, lock:
        waiter = threading.Thread(target=other)
        waiter.start()
        time.sleep(0.05)
    with lock:  # the waiter arrived first and had its turn first
        got.append("me")
    waiter.join(5)
    assert got == ["other", "me"]
