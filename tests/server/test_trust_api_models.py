"""The lending and likeness API on the real checking models: Whisper, Silero VAD, Resemblyzer and the guard.

Piper's joe plays the person lending their voice (their samples and their reading of the fresh
statement); VCTK speaker p225 (real recordings) is a person protected from imitation. Only the
LLM and the speaking TTS are fakes: no conversation happens here.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import SileroVAD
from sayso.realtime.models import Models
from sayso.server.workspace import Workspace
from sayso.speech.tts import TTS, make_tts
from sayso.testing import FakeLLM, FakeTTS, fake_models, silence
from sayso.voices.embedding import FusedEmbedder, ResemblyzerEmbedder
from tests.server.conftest import REPLY, FakeEmbedder, client, server_settings
from tests.server.test_http import ALICE, BOB, wav_bytes
from tests.server.test_trust_api import ADMINS
from tests.speechdata import recordings
from tests.voices.conftest import embedder, fused_embedder, steady_challenge  # noqa: F401 - shared fixtures
from tests.voices.test_consent import SAMPLE_TEXTS

pytestmark = [pytest.mark.models, pytest.mark.usefixtures("steady_challenge")]
TTS_URL = {"tts_url": "http://tts.local"}  # a backend ADMINS allows


@pytest.fixture(scope="module")
def joe() -> TTS:
    return make_tts("piper", {})


@pytest.fixture(scope="module")
def samples(joe: TTS) -> list[tuple[str, tuple[str, bytes]]]:
    return [("samples", (f"joe-{i}.wav", wav_bytes(joe.synthesize(text)))) for i, text in enumerate(SAMPLE_TEXTS)]


@pytest.fixture
def trusted(
    models: Models,
    embedder: ResemblyzerEmbedder,  # noqa: F811
    fused_embedder: FusedEmbedder,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    """A server (Alice the admin, Bob a user) checking with the real models, in the test's own data directory."""
    # every embedder the trust layer builds is the one already loaded: still the real model
    monkeypatch.setattr("sayso.voices.embedding.ResemblyzerEmbedder", lambda: embedder)
    monkeypatch.setattr("sayso.voices.speaker.ResemblyzerEmbedder", lambda: embedder)
    monkeypatch.setattr("sayso.voices.likeness.load_embedder", lambda *_: fused_embedder)
    base = fake_models(server_settings(), vad=models.vad, stt=models.stt, llm=FakeLLM(REPLY), tts=FakeTTS())
    workspace = Workspace(base, ADMINS, embedder=FakeEmbedder)
    workspace.new_vad = SileroVAD
    return workspace


def start_lending(http: TestClient) -> dict[str, Any]:
    response = http.post("/api/voices/lend", json={"name": "Anna Smith"}, headers=ALICE)
    assert response.status_code == 200, response.json()
    return dict(response.json())


def finish_lending_raw(http: TestClient, session: str, samples: list, consent: Audio) -> Response:
    files = [*samples, ("consent", ("consent.wav", wav_bytes(consent)))]
    return http.post(f"/api/voices/lend/{session}", files=files, data=TTS_URL, headers=ALICE)


def finish_lending(http: TestClient, session: str, samples: list, consent: Audio) -> dict[str, Any]:
    response = finish_lending_raw(http, session, samples, consent)
    assert response.status_code == 200, response.json()
    return dict(response.json())


def voice_ids(http: TestClient, headers: dict[str, str]) -> set[str]:
    return {card["id"] for card in http.get("/api/voices", headers=headers).json()["voices"]}


def test_a_voice_is_lent_and_then_revoked_by_its_owner(trusted: Workspace, samples: list, joe: TTS) -> None:
    http = client(trusted)
    session = start_lending(http)
    lent = finish_lending(http, session["session"], samples, joe.synthesize(session["statement"]))
    assert lent["accepted"] is True and lent["reasons"] == [], lent
    scores = lent["scores"]
    assert scores["challenge_found"] is True and scores["statement_match"] >= 0.7
    assert scores["speaker_score"] >= scores["speaker_threshold"] and scores["guard"]["allowed"] is True
    card = lent["voice"]
    assert card["id"] == session["voice_id"] and card["status"] == "active" and card["owner"] == "Anna Smith"
    assert card["consent_record"] == lent["ledger_entry"] and card["consent"] == session["statement"]
    entry = trusted.trust.ledger.entries("lend")[-1]
    assert entry.seq == lent["ledger_entry"] and entry.body["scores"] == scores  # the answer is the ledger's
    assert card["id"] in voice_ids(http, ALICE) and card["id"] not in voice_ids(http, BOB)

    again = finish_lending_raw(http, session["session"], samples, joe.synthesize(session["statement"]))
    assert again.status_code == 409 and "already used" in again.json()["error"]["message"]
    assert http.post(f"/api/voices/{card['id']}/revoke", headers=BOB).status_code == 404

    revocation = http.post(f"/api/voices/{card['id']}/revoke", headers=ALICE).json()
    reading = {"recording": ("me.wav", wav_bytes(joe.synthesize(revocation["statement"])))}
    revoked = http.post(f"/api/voices/revoke/{revocation['session']}", files=reading, headers=ALICE).json()
    assert revoked["accepted"] is True and revoked["scores"]["speaker_score"] >= 0.82, revoked
    card = {c["id"]: c for c in http.get("/api/voices", headers=ALICE).json()["voices"]}[card["id"]]
    assert card["status"] == "revoked" and "revoked by its owner" in card["reason"]
    assert trusted.trust.ledger.verify() == 2


