"""A WebSocket client for the realtime protocol, for the tests."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
from websockets.sync.client import ClientConnection, connect

from sayso.audio.frames import SAMPLE_RATE
from sayso.errors import TooFast
from sayso.server.protocol import BURST_SECONDS, Pace
from sayso.testing import silence, tone
from tests.server.conftest import Live


def open_socket(live: Live, token: str | None = "alice-token-0123456789", **kwargs: Any) -> ClientConnection:
    query = f"?token={token}" if token else ""
    return connect(f"ws://{live.url}/v1/realtime{query}", open_timeout=10, **kwargs)


def next_event(ws: ClientConnection, wanted: str, audio: list[bytes] | None = None) -> dict[str, Any]:
    """Events up to the first of type ``wanted`` (binary audio on the way is collected)."""
    while True:
        message = ws.recv(timeout=15)
        if isinstance(message, bytes):
            if audio is not None:
                audio.append(message)
            continue
        event = json.loads(message)
        if event["type"] == wanted:
            return event
        if event["type"] == "error" and wanted != "error":
            raise AssertionError(f"unexpected error event: {event}")


def speak(ws: ClientConnection, seconds: float) -> None:
    """Stream a tone (speech to the fake VAD), then silence, in 0.1 s PCM messages."""
    samples = np.concatenate([tone(seconds).samples, silence(1.0).samples])
    pcm = (samples * 32767).astype("<i2").tobytes()
    for start in range(0, len(pcm), 3200):
        send_audio(ws, pcm[start : start + 3200])


_PACES: dict[int, Pace] = {}


def send_audio(ws: ClientConnection, pcm: bytes) -> None:
    """Send microphone audio no faster than a real microphone would, beyond a burst smaller than
    the server's (which drops audio that runs further ahead of real time)."""
    pace = _PACES.setdefault(id(ws), Pace(burst=BURST_SECONDS - 2))
    while not _admitted(pace, len(pcm) / 2 / SAMPLE_RATE):
        time.sleep(0.05)
    ws.send(pcm)


def _admitted(pace: Pace, seconds: float) -> bool:
    try:
        return pace.admit(seconds)
    except TooFast:  # the server's way of saying so; here the client simply waits
        return False
