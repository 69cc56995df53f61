"""Blocking inference off the event loop: iterate a blocking iterator in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TypeVar

from sayso.streams import close

T = TypeVar("T")
_DONE = object()
LATER_ITEMS_NICENESS = 10
"""How much lower the CPU priority of a reply's LLM is once its first clause is out (``background_after_first``)."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


async def in_thread(make: Callable[[], Iterable[T]], cancel: threading.Event) -> AsyncIterator[T]:
    """Yield the items of ``make()``, which is built and iterated in a worker thread.

    Setting ``cancel`` stops the thread before its next item (a generator such as the LLM's
    token stream then stops generating); items are yielded here as soon as they exist.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()  # this consumer is gone (``cancel`` may be shared by several)

    def post(item: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop closed while this thread finished
            stop.set()

    def work() -> None:
        try:
            for item in make():
                if cancel.is_set() or stop.is_set():
                    break
                post(item)
        except Exception as error:  # handed to the awaiting side, raised there
            post(_Failed(error))
        finally:
            post(_DONE)

    # not a daemon: at exit Python waits for it (it stops at its next item) instead of killing
    # it inside native inference code
    thread = threading.Thread(target=work, name="sayso-worker")
    thread.start()
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()


def background_after_first(items: Iterable[T], niceness: int = LATER_ITEMS_NICENESS) -> Iterator[T]:
    """The items of ``items``; after the first, the thread iterating them runs at lower CPU priority.

    A reply's LLM keeps writing while TTS speaks its first clause, and on two cores they compete:
    the first audio waits on a CPU the next clause does not need yet (the first clause plays for a
    second or more). Lowering the LLM thread's priority once the first clause is out lets TTS go
    first and the LLM use what is left. Linux only (per-thread niceness); elsewhere a no-op. The
    thread is the reply's own worker (``in_thread``), so the change ends with it.
    """
    iterator = iter(items)
    first = True
    try:
        for item in iterator:
            yield item
            if first:
                first = False
                _lower_priority(niceness)
    finally:
        close(iterator)


def _lower_priority(niceness: int) -> None:
    """Lower the calling thread's CPU priority by ``niceness`` (Linux; a no-op where not possible)."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):  # not allowed here: carry on at the same priority
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + niceness)
