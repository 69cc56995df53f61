"""The HTTP API with fake models: OpenAI-compatible endpoints, the page API, and bad input."""

from __future__ import annotations

import dataclasses
import io
import json
from types import MappingProxyType

import numpy as np
import pytest
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.testing import silence, tone
from sayso.voices.catalog import Consent, Provenance, Voice
from tests.server.conftest import REPLY, TOKENS, client, fake_workspace

ALICE = {"Authorization": "Bearer alice-token-0123456789"}
BOB = {"Authorization": "Bearer bob-token-0123456789ab"}


def wav_bytes(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format="WAV")
    return buffer.getvalue()


def transcribe(workspace: Workspace, data: bytes, **form: str) -> tuple[int, dict | str]:
    response = client(workspace).post("/v1/audio/transcriptions", files={"file": ("q.wav", data)}, data=form)
    is_json = response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json() if is_json else response.text


def test_transcription_answers_in_openai_shapes(workspace: Workspace) -> None:
    assert transcribe(workspace, wav_bytes(tone(1.0))) == (200, {"text": "What is the capital of France?"})
    assert transcribe(workspace, wav_bytes(tone(1.0)), response_format="text") == (
        200,
        "What is the capital of France?",
    )
    status, verbose = transcribe(workspace, wav_bytes(tone(1.0)), response_format="verbose_json")
    assert status == 200 and isinstance(verbose, dict) and verbose["duration"] == pytest.approx(1.0)


def test_silence_transcribes_to_empty_text(workspace: Workspace) -> None:
    assert transcribe(workspace, wav_bytes(silence(1.0))) == (200, {"text": ""})


@pytest.mark.parametrize(
    ("data", "form", "status", "code"),
    [
        (b"this is not audio at all", {}, 415, "not_audio"),
        (b"", {}, 415, "not_audio"),
        (wav_bytes(tone(1.0)), {"response_format": "docx"}, 400, "invalid_request"),
        (wav_bytes(tone(1.0)), {"language": "fr"}, 400, "invalid_request"),
    ],
)
def test_bad_uploads_are_refused_clearly(workspace: Workspace, data: bytes, form: dict, status: int, code: str) -> None:
    got, body = transcribe(workspace, data, **form)
    assert got == status and isinstance(body, dict)
    assert body["error"]["code"] == code and "/tmp" not in body["error"]["message"]


def test_oversize_uploads_are_refused_before_reading() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, max_upload_bytes=50_000))
    status, body = transcribe(workspace, wav_bytes(tone(2.0)))
    assert status == 413 and isinstance(body, dict) and body["error"]["code"] == "too_large"
    assert transcribe(workspace, wav_bytes(tone(1.0)))[0] == 200  # the server keeps serving


