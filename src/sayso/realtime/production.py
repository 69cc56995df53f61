"""Producing a reply: the reply's clauses, each spoken by TTS, all posted to the engine.

Runs as one task per reply; the blocking work (the LLM's token stream, TTS) runs in worker
threads and stops at its next item once the reply's ``cancel`` is set (a barge-in).
"""

from __future__ import annotations

from collections.abc import Callable

from sayso.realtime import events as ev
from sayso.realtime.reply import Reply
from sayso.realtime.turn import Assistant, TurnTimings
from sayso.realtime.workers import background_after_first, in_thread

Post = Callable[[ev.Inbound], None]


async def produce(reply: Reply, assistant: Assistant, post: Post, clock: Callable[[], float]) -> None:
    """Clauses -> TTS for ``reply``: post each clause, its audio, then ``ReplyProduced``."""
    timings = TurnTimings()
    index = -1
    if reply.announcement:
        think = lambda: iter([reply.announcement])  # noqa: E731
    else:
        think = lambda: background_after_first(assistant.think(reply.user_text, timings, reply.cancel))  # noqa: E731
    async for clause in in_thread(think, reply.cancel):
        if reply.metrics.llm_first_token is None:
            reply.metrics.llm_first_token = timings.llm_first_token
        index = await _speak(reply, assistant, clause, index, post, clock)
    post(ev.ReplyProduced(reply.id))


async def _speak(
    reply: Reply, assistant: Assistant, clause: str, index: int, post: Post, clock: Callable[[], float]
) -> int:
    """Post ``clause`` (after a notice, if the voice had to change) and its audio, piece by piece
    as TTS makes it; returns the index of the last clause posted."""
    started = clock()
    said: str | None = None
    async for text, audio in in_thread(lambda: assistant.spoken(clause), reply.cancel):
        if text != said:
            said, index = text, index + 1
            post(ev.ClauseReady(reply.id, text))
        if reply.metrics.tts_first_audio is None:
            reply.metrics.tts_first_audio = clock() - started
        post(ev.AudioReady(reply.id, index, audio))
    return index
