"""The realtime WebSocket on the streaming engine (the default), real uvicorn, fake models:
a spoken turn, the stop button, barge-in by speech, push-to-talk and the sink's played count."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from websockets.sync.client import ClientConnection

from sayso.audio.frames import Audio
from sayso.server.backends import OUTPUT_RATE
from sayso.server.engine_session import SocketSink
from sayso.testing import silence, tone
from tests.server.conftest import REPLY, Live, fakes, live_server
from tests.server.wsclient import next_event, open_socket, send_audio, speak

FIRST_CLAUSE = "Paris is the French capital."


@pytest.fixture
def live() -> Iterator[Live]:
    with live_server(fakes()) as server:
        yield server


def ask(ws: ClientConnection) -> tuple[str, int]:
    """Speak a question; returns the reply's first clause and its playback segment."""
    next_event(ws, "session.ready")
    speak(ws, 1.0)
    assert next_event(ws, "transcript.final")["text"] == "What is the capital of France?"
    first = next_event(ws, "reply.text")["text"]
    return first, next_event(ws, "audio.start")["segment"]


def test_a_spoken_turn_runs_on_the_engine(live: Live) -> None:
    with open_socket(live, None) as ws:
        first, segment = ask(ws)
        audio: list[bytes] = []
        texts = [first] + [next_event(ws, "reply.text", audio)["text"] for _ in range(2)]
        # the engine finishes a reply once the client reports it all played (read on its next frames)
        ws.send(json.dumps({"type": "playback", "segment": segment, "played": 10**9}))
        for _ in range(5):
            send_audio(ws, silence(0.1).to_int16().tobytes())
        done = next_event(ws, "reply.done", audio)
        metrics = next_event(ws, "metrics")
    assert texts[0] == FIRST_CLAUSE and done["text"] == REPLY
    assert sum(len(chunk) for chunk in audio) > 0
    assert metrics["voice_to_voice"] is not None and metrics["voice_to_voice"] > 0
    assert [m.content for m in live.workspace.mind("local").conversation.history][1] == REPLY


def test_stop_keeps_only_what_was_heard(live: Live) -> None:
    with open_socket(live, None) as ws:
        _, segment = ask(ws)
        # the client played the first clause (FakeTTS: 50 ms a character), then pressed stop
        played = round(0.05 * len(FIRST_CLAUSE) * OUTPUT_RATE)
        ws.send(json.dumps({"type": "playback", "segment": segment, "played": played}))
        send_audio(ws, silence(0.1).to_int16().tobytes())  # the engine reads the report on its next frame
        ws.send(json.dumps({"type": "reply.stop"}))
        interrupted = next_event(ws, "reply.interrupted")
        cleared = next_event(ws, "audio.clear")
    assert interrupted["heard"] == FIRST_CLAUSE and cleared["segment"] == segment
    assert live.workspace.mind("local").conversation.history[1].content == FIRST_CLAUSE


def test_speaking_over_the_reply_pauses_then_interrupts_it(live: Live) -> None:
    with open_socket(live, None) as ws:
        ask(ws)
        speak(ws, 1.5)
        next_event(ws, "reply.paused")
        assert next_event(ws, "reply.interrupted")["heard"] == ""  # nothing had been played yet


def test_push_to_talk_hears_only_while_pressed(live: Live) -> None:
    with open_socket(live, None) as ws:
        next_event(ws, "session.ready")
        ws.send(json.dumps({"type": "session.update", "mode": "push-to-talk"}))
        assert next_event(ws, "session.updated")["mode"] == "push-to-talk"
        speak(ws, 1.0)  # not pressed: heard as silence
        ws.send(json.dumps({"type": "input.start"}))
        send_audio(ws, tone(1.0).to_int16().tobytes()[:32000])
        ws.send(json.dumps({"type": "input.end"}))
        speak(ws, 0.0)  # the silence after the release ends the turn
        events = []
        while (event := json.loads(_next_text(ws)))["type"] != "transcript.final":
            events.append(event["type"])
    assert events.count("speech.started") == 1


def test_a_typed_turn_is_answered_aloud_without_any_microphone_audio(live: Live) -> None:
    with open_socket(live, None) as ws:
        next_event(ws, "session.ready")
        ws.send(json.dumps({"type": "text", "text": "Tell me about Paris."}))
        final = next_event(ws, "transcript.final")
        audio: list[bytes] = []
        segment = next_event(ws, "audio.start", audio)["segment"]
        done = None
        while done is None:  # play it all, as the page does, and report it; no audio is ever sent
            message = ws.recv(timeout=15)
            if isinstance(message, bytes):
                audio.append(message)
                played = sum(len(a) for a in audio) // 2
                ws.send(json.dumps({"type": "playback", "segment": segment, "played": played}))
            elif (event := json.loads(message))["type"] == "reply.done":
                done = event
    assert final["text"] == "Tell me about Paris." and final["turn"] == 1
    assert done["text"] == REPLY
    history = live.workspace.mind("local").conversation.history
    assert [h.content for h in history] == ["Tell me about Paris.", REPLY]


def test_the_sink_counts_played_samples_per_segment_at_the_written_rate() -> None:
    sent: list[object] = []
    sink = SocketSink(sent.append)
    sink.write(silence(1.0, rate=16_000))
    sink.report(1, OUTPUT_RATE // 2)  # half a second played
    assert sink.played == 8_000
    sink.clear()
    sink.report(1, OUTPUT_RATE)  # a late report of a cleared segment does not count
    sink.write(silence(0.5, rate=16_000))
    sink.report(2, OUTPUT_RATE)  # more than was written: capped
    assert sink.played == 8_000 + 8_000
    kinds = [item["type"] if isinstance(item, dict) else "audio" for item in sent]
    assert kinds == ["audio.start", "audio", "audio.clear", "audio.start", "audio"]


def _next_text(ws: ClientConnection) -> str:
    while isinstance(message := ws.recv(timeout=15), bytes):
        pass
    return message


def test_a_segment_reported_played_in_full_counts_every_written_sample() -> None:
    """Piper writes 22.05 kHz pieces, sent at 24 kHz: the client's count of what it received must
    add up to everything written, or the engine waits for the rest of the reply for ever."""
    sent: list[object] = []
    sink = SocketSink(sent.append)
    for length in (26_000, 9_999, 31_415, 12_345, 27_183, 5_001, 17_777):
        sink.write(Audio(np.zeros(length, np.float32), 22_050))
    received = sum(len(item) // 2 for item in sent if isinstance(item, bytes))
    sink.report(1, received)
    assert sink.played == 26_000 + 9_999 + 31_415 + 12_345 + 27_183 + 5_001 + 17_777
