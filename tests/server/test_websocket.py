"""The realtime WebSocket on a real uvicorn (loopback), with fake models, on the simple turn
adapter (``--engine simple``): turns, interruption, bad messages and access control."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from sayso.server.protocol import MAX_AUDIO_BYTES
from tests.server.conftest import REPLY, TOKENS, Live, fakes, live_server
from tests.server.wsclient import next_event, open_socket, speak


@pytest.fixture
def live() -> Iterator[Live]:
    with live_server(fakes(), TOKENS, engine="simple") as server:
        yield server


def test_a_spoken_turn_is_transcribed_and_answered_in_audio(live: Live) -> None:
    with open_socket(live) as ws:
        ready = next_event(ws, "session.ready")
        assert ready["user"] == "alice" and ready["input_rate"] == 16000
        speak(ws, 1.0)
        next_event(ws, "speech.started")
        assert next_event(ws, "transcript.final")["text"] == "What is the capital of France?"
        audio: list[bytes] = []
        clauses = [next_event(ws, "reply.text", audio)["text"] for _ in range(3)]
        done = next_event(ws, "reply.done", audio)
    assert " ".join(clauses) == REPLY == done["text"]
    assert sum(len(chunk) for chunk in audio) == 2 * done["samples"] > 0


def test_stop_interrupts_and_history_keeps_only_what_was_heard(live: Live) -> None:
    with open_socket(live) as ws:
        next_event(ws, "session.ready")
        ws.send(json.dumps({"type": "text", "text": "Tell me about Paris."}))
        started = next_event(ws, "reply.started")
        first = next_event(ws, "reply.text")
        ws.send(json.dumps({"type": "playback", "segment": started["turn"], "played": 10}))
        ws.send(json.dumps({"type": "reply.stop"}))
        stopped = next_event(ws, "reply.interrupted")
    assert stopped["heard"] == first["text"] == "Paris is the French capital."
    history = live.workspace.mind("alice").conversation.history
    assert [m.content for m in history] == ["Tell me about Paris.", "Paris is the French capital."]


def test_speaking_over_the_reply_interrupts_it(live: Live) -> None:
    with open_socket(live) as ws:
        next_event(ws, "session.ready")
        ws.send(json.dumps({"type": "text", "text": "Tell me about Paris."}))
        turn = next_event(ws, "reply.done")["turn"]  # produced, but the client has played nothing yet
        speak(ws, 0.6)
        interrupted = next_event(ws, "reply.interrupted")
    assert interrupted == {"type": "reply.interrupted", "turn": turn, "reason": "speech", "heard": ""}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "invalid_request"),
        (json.dumps({"type": "dance"}), "invalid_request"),
        (json.dumps({"type": "playback", "segment": "one", "played": 3}), "invalid_request"),
        (json.dumps({"type": "session.update", "mode": "telepathy"}), "invalid_request"),
        (json.dumps({"type": "session.update", "voice": "alloy"}), "unknown_voice"),
        (json.dumps({"type": "input.start"}), "wrong_mode"),
        ("[" * 4000 + "]" * 4000, "invalid_request"),  # deeper than json.loads recurses
        ('{"type": "text", "text": "hi \\ud800"}', "invalid_request"),  # a lone surrogate
        (json.dumps({"type": "text", "text": "hi\u0000there"}), "invalid_request"),
        (b"\x01\x02\x03", "invalid_request"),
        (b"\x00" * (MAX_AUDIO_BYTES + 2), "too_large"),
    ],
)
def test_bad_messages_get_an_error_and_the_session_goes_on(live: Live, message: str | bytes, code: str) -> None:
    with open_socket(live) as ws:
        next_event(ws, "session.ready")
        ws.send(message)
        error = next_event(ws, "error")
        assert error["code"] == code and error["message"]
        ws.send(json.dumps({"type": "text", "text": "Still there?"}))
        assert next_event(ws, "reply.done")["text"] == REPLY


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789"])
def test_a_missing_or_wrong_token_is_refused(live: Live, token: str | None) -> None:
    with open_socket(live, token) as ws:
        error = json.loads(ws.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert error["type"] == "error" and error["status"] == 401 and "token" in error["message"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_a_page_from_another_origin_is_refused(live: Live) -> None:
    with open_socket(live, origin="http://evil.example") as ws:  # type: ignore[arg-type]
        error = json.loads(ws.recv(timeout=10))
    assert error["code"] == "unauthorized" and "evil.example" in error["message"]


def test_each_token_has_its_own_conversation(live: Live) -> None:
    with open_socket(live, "bob-token-0123456789ab") as ws:
        assert next_event(ws, "session.ready")["user"] == "bob"
        ws.send(json.dumps({"type": "text", "text": "Remember that my cat is called Tom."}))
        next_event(ws, "reply.done")
        ws.send(json.dumps({"type": "playback", "segment": 1, "played": 10**9}))
        ws.send(json.dumps({"type": "reply.stop"}))  # closes the turn, so it is recorded
    assert "Tom" in live.workspace.mind("bob").conversation.history[0].content
    assert live.workspace.mind("alice").conversation.history == []
    assert [m.text for m in live.workspace.memories("bob").all()] and not live.workspace.memories("alice").all()
