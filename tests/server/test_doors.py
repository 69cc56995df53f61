"""Every door, same behaviour: the same lines said through `sayso chat`, the realtime WebSocket
(the streaming engine, spoken; the simple engine, typed) and ``/v1/chat/completions`` take the
same route through the Mind and get the same reply. The Mind is not replaced: a spy on
``Mind.respond`` only records where each line went. (Wyoming has no reply path, only
speech-to-text and text-to-speech, so it is no door here.)"""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from sayso.cli import conversation, main
from sayso.config import Settings
from sayso.mind.mind import Mind, Reply
from sayso.realtime.models import Models
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, silence
from tests.server.conftest import REPLY, client, fakes, live_server
from tests.server.wsclient import next_event, open_socket, send_audio, speak

LINES = {
    "I want to kill myself.": "safety:crisis",
    "What's 17 times 23?": "skill:math",
    "Set a timer for minus five minutes.": "skill:ask",
    "What is the capital of France?": "llm",
}


class RouteSpy:
    """Wraps ``Mind.respond``: records each line's route, changes nothing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.routes: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        respond = Mind.respond

        def spied(mind: Mind, user_text: str, *args: Any, **kwargs: Any) -> Reply:
            reply = respond(mind, user_text, *args, **kwargs)
            with self._lock:
                self.routes.append((user_text, reply.route))
            return reply

        monkeypatch.setattr(Mind, "respond", spied)

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            taken, self.routes = self.routes, []
        return taken


def cli_chat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The replies `sayso chat` prints for LINES (on fake models, no disclosure)."""
    typed: Iterator[str] = iter(LINES)

    def fake_input(prompt: str = "") -> str:
        print(prompt, end="")
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    def models(settings: Settings) -> Models:
        return fake_models(settings, vad=FakeVAD(), stt=FakeSTT(), llm=FakeLLM(REPLY), tts=FakeTTS())

    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(conversation, "Models", models)
    monkeypatch.setattr(conversation.embed, "preload", lambda: None)
    assert main(["chat", "--ai-disclosure", ""]) == 0
    out = capsys.readouterr().out
    said = [line.split("sayso> ", 1)[1].strip() for line in out.splitlines() if "sayso> " in line]
    assert said[-1] == conversation.GOODBYE  # the chat's farewell, which no other door says
    return said[:-1]


def socket_turn(ws: ClientConnection, stt: FakeSTT, line: str) -> str:
    """Say ``line`` (the fake STT hears it), play the whole reply, and return its text."""
    stt.texts = [line]
    speak(ws, 1.0)
    assert next_event(ws, "transcript.final")["text"] == line
    segment = next_event(ws, "audio.start")["segment"]
    ws.send(json.dumps({"type": "playback", "segment": segment, "played": 10**9}))
    for _ in range(100):  # the engine reads the report on its next frames, once the reply is all made
        send_audio(ws, silence(0.1).to_int16().tobytes())
        try:
            while True:
                message = ws.recv(timeout=0.1)
                event = {} if isinstance(message, bytes) else json.loads(message)
                if event.get("type") == "reply.done":
                    return str(event["text"])
        except TimeoutError:
            pass
    raise AssertionError("no reply.done")


def test_chat_the_realtime_socket_and_the_openai_api_take_the_same_route(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spy = RouteSpy(monkeypatch)
    expected = list(LINES.items())
    by_cli = cli_chat(monkeypatch, capsys)
    assert spy.take() == expected

    models = fakes()
    with live_server(models) as live, open_socket(live, None) as ws:
        next_event(ws, "session.ready")
        stt = models.stt
        assert isinstance(stt, FakeSTT)
        by_socket = [socket_turn(ws, stt, line) for line in LINES]
    assert [route for route in spy.take() if route[0]] == expected  # the read-ahead asks nothing of respond

    with live_server(fakes(), engine="simple") as simple, open_socket(simple, None) as ws:
        next_event(ws, "session.ready")
        by_typing = []
        for line in LINES:  # the simple engine also takes typed text
            ws.send(json.dumps({"type": "text", "text": line}))
            by_typing.append(next_event(ws, "reply.done")["text"])
    assert spy.take() == expected

    http = client(live.workspace)
    by_api = [
        http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": line}]}).json()["choices"][0][
            "message"
        ]["content"]
        for line in LINES
    ]
    assert spy.take() == expected
    assert by_cli == by_socket == by_typing == by_api
    assert "988" in by_api[0] and by_api[1] == "That's 391." and "below zero" in by_api[2] and by_api[3] == REPLY
