"""The lending and likeness API's rules, on fake models: who may do what, and bad input refused clearly.

What the checks decide (Whisper, Resemblyzer, the guard) is tested on real models in
``test_trust_api_models``; here nothing gets as far as a model.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.testing import tone
from sayso.voices.catalog import Consent, Provenance, Voice
from tests.server.conftest import TOKENS, client, fake_workspace
from tests.server.test_http import ALICE, BOB, wav_bytes

ADMINS = ServerOptions(port=8765, tokens=TOKENS, admins=frozenset({"alice"}), clone_backends=("http://tts.local",))
WAV = wav_bytes(tone(1.0))


@pytest.fixture
def guarded() -> Workspace:
    """Alice and Bob have tokens; Alice is the admin."""
    return fake_workspace(ADMINS)


def error(response: Response, status: int, code: str, fragment: str) -> None:
    """``response`` is the given error, with a one-sentence message holding ``fragment``."""
    assert response.status_code == status, response.json()
    message = response.json()["error"]["message"]
    assert response.json()["error"]["code"] == code and fragment in message, message
    assert "Traceback" not in message and "/tmp" not in message


def start(http: TestClient, headers: dict[str, str], name: str = "Anna Smith") -> dict:
    response = http.post("/api/voices/lend", json={"name": name, "until": "2031-01-01"}, headers=headers)
    assert response.status_code == 200, response.json()
    return dict(response.json())


def finish(http: TestClient, session: str, headers: dict[str, str], **files: bytes) -> Response:
    parts = [(field, (f"{field}.wav", data)) for field, data in files.items()]
    return http.post(f"/api/voices/lend/{session}", files=parts, data={"tts_url": "http://tts.local"}, headers=headers)


def test_starting_a_lending_gives_the_statement_and_a_fresh_challenge(guarded: Workspace) -> None:
    http = client(guarded)
    first, second = start(http, ALICE), start(http, ALICE)
    assert first["statement"].startswith("I am Anna Smith. I agree that Sayso may speak in my voice")
    assert "until 2031-01-01" in first["statement"] and first["expires_in_minutes"] == 30
    assert ", ".join(first["challenge"].split()) in first["statement"]
    assert first["session"] != second["session"] and first["challenge"] != second["challenge"]
    assert first["next"].startswith("Record yourself") and first["session"] in first["next"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "..."}, "Give the name"),
        ({"name": "Anna", "until": "next spring"}, "YYYY-MM-DD"),
        ({}, "name"),
    ],
)
def test_bad_lending_starts_are_refused(guarded: Workspace, body: dict, fragment: str) -> None:
    error(client(guarded).post("/api/voices/lend", json=body, headers=ALICE), 400, "invalid_request", fragment)


def test_a_session_is_only_its_starters(guarded: Workspace) -> None:
    http = client(guarded)
    session = start(http, ALICE)["session"]
    error(finish(http, session, BOB, samples=WAV, consent=WAV), 404, "unknown_session", "no lend session")
    unknown = finish(http, "0123456789ab", ALICE, samples=WAV, consent=WAV)
    error(unknown, 404, "unknown_session", "POST /api/voices/lend")
    revoke = http.post(f"/api/voices/revoke/{session}", files={"recording": ("r.wav", WAV)}, headers=ALICE)
    error(revoke, 404, "unknown_session", "no revoke session")  # a lend session does not finish a revocation


@pytest.mark.parametrize(
    ("send", "status", "code", "fragment"),
    [
        ({"samples": b"just some text", "consent": WAV}, 415, "not_audio", "The samples file 'samples.wav'"),
        ({"samples": WAV, "consent": b""}, 415, "not_audio", "The consent file 'consent.wav' is empty"),
        ({"samples": WAV}, 400, "invalid_request", "consent"),
        ({"consent": WAV}, 400, "invalid_request", "samples"),
    ],
)
def test_bad_recordings_are_refused_without_using_the_session(
    guarded: Workspace, send: dict[str, bytes], status: int, code: str, fragment: str
) -> None:
    http = client(guarded)
    session = start(http, ALICE)["session"]
    error(finish(http, session, ALICE, **send), status, code, fragment)
    # the session is still fresh: the same mistake is refused the same way, not as "already used"
    error(finish(http, session, ALICE, **send), status, code, fragment)


def test_the_recordings_must_be_a_multipart_form(guarded: Workspace) -> None:
    http = client(guarded)
    session = start(http, ALICE)["session"]
    sent = http.post(f"/api/voices/lend/{session}", json={"samples": "x", "consent": "y"}, headers=ALICE)
    error(sent, 415, "unsupported_media_type", "multipart/form-data")
    no_url = http.post(
        f"/api/voices/lend/{session}", files=[("samples", ("s.wav", WAV)), ("consent", ("c.wav", WAV))], headers=ALICE
    )
    error(no_url, 400, "invalid_request", "tts_url")


def test_oversize_recordings_are_refused() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, max_upload_bytes=50_000))
    http = client(workspace)
    session = start(http, {})["session"]
    error(finish(http, session, {}, samples=wav_bytes(tone(2.0)), consent=WAV), 413, "too_large", "MB limit")
    check = http.post("/api/likeness/check", files={"file": ("big.wav", wav_bytes(tone(2.0)))})
    error(check, 413, "too_large", "MB limit")


def lent_by_alice(workspace: Workspace) -> Voice:
    voice = Voice(
        "anna-1a2b", "Anna Smith (lent)", "espeak", MappingProxyType({"voice": "en-us"}), Provenance("lent", "own"),
        Consent("I am Anna Smith. I agree...", "Anna Smith", "for spoken replies", "", 1),
    )  # fmt: skip
    store = workspace.voice_store  # opened (and migrated) before the transaction
    with workspace.db.transaction() as conn:
        store.add_in(conn, voice)
    workspace.lenders.lent(voice.id, "alice")
    return voice


def test_a_voice_lent_through_the_api_is_its_lenders(guarded: Workspace) -> None:
    voice = lent_by_alice(guarded)
    http = client(guarded)
    assert voice.id in {card["id"] for card in http.get("/api/voices", headers=ALICE).json()["voices"]}
    assert voice.id not in {card["id"] for card in http.get("/api/voices", headers=BOB).json()["voices"]}
    error(http.post(f"/api/voices/{voice.id}/revoke", headers=BOB), 404, "unknown_voice", "You have no lent voice")
    started = http.post(f"/api/voices/{voice.id}/revoke", headers=ALICE).json()
    assert started["statement"].startswith("I am Anna Smith. I withdraw my consent")
    assert f"/api/voices/revoke/{started['session']}" in started["next"]


def test_only_an_admin_revokes_for_the_owner(guarded: Workspace) -> None:
    voice = lent_by_alice(guarded)
    http = client(guarded)
    path = f"/api/admin/voices/{voice.id}/revoke"
    error(http.post(path, json={"reason": "x"}, headers=BOB), 403, "admin_only", "'bob' is not one")
    error(http.get("/api/admin/voices", headers=BOB), 403, "admin_only", "'bob' is not one")
    listed = http.get("/api/admin/voices", headers=ALICE).json()["voices"]
    assert [(card["id"], card["lender"], card["status"]) for card in listed] == [(voice.id, "alice", "active")]
    error(http.post("/api/admin/voices/nobody-0000/revoke", headers=ALICE), 404, "unknown_voice", "nobody-0000")
    revoked = http.post(path, json={"reason": "the owner asked by email"}, headers=ALICE)
    assert revoked.status_code == 200 and revoked.json()["revoked"] == voice.id
    card = {c["id"]: c for c in http.get("/api/voices", headers=ALICE).json()["voices"]}[voice.id]
    assert card["status"] == "revoked" and "the owner asked by email" in card["reason"]
    assert guarded.trust.ledger.entries("revoke")[-1].body == {
        "voice_id": voice.id, "by": "admin", "accepted": True, "reasons": [], "reason": "the owner asked by email"
    }  # fmt: skip
    error(http.post(path, headers=ALICE), 409, "consent_refused", "already revoked")
    error(http.post("/api/admin/voices/joe/revoke", headers=ALICE), 404, "unknown_voice", "presets cannot be revoked")


def test_a_server_without_an_admin_refuses_admin_operations(workspace: Workspace) -> None:
    http = client(workspace)  # loopback, no tokens: every request is the local user, who is no admin
    assert http.get("/api/session").json()["admin"] is False
    for response in (
        http.get("/api/admin/likeness/people"),
        http.post("/api/admin/likeness/people", files={"files": ("a.wav", WAV)}, data={"name": "Pat"}),
        http.delete("/api/admin/likeness/people/Pat"),
        http.get("/api/admin/voices"),
        http.post("/api/admin/voices/anna-1a2b/revoke"),
    ):
        error(response, 403, "admin_only", "--admin USER")


def test_the_registry_is_for_admins_and_bad_entries_are_refused(guarded: Workspace) -> None:
    http = client(guarded)
    assert http.get("/api/session", headers=ALICE).json()["admin"] is True
    error(http.get("/api/admin/likeness/people", headers=BOB), 403, "admin_only", "'bob' is not one")
    error(http.get("/api/admin/likeness/people"), 401, "unauthorized", "needs a token")
    assert http.get("/api/admin/likeness/people", headers=ALICE).json() == {"people": []}
    error(http.delete("/api/admin/likeness/people/Nobody", headers=ALICE), 404, "unknown_person", "'Nobody'")
    text = http.post(
        "/api/admin/likeness/people", files={"files": ("notes.txt", b"not audio")}, data={"name": "Pat"}, headers=ALICE
    )
    error(text, 415, "not_audio", "The files file 'notes.txt'")
    one_file = {"files": ("a.wav", WAV)}
    nameless = http.post("/api/admin/likeness/people", files=one_file, data={"name": " "}, headers=ALICE)
    error(nameless, 400, "invalid_request", "name")
    error(http.post("/api/likeness/check", headers=BOB), 415, "unsupported_media_type", "multipart/form-data")
    empty_form = http.post("/api/likeness/check", data={"other": "x"}, files={"x": ("x", b"")}, headers=BOB)
    error(empty_form, 400, "invalid_request", "file")
