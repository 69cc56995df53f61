"""Stopping a blocking stream (such as an LLM's tokens) from another thread."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def until(cancel: threading.Event, items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` until ``cancel`` is set; ``items`` is then closed at once.

    The mind wraps it around the LLM's token stream, so a barge-in stops generation within one
    token, not at the end of the clause being written (which could run for a second while the
    next reply wants the model).
    """
    iterator = iter(items)
    try:
        for item in iterator:
            if cancel.is_set():
                return
            yield item
    finally:
        close(iterator)


def close(iterator: Any) -> None:
    """Close ``iterator`` now if it can be (a generator runs its clean-up, e.g. releases a model)."""
    closer = getattr(iterator, "close", None)
    if closer is not None:
        closer()