def test_a_stale_phrase_is_refused_with_its_reason(trusted: Workspace, samples: list, joe: TTS) -> None:
    http = client(trusted)
    session = start_lending(http)
    stale = session["statement"].split("My phrase is")[0] + "My phrase is: the same words as last week."
    refused = finish_lending(http, session["session"], samples, joe.synthesize(stale))
    assert refused["accepted"] is False and len(refused["reasons"]) == 1, refused
    assert "challenge phrase" in refused["reasons"][0] and refused["scores"]["challenge_found"] is False
    message = refused["message"]
    assert message.startswith("Refused: ") and f"ledger entry {refused['ledger_entry']}" in message
    assert trusted.trust.ledger.entries("lend")[-1].body["accepted"] is False  # recorded either way
    assert session["voice_id"] not in voice_ids(http, ALICE)
    retry = finish_lending_raw(http, session["session"], samples, joe.synthesize(session["statement"]))
    assert retry.status_code == 409 and "fresh phrase" in retry.json()["error"]["message"]


def vctk(speaker: str) -> list[tuple[str, bytes]]:
    return [(r.path.name, r.path.read_bytes()) for r in recordings("vctk") if r.speaker == f"vctk-{speaker}"]


def test_a_protected_person_is_checked_for_and_cannot_be_lent(trusted: Workspace, joe: TTS) -> None:
    http = client(trusted)
    p225 = vctk("p225")
    protected = http.post(
        "/api/admin/likeness/people",
        files=[("files", file) for file in p225[:3]],
        data={"name": "Pat Doe"},
        headers=ALICE,
    )
    assert protected.status_code == 201, protected.json()
    person = protected.json()["person"]
    assert person["name"] == "Pat Doe" and person["files"] == 3 and "not the audio" in protected.json()["kept"]
    listed = http.get("/api/admin/likeness/people", headers=ALICE).json()["people"]
    assert listed == [person]
    twice = http.post("/api/admin/likeness/people", files=[("files", p225[0])], data={"name": "Pat Doe"}, headers=ALICE)
    assert twice.status_code == 409 and "already protected" in twice.json()["error"]["message"]

    verdict = http.post("/api/likeness/check", files={"file": p225[5]}, headers=BOB).json()
    assert verdict["allowed"] is False and verdict["verdict"] == "same person", verdict
    assert verdict["file"] == p225[5][0] and verdict["matches"][0]["name"] == "Pat Doe"
    assert "nearest" not in verdict  # a user who is not an admin cannot list the registry by checking
    other = http.post("/api/likeness/check", files={"file": vctk("p226")[0]}, headers=ALICE).json()
    assert other["allowed"] is True and "nearest" in other

    # Pat's own recordings lent by someone else, who reads the statement in joe's voice
    session = start_lending(http)
    lend_files = [("samples", file) for file in p225[3:7]]
    refused = finish_lending(http, session["session"], lend_files, joe.synthesize(session["statement"]))
    reasons = " | ".join(refused["reasons"])
    assert refused["accepted"] is False and "'Pat Doe'" in reasons, refused
    assert "does not match the samples' speaker" in reasons and refused["scores"]["guard"]["allowed"] is False

    removed = http.delete("/api/admin/likeness/people/Pat Doe", headers=ALICE)
    assert removed.status_code == 200 and removed.json()["removed"]["id"] == person["id"]
    assert http.get("/api/admin/likeness/people", headers=ALICE).json() == {"people": []}
    assert http.post("/api/likeness/check", files={"file": p225[5]}, headers=BOB).json()["allowed"] is True


def test_a_check_needs_speech(trusted: Workspace) -> None:
    response = client(trusted).post("/api/likeness/check", files={"file": ("quiet.wav", wav_bytes(silence(2.0)))})
    assert response.status_code == 401  # a token first
    response = client(trusted).post(
        "/api/likeness/check", files={"file": ("quiet.wav", wav_bytes(silence(2.0)))}, headers=BOB
    )
    assert response.status_code == 400 and "speech" in response.json()["error"]["message"], response.json()


def test_protecting_needs_five_seconds_of_speech(trusted: Workspace) -> None:
    clip = read_audio(recordings("vctk")[0].path).resampled(16_000)
    scant = ("scant.wav", wav_bytes(Audio(clip.samples[8_000:48_000], 16_000)))  # about 2 s of speech
    response = client(trusted).post(
        "/api/admin/likeness/people", files=[("files", scant)], data={"name": "Scant"}, headers=ALICE
    )
    assert response.status_code == 400, response.json()
    assert "needs at least 5 s" in response.json()["error"]["message"]
    assert client(trusted).get("/api/admin/likeness/people", headers=ALICE).json() == {"people": []}
