"""Rates and quotas: token guessing is stopped, one user cannot hoard sessions, and the server
sends a lender's recording only to a cloning backend an admin allowed (fake models)."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from sayso.errors import AccessDenied, TooFast
from sayso.server.lenders import MAX_SESSIONS
from sayso.server.security import MAX_FAILURES, FailedAuth, ServerOptions
from sayso.server.workspace import MAX_SESSIONS_PER_USER
from tests.server.conftest import TOKENS, client, fake_workspace, fakes, live_server
from tests.server.test_http import ALICE, BOB
from tests.server.test_trust_api import WAV, start
from tests.server.wsclient import next_event, open_socket

WRONG = {"Authorization": "Bearer wrong-token-0123456789"}


def test_token_guessing_is_stopped_after_a_few_failures() -> None:
    http = client(fake_workspace(ServerOptions(port=8765, tokens=TOKENS)))
    answers = [http.get("/api/session", headers=WRONG).status_code for _ in range(MAX_FAILURES)]
    assert answers == [401] * MAX_FAILURES
    stopped = http.get("/api/session", headers=WRONG)
    assert stopped.status_code == 429 and "wrong tokens" in stopped.json()["error"]["message"]
    # the right token is not even checked now: a guess that happens to be right gains nothing
    assert http.get("/api/session", headers=ALICE).status_code == 429


def test_right_tokens_do_not_count_and_the_window_slides() -> None:
    now = [0.0]
    limiter = FailedAuth(limit=3, window=60.0, clock=lambda: now[0])
    options = ServerOptions(port=8765, tokens=TOKENS)
    for _ in range(10):
        assert limiter.user(options, "1.2.3.4", "alice-token-0123456789") == "alice"
    for _ in range(3):
        with pytest.raises(AccessDenied):
            limiter.user(options, "1.2.3.4", "nope")
    with pytest.raises(TooFast):
        limiter.user(options, "1.2.3.4", "alice-token-0123456789")
    assert limiter.user(options, "5.6.7.8", "alice-token-0123456789") == "alice"  # another address
    now[0] = 61.0
    assert limiter.user(options, "1.2.3.4", "alice-token-0123456789") == "alice"


def test_one_user_cannot_open_consent_sessions_without_end() -> None:
    http = client(fake_workspace(ServerOptions(port=8765, tokens=TOKENS)))
    for _ in range(MAX_SESSIONS):
        start(http, ALICE)
    refused = http.post("/api/voices/lend", json={"name": "Anna Smith"}, headers=ALICE)
    assert refused.status_code == 429 and "consent sessions" in refused.json()["error"]["message"]
    assert http.post("/api/voices/lend", json={"name": "Bob Jones"}, headers=BOB).status_code == 200


def test_one_user_cannot_hold_more_realtime_sessions_than_the_quota() -> None:
    with live_server(fakes()) as live:
        sockets = [open_socket(live, None) for _ in range(MAX_SESSIONS_PER_USER)]
        for ws in sockets:
            next_event(ws, "session.ready")
        with open_socket(live, None) as extra:
            refused = next_event(extra, "error")
        assert refused["status"] == 429
        sockets.pop().close()
        with open_socket(live, None) as again:  # a slot is free once a session ends
            next_event(again, "session.ready")
        for ws in sockets:
            ws.close()


def finish_with(http: TestClient, url: str) -> tuple[int, str]:
    session = start(http, ALICE)["session"]
    files = [("samples", ("s.wav", WAV)), ("consent", ("c.wav", WAV))]
    response = http.post(f"/api/voices/lend/{session}", files=files, data={"tts_url": url}, headers=ALICE)
    return response.status_code, str(response.json()["error"]["message"])


def test_a_user_cannot_make_the_server_call_an_address_of_their_choosing() -> None:
    with socket.socket() as listener:  # an "internal service" the server could reach
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        internal = f"http://127.0.0.1:{listener.getsockname()[1]}"
        allowed = ServerOptions(port=8765, tokens=TOKENS, clone_backends=("http://tts.local/",))
        status, message = finish_with(client(fake_workspace(allowed)), internal)
        assert status == 400 and "not a cloning TTS server" in message and "http://tts.local" in message
        status, message = finish_with(client(fake_workspace(ServerOptions(port=8765, tokens=TOKENS))), internal)
        assert status == 400 and "--clone-backend" in message
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody called


def test_an_allowed_backend_passes_with_or_without_its_trailing_slash() -> None:
    options = ServerOptions(port=8765, clone_backends=("http://tts.local/",))
    assert options.clone_backend("http://tts.local") == "http://tts.local"
    assert options.clone_backend(" http://tts.local/ ") == "http://tts.local"
