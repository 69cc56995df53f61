"""Blocking inference off the event loop: iterate a blocking iterator in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


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
