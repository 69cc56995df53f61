"""Reading ahead: the LLM reads the next prompt while the user is still speaking.

Each new partial transcript lets the mind have the LLM read the prompt of a reply to the words
so far (``Mind.prefill``), so the reply reads only what the final transcript adds; after a reply,
the next prompt's history is read while no one speaks. One read at a time; it gives way (``stop``)
when the final transcript starts, the one the user is waiting for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from sayso.mind.mind import Mind


class ReadAhead:
    """The read-ahead of one engine."""

    def __init__(self, mind: Mind) -> None:
        self.mind = mind
        self._stop: threading.Event | None = None  # the read under way; set: it gives way

    def work(self, text: str) -> Callable[[], Awaitable[None]] | None:
        """The work reading the prompt up to ``text`` (to run as a task), or None if a read is under way."""
        if self._stop is not None:
            return None  # one at a time: the next transcript will do it
        stop = self._stop = threading.Event()

        async def read() -> None:
            try:
                await asyncio.to_thread(self.mind.prefill, text, stop)
            finally:
                self._stop = None

        return read

    def stop(self) -> None:
        """Make the read under way, if any, give way at its next step."""
        if self._stop is not None:
            self._stop.set()
