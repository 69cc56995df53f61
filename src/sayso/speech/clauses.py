"""Cut a stream of reply text into speakable clauses, so speech can start at the first one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_SENTENCE_END = re.compile(r"[.!?;…]+[\"')\]]*\s")
_SOFT_END = re.compile(r"[,:—–]\s")
_MARKUP = re.compile(r"[*_#`~>|]+|\[(.*?)\]\(.*?\)")

MIN_SOFT_WORDS = 6
"""A comma or colon ends a clause only after this many words, so pieces are not too choppy."""


def speakable(text: str) -> str:
    """Text with markdown marks removed and spaces collapsed, fit to be read aloud."""
    text = _MARKUP.sub(lambda m: m.group(1) or " ", text)
    return " ".join(text.split())


def clauses(pieces: Iterable[str]) -> Iterator[str]:
    """Regroup streamed text pieces into clauses; the tail is flushed at the end."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        while (cut := _cut_point(buffer)) is not None:
            clause, buffer = speakable(buffer[:cut]), buffer[cut:]
            if clause:
                yield clause
    tail = speakable(buffer)
    if tail:
        yield tail


def _cut_point(buffer: str) -> int | None:
    match = _SENTENCE_END.search(buffer)
    if match:
        return match.end()
    for soft in _SOFT_END.finditer(buffer):
        if len(buffer[: soft.start()].split()) >= MIN_SOFT_WORDS:
            return soft.end()
    return None
