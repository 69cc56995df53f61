"""Stopping blocking streams: ``until``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

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
