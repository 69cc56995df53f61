"""The realtime WebSocket under a careless or hostile client, on the streaming engine (real
uvicorn, fake models): audio faster than real time is dropped with an error event, a client
who leaves costs nothing more, and a turn with no pause is cut at the longest one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from sayso.server import engine_session, protocol
from sayso.testing import FakeVAD, tone
from tests.server.conftest import Live, fakes, live_server
from tests.server.wsclient import next_event, open_socket, speak


class CountingVAD(FakeVAD):
    """The fake VAD, counting the frames the engine gave it (shared by every session)."""

    frames = 0
    lock = threading.Lock()

    def probability(self, frame: np.ndarray) -> float:
        with CountingVAD.lock:
            CountingVAD.frames += 1
        return super().probability(frame)


@pytest.fixture
def live() -> Iterator[Live]:
    with live_server(fakes()) as server:
        CountingVAD.frames = 0
        server.workspace.new_vad = CountingVAD
        yield server


def flood(seconds: float) -> list[bytes]:
    pcm = tone(seconds).to_int16().tobytes()
    return [pcm[start : start + 32_000] for start in range(0, len(pcm), 32_000)]  # 1 s a message


def test_audio_faster_than_real_time_is_dropped_with_an_error_event(live: Live) -> None:
    with open_socket(live, None, max_queue=None) as ws:  # reads all, so its close is not held up
        next_event(ws, "session.ready")
        for message in flood(120):  # two minutes of audio in well under a second
            ws.send(message)
        error = next_event(ws, "error")
    assert error["code"] == "too_many_requests" and error["status"] == 429 and "real time" in error["message"]


def test_a_client_who_floods_then_leaves_costs_no_more_than_the_burst(live: Live) -> None:
    with open_socket(live, None, max_queue=None) as ws:  # reads all, so its close is not held up
        next_event(ws, "session.ready")
        for message in flood(300):
            ws.send(message)
    time.sleep(1.5)  # for the server to notice the client left and stop the session
    seen = CountingVAD.frames
    time.sleep(1.0)
    frames_per_second = 16_000 / 512
    assert CountingVAD.frames == seen  # nothing runs for the client any more
    # at most the burst (and what a second of real time refilled) was ever heard, not 300 s
    assert seen <= (protocol.BURST_SECONDS + 3) * frames_per_second


def test_speech_without_a_pause_is_cut_into_a_turn(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_session, "MAX_UTTERANCE_SECONDS", 2.0)
    with open_socket(live, None, max_queue=None) as ws:  # reads all, so its close is not held up
        next_event(ws, "session.ready")
        for message in flood(6):  # six seconds of non-stop "speech", within the burst
            ws.send(message)
        cut = next_event(ws, "input.cut")
        speak(ws, 0.0)  # then silence, as a microphone would go on sending
        final = next_event(ws, "transcript.final")
    assert cut["seconds"] == 2.0 and final["text"] == "What is the capital of France?"
