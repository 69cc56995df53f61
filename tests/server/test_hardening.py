"""Bad input at the API edge gets a clear 400, never a 500, and the connection stays usable:
control characters and lone surrogates in text, ids past SQLite's integers (fake models)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.server.conftest import client, fake_workspace, fakes, live_server

NUL = "hi\u0000there"
SURROGATE = '"hi \\ud800"'  # valid JSON, not text: sent raw, as json.dumps would escape it the same way


def raw(text: str) -> str:
    """``text`` as a JSON string literal (a lone surrogate kept as its \\u escape)."""
    return SURROGATE if text == "surrogate" else json.dumps(text)


BODIES = {
    "/v1/audio/speech": '{{"input": {}, "voice": "joe", "response_format": "wav"}}',
    "/v1/chat/completions": '{{"messages": [{{"role": "user", "content": {}}}]}}',
    "/api/voices/lend": '{{"name": {}}}',
}


@pytest.mark.parametrize("url", sorted(BODIES))
@pytest.mark.parametrize("text", [NUL, "surrogate", "bell\u0007"])
def test_text_that_is_not_text_is_a_400_naming_the_character(url: str, text: str) -> None:
    body = BODIES[url].format(raw(text))
    response = client(fake_workspace()).post(url, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    # pydantic itself refuses a surrogate in a plain str field; either way the sentence says why
    assert ("U+" in message and "not text" in message) or "unicode" in message
    assert "function-after" not in message


@pytest.mark.parametrize("ident", ["9223372036854775808", "99999999999999999999999", "-9223372036854775809", "0"])
def test_a_memory_id_outside_sqlite_integers_is_a_400(ident: str) -> None:
    response = client(fake_workspace()).delete(f"/api/memories/{ident}")
    assert response.status_code == 400 and "memory_id" in response.json()["error"]["message"]


def test_the_largest_memory_id_is_simply_not_found() -> None:
    response = client(fake_workspace()).delete("/api/memories/9223372036854775807")
    assert response.status_code == 404


def test_a_keep_alive_connection_survives_bad_requests() -> None:
    with live_server(fakes()) as live:
        host, port = live.url.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        bad: list[tuple[str, str, Any]] = [
            ("DELETE", "/api/memories/9223372036854775808", None),
            ("POST", "/v1/audio/speech", json.dumps({"input": NUL, "voice": "joe"})),
            ("POST", "/v1/chat/completions", BODIES["/v1/chat/completions"].format(SURROGATE)),
        ]
        for method, url, body in bad:
            connection.request(method, url, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status == 400
            assert response.getheader("connection") != "close"
        socket_before = connection.sock
        connection.request("GET", "/api/session")
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["user"] == "local"
        assert connection.sock is socket_before  # the same TCP connection answered
        connection.close()