def test_oversize_bodies_without_a_length_are_cut_off() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, max_upload_bytes=10_000))
    chunks = (b"x" * 4096 for _ in range(10))
    response = client(workspace).post(
        "/v1/chat/completions", content=chunks, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_too_long_audio_is_refused() -> None:
    workspace = fake_workspace()
    workspace.settings = dataclasses.replace(workspace.settings, max_input_seconds=0.5)
    status, body = transcribe(workspace, wav_bytes(tone(1.0)))
    assert status == 413 and isinstance(body, dict) and "The uploaded file lasts" in body["error"]["message"]


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus", "pcm"])
def test_speech_in_a_consented_voice(workspace: Workspace, fmt: str) -> None:
    response = client(workspace).post(
        "/v1/audio/speech", json={"input": "Hello there.", "voice": "joe", "response_format": fmt}
    )
    assert response.status_code == 200 and len(response.content) > 100
    if fmt == "wav":
        data, rate = sf.read(io.BytesIO(response.content))
        assert rate == 24_000 and len(data) / rate == pytest.approx(0.05 * len("Hello there."), rel=0.05)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"input": "Hello", "voice": "alloy"}, 404, "unknown_voice"),
        ({"input": "Hello", "voice": "joe", "response_format": "aac"}, 400, "invalid_request"),
        ({"input": "", "voice": "joe"}, 400, "invalid_request"),
        ({"input": "x" * 5000, "voice": "joe"}, 400, "invalid_request"),
        ({"voice": "joe"}, 400, "invalid_request"),
    ],
)
def test_bad_speech_requests(workspace: Workspace, body: dict, status: int, code: str) -> None:
    response = client(workspace).post("/v1/audio/speech", json=body)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_chat_completion_whole_and_streamed(workspace: Workspace) -> None:
    http = client(workspace)
    request = {"model": "anything", "messages": [{"role": "user", "content": "Capital of France?"}]}
    whole = http.post("/v1/chat/completions", json=request).json()
    assert whole["object"] == "chat.completion" and whole["choices"][0]["message"]["content"] == REPLY
    lines = http.post("/v1/chat/completions", json={**request, "stream": True}).text.strip().split("\n\n")
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == REPLY
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_chat_with_text_parts_and_bad_bodies(workspace: Workspace) -> None:
    http = client(workspace)
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_tokens": 3}
    assert http.post("/v1/chat/completions", json=parts).json()["choices"][0]["message"]["content"] == "Paris is the"
    assert http.post("/v1/chat/completions", json={"messages": []}).status_code == 400
    assert (
        http.post(
            "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    bad_role = {"messages": [{"role": "wizard", "content": "hi"}]}
    assert http.post("/v1/chat/completions", json=bad_role).json()["error"]["code"] == "invalid_request"


def test_tokens_are_required_and_checked() -> None:
    http = client(fake_workspace(ServerOptions(port=8765, tokens=TOKENS)))
    missing = http.get("/api/voices")
    wrong = http.get("/api/voices", headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer" and "needs a token" in missing.json()["error"]["message"]
    assert "not valid" in wrong.json()["error"]["message"]
    assert http.get("/api/voices", headers=ALICE).status_code == 200
    assert http.get("/").status_code == 200  # the page itself holds nothing personal


def test_memories_are_per_user_and_can_be_forgotten() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, tokens=TOKENS))
    kept = workspace.memories("alice").add("My cat is called Tom.", 1.0)
    workspace.memories("alice").add("I live in Lisbon.", 2.0)
    workspace.memories("bob").add("I like green tea.", 3.0)
    http = client(workspace)

    def texts(headers: dict[str, str]) -> list[str]:
        return [m["text"] for m in http.get("/api/memories", headers=headers).json()["memories"]]

    assert texts(ALICE) == ["My cat is called Tom.", "I live in Lisbon."]
    assert texts(BOB) == ["I like green tea."]
    not_hers = http.delete(f"/api/memories/{kept.id}", headers=BOB)
    assert not_hers.status_code == 404 and not_hers.json()["error"]["code"] == "memory_not_found"
    assert http.delete(f"/api/memories/{kept.id}", headers=ALICE).json() == {"forgotten": 1}
    assert texts(ALICE) == ["I live in Lisbon."]
    assert http.delete("/api/memories", headers=BOB).json() == {"forgotten": 1}
    assert texts(BOB) == [] and texts(ALICE) == ["I live in Lisbon."]


def test_voice_cards_show_consent(workspace: Workspace) -> None:
    cards = {card["id"]: card for card in client(workspace).get("/api/voices").json()["voices"]}
    assert {"joe", "espeak-us"} <= set(cards)
    assert cards["joe"]["consent"] and cards["joe"]["source"] and cards["joe"]["licence"]
    assert cards["joe"]["status"] == "active"


def test_foreign_origins_and_hosts_are_refused(workspace: Workspace) -> None:
    http = client(workspace)
    body = {"messages": [{"role": "user", "content": "hi"}]}
    foreign = http.post("/v1/chat/completions", json=body, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "evil.example" in foreign.json()["error"]["message"]
    rebound = http.get("/api/memories", headers={"Host": "evil.example:8765"})
    assert rebound.status_code == 403
    own = http.post("/v1/chat/completions", json=body, headers={"Origin": "http://127.0.0.1:8765"})
    assert own.status_code == 200 and own.headers["access-control-allow-origin"] == "http://127.0.0.1:8765"


def test_static_page_is_served(workspace: Workspace) -> None:
    http = client(workspace)
    page = http.get("/")
    assert page.status_code == 200 and 'id="transcript"' in page.text
    assert "registerProcessor" in http.get("/static/capture-worklet.js").text


def test_pcm_speech_is_raw_16_bit(workspace: Workspace) -> None:
    response = client(workspace).post(
        "/v1/audio/speech", json={"input": "Hi.", "voice": "joe", "response_format": "pcm"}
    )
    samples = np.frombuffer(response.content, dtype="<i2")
    assert len(samples) == pytest.approx(0.05 * 3 * 24_000, rel=0.05) and np.abs(samples).max() > 1000


def test_a_lent_voice_is_visible_and_usable_only_by_its_owner() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, tokens=TOKENS))
    lent = Voice(
        "alice-own", "Alice's own voice", "espeak", MappingProxyType({"voice": "en-us"}), Provenance("recorded", "own"),
        Consent("Alice agreed: personal assistant", "alice", "personal assistant", "", 1),
    )  # fmt: skip
    store = workspace.voice_store
    with workspace.db.transaction() as conn:
        store.add_in(conn, lent)
    http = client(workspace)
    alices = {card["id"]: card for card in http.get("/api/voices", headers=ALICE).json()["voices"]}
    bobs = {card["id"] for card in http.get("/api/voices", headers=BOB).json()["voices"]}
    assert alices["alice-own"]["owner"] == "alice" and alices["alice-own"]["scope"] == "personal assistant"
    assert "alice-own" not in bobs and "joe" in bobs
    refused = http.post("/v1/audio/speech", json={"input": "Hi.", "voice": "alice-own"}, headers=BOB)
    assert refused.status_code == 404 and "alice-own" not in refused.json()["error"]["message"].split("voices are:")[1]
    assert http.post("/v1/audio/speech", json={"input": "Hi.", "voice": "alice-own"}, headers=ALICE).status_code == 200
