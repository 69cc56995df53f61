"""Stopping blocking streams (``until``) and the priority of a reply's later work."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator

import pytest

from sayso.realtime.workers import background_after_first
from sayso.streams import until


def test_until_closes_the_stream_within_one_item_of_cancel() -> None:
    made: list[int] = []
    closed: list[bool] = []

    def tokens() -> Iterator[str]:
        try:
            for i in range(100):
                made.append(i)
                yield str(i)
        finally:
            closed.append(True)

    cancel = threading.Event()
    out = []
    for token in until(cancel, tokens()):
        out.append(token)
        if len(out) == 3:
            cancel.set()
    assert out == ["0", "1", "2"] and len(made) == 4 and closed == [True]


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread CPU priority is a Linux feature")
def test_background_after_first_lowers_the_thread_priority_after_the_first_item() -> None:
    seen: list[int] = []  # the producing thread's niceness when each item is made
    closed: list[bool] = []

    def clauses() -> Iterator[str]:
        try:
            for i in range(3):
                seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
                yield str(i)
        finally:
            closed.append(True)

    def consume() -> None:
        stream = background_after_first(clauses(), niceness=5)
        assert next(stream) == "0"
        assert next(stream) == "1"
        stream.close()  # a barge-in: the stream below is closed too

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=consume)  # a thread of its own, as a reply's worker is
    worker.start()
    worker.join()
    assert seen == [base, min(base + 5, 19)] and closed == [True]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # this thread untouched
