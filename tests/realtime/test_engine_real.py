"""The engine with the real embedded models, fed recorded speech at real-time pace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.realtime.events import State
from sayso.realtime.models import Models
from sayso.realtime.playback import PacedSink, realtime_frames
from sayso.realtime.turn import Assistant
from sayso.testing import silence
from sayso.voices.catalog import find_voice
from tests.speechdata import recordings


async def question_then_cut_in(engine: Engine, question: Audio, cut_in: Audio) -> AsyncIterator[np.ndarray]:
    """The question, silence until Sayso has spoken for a second, the cut-in, then a little silence."""
    async for frame in realtime_frames(question):
        yield frame
    waited = 0.0
    while engine.state != State.SPEAKING and waited < 30.0:
        async for frame in realtime_frames(silence(0.096)):
            yield frame
        waited += 0.096
    for part in (silence(1.0), cut_in, silence(1.5)):
        async for frame in realtime_frames(part):
            yield frame


def test_a_recorded_question_is_answered_and_a_recorded_cut_in_stops_the_reply(models: Models) -> None:
    question = read_audio(recordings("ljspeech")[1].path)  # "in being comparatively modern."
    cut_in = read_audio(next(r for r in recordings("librispeech") if 1.5 < r.duration < 3.5).path)
    seen: list[ev.Outbound] = []
    engine = Engine(Assistant(models, find_voice("joe")), listeners=[seen.append])
    models.vad.reset()
    asyncio.run(engine.run(question_then_cut_in(engine, question, cut_in), PacedSink(time.perf_counter)))

    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert "modern" in finals[0].lower()
    states = [e.state for e in seen if isinstance(e, ev.StateChanged)]
    assert states[:4] == [State.LISTENING, State.THINKING, State.SPEAKING, State.PAUSED]
    (interrupted,) = [e for e in seen if isinstance(e, ev.Interrupted)]
    first_reply = " ".join(e.text for e in seen[: seen.index(interrupted)] if isinstance(e, ev.ReplyClause))
    history = engine.assistant.conversation.history
    assert history[0].content == finals[0]
    assert history[1].content == interrupted.heard
    assert interrupted.heard and first_reply.startswith(interrupted.heard)
    assert len(interrupted.heard) < len(first_reply)
    (metrics,) = engine.metrics[:1]
    assert all(value is not None and value >= 0 for value in metrics.as_dict().values())
