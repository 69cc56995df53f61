"""Bounded pools for blocking work, so that a crowd of model requests cannot take every thread.

FastAPI runs plain (``def``) handlers, and Starlette iterates plain streaming bodies, in one
shared pool of 40 threads; the page, static files and health checks need the same pool. Model
work (a chat reply, speech, a transcription) waits for the model's own lock anyway, so more than
a few threads of it only hold threads: it runs on its own pool of ``MODEL_THREADS``, and requests
beyond that wait as coroutines, which cost no thread. Realtime sessions use ``asyncio.to_thread``
(the event loop's executor), which is apart from both.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

MODEL_THREADS = 4
"""Threads for model work at once: enough to keep the STT, LLM and TTS each busy, and no more."""

P = ParamSpec("P")
T = TypeVar("T")
# Work beyond the threads waits in the pool's queue (a request that leaves first is dropped from it).
_pool = ThreadPoolExecutor(MODEL_THREADS, thread_name_prefix="sayso-model")


async def model_work(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` on the model pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(function, *args, **kwargs))


async def model_stream(items: Iterator[T]) -> AsyncIterator[T]:
    """``items``, each produced on the model pool (a streamed reply's pieces)."""
    done = object()
    try:
        while (item := await model_work(next, items, done)) is not done:
            yield item  # type: ignore[misc]
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # the client left: the generator's own clean-up frees the model at once
