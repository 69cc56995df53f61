"""Every door's delivered audio checks as Sayso speech: `sayso say`/`reply`, /v1/audio/speech, Wyoming.

The TTS is the fake tone behind the real consent wrapper and the real watermarker, so each clause
gets its real utterance record and each delivery its real delivery record.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import c2pa
import numpy as np
import pytest
import soundfile as sf
from wyoming.client import AsyncTcpClient

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.cli import conversation
from sayso.config import load_settings
from sayso.realtime.models import Models
from sayso.server.backends import OUTPUT_RATE
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, silence, tone
from sayso.voices.catalog import Voice
from sayso.voices.credentials import MIME_TYPES
from sayso.voices.delivery import deliver, write_delivered
from sayso.voices.ledger import Entry
from sayso.voices.provenance import check_file
from sayso.voices.speaker import ConsentedTTS, VoiceServices
from tests.server.conftest import FakeEmbedder, client, live_server
from tests.server.test_wyoming import run_with_server, synthesize
from tests.server.wsclient import next_event, open_socket, speak
from tests.test_cli import run
from tests.voices.test_catalog import lent_voice

REPLY = "Paris is the French capital. It sits on the river Seine. Many people visit it every spring."


def consented_models(services: VoiceServices) -> Models:
    """Fake STT, LLM and TTS; every voice's TTS behind the real consent wrapper of ``services``."""
    models = fake_models(load_settings({"ai_disclosure": ""}), vad=FakeVAD(), stt=FakeSTT("Where is Paris?"),
                         llm=FakeLLM(REPLY))  # fmt: skip
    models.__dict__["voice_services"] = services
    wrappers: dict[str, ConsentedTTS] = {}
    models.tts = lambda voice: wrappers.setdefault(voice.id, ConsentedTTS(FakeTTS(), voice, services))  # type: ignore[method-assign]
    return models


def test_a_reply_of_several_clauses_checks_as_sayso_speech_in_every_file_format(
    capsys: pytest.CaptureFixture[str], services: VoiceServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = consented_models(services)
    monkeypatch.setattr(conversation, "Models", lambda settings: models)
    question = write_audio(tmp_path / "question.wav", tone(1.0))
    for suffix in (".wav", ".flac", ".ogg", ".mp3"):
        answer = tmp_path / f"answer{suffix}"
        assert run(capsys, "reply", str(question), "-o", str(answer))[0] == 0
        out = run(capsys, "provenance", "check", str(answer))[1]
        assert "is Sayso speech in the voice 'joe'" in out and "by sayso reply" in out, out
        assert "3 clause record(s)" in out and "signed record intact" in out and "preset" in out


def test_said_mp3_checks_and_a_cut_copy_still_shows_the_watermark(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    said = tmp_path / "said.mp3"
    assert run(capsys, "say", "The weather is fine today. Enjoy your walk in the park.", "-o", str(said))[0] == 0
    out = run(capsys, "provenance", "check", str(said))[1]
    assert "is Sayso speech in the voice 'joe'" in out and "by sayso say as mp3" in out, out
    audio = read_audio(said)
    cut = write_audio(tmp_path / "cut.wav", Audio(audio.samples[len(audio.samples) // 3 :], audio.rate))
    out = run(capsys, "provenance", "check", str(cut))[1]
    assert "carries the Sayso watermark" in out and "matches no provenance record" in out, out


def test_the_http_speech_route_delivers_checkable_files(services: VoiceServices, tmp_path: Path) -> None:
    workspace = Workspace(consented_models(services), ServerOptions(port=8765), embedder=FakeEmbedder)
    web = client(workspace)
    for fmt, suffix in (("wav", ".wav"), ("flac", ".flac"), ("mp3", ".mp3"), ("opus", ".ogg")):
        response = web.post("/v1/audio/speech", json={"input": "Hello from the web door.", "voice": "joe",
                                                      "response_format": fmt})  # fmt: skip
        assert response.status_code == 200, response.text
        path = tmp_path / f"speech{suffix}"
        path.write_bytes(response.content)
        finding = check_file(path, services.ledger, services.watermarker, services.credentials.root_pem)
        assert finding.record is not None and finding.record.kind == "delivery", finding.message
        assert "in the voice 'joe'" in finding.message and "by the HTTP API" in finding.message
        if fmt != "opus":  # C2PA defines no manifest for OGG
            assert "C2PA Content Credentials are valid (Trusted" in finding.message, finding.message
            assert_credentials(response.content, MIME_TYPES[fmt], finding.record)


def test_a_lent_voice_through_wyoming_says_whether_consent_held(services: VoiceServices, tmp_path: Path) -> None:
    voice = lent_voice(services)
    workspace = Workspace(consented_models(services), ServerOptions(), embedder=FakeEmbedder)
    received: list[bytes] = []

    async def session(wyoming: AsyncTcpClient) -> None:
        received.append((await synthesize(wyoming, "Spoken through the Wyoming door.", voice.id))[1])

    run_with_server(workspace, session)
    saved = tmp_path / "wyoming.wav"  # what a client does with the stream: keep its samples
    sf.write(saved, np.frombuffer(received[0], dtype="<i2"), OUTPUT_RATE, subtype="PCM_16")
    services.consents.revoke_as_admin(voice.id, "")
    message = check_file(saved, services.ledger, services.watermarker).message
    assert f"in the voice '{voice.id}'" in message and "by Wyoming as pcm" in message
    assert "Consent was valid when it was spoken" in message and "revoked later" in message


def assert_credentials(data: bytes, mime: str, record: Entry) -> None:
    """c2pa-python's own Reader finds the manifest valid, marked AI-generated, naming the delivery."""
    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        results = reader.get_validation_results()["activeManifest"]
        assert reader.get_validation_state() == "Valid"  # valid; its self-made root is on no trust list
        manifest = reader.get_active_manifest()
    assert [f["code"] for f in results.get("failure", [])] == ["signingCredential.untrusted"]
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    actions = assertions["c2pa.actions.v2"]["actions"]
    assert actions[0]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    claim = assertions["org.sayso.speech"]
    assert claim["voices"] == ["joe"] and claim["ledger_entry"] == record.seq
    assert claim["ledger_entry_hash"] == record.hash and manifest["signature_info"]["alg"] == "Ed25519"


def test_a_file_altered_after_signing_fails_its_credentials(services: VoiceServices, tmp_path: Path) -> None:
    wrapper = ConsentedTTS(FakeTTS(), Voice("joe", "joe", "fake"), services)
    path = write_delivered(
        services, tmp_path / "said.wav", [wrapper.synthesize("Credentials, then an edit.")], "a test"
    )
    data = bytearray(path.read_bytes())
    data[data.index(b"data") + 8 + 1001] ^= 0x55  # one sample's high byte changed (the manifest sits after it)
    path.write_bytes(bytes(data))
    message = check_file(path, services.ledger, services.watermarker, services.credentials.root_pem).message
    assert "matches no provenance record" in message or "No Sayso watermark" in message or "too short" in message
    assert "do not validate" in message and "altered after they were signed" in message, message


def test_deliver_records_the_decoded_samples_not_the_bytes(services: VoiceServices) -> None:
    wrapper = ConsentedTTS(FakeTTS(), Voice("joe", "joe", "fake"), services)
    data = deliver(services, [wrapper.synthesize("A short line.")], "mp3", "a test", OUTPUT_RATE)
    decoded, rate = sf.read(io.BytesIO(data), dtype="int16")
    record = services.ledger.entries("delivery")[-1]
    assert rate == OUTPUT_RATE and record.body["format"] == "mp3" and record.body["utterances"]
    assert record.body["unrecorded_pieces"] == 0
    assert len(decoded) > 0


def test_a_reply_streamed_over_the_websocket_checks_once_saved(services: VoiceServices, tmp_path: Path) -> None:
    with live_server(consented_models(services)) as live, open_socket(live, None) as ws:
        next_event(ws, "session.ready")
        speak(ws, 1.0)
        segment = next_event(ws, "audio.start")["segment"]
        audio: list[bytes] = []
        next_event(ws, "reply.text", audio)
        next_event(ws, "reply.text", audio)  # the last of the three clauses: its audio follows
        ws.send(json.dumps({"type": "playback", "segment": segment, "played": 10**9}))
        for _ in range(5):
            ws.send(silence(0.1).to_int16().tobytes())
        next_event(ws, "reply.done", audio)
    saved = tmp_path / "stream.wav"
    sf.write(saved, np.frombuffer(b"".join(audio), dtype="<i2"), OUTPUT_RATE, subtype="PCM_16")
    message = check_file(saved, services.ledger, services.watermarker).message
    assert "in the voice 'joe'" in message and "by the realtime WebSocket" in message, message
    assert "3 clause record(s)" in message


def test_a_reply_on_the_simple_engine_checks_once_saved(services: VoiceServices, tmp_path: Path) -> None:
    with live_server(consented_models(services), engine="simple") as live, open_socket(live, None) as ws:
        next_event(ws, "session.ready")
        ws.send(json.dumps({"type": "text", "text": "Tell me about Paris."}))
        audio: list[bytes] = []
        # the first reply loads the Mind's models, which on a busy machine outlasts next_event's wait
        while not isinstance(message := ws.recv(timeout=180), str) or json.loads(message)["type"] != "reply.done":
            if isinstance(message, bytes):
                audio.append(message)
    saved = tmp_path / "simple.wav"
    sf.write(saved, np.frombuffer(b"".join(audio), dtype="<i2"), OUTPUT_RATE, subtype="PCM_16")
    message = check_file(saved, services.ledger, services.watermarker).message
    assert "in the voice 'joe'" in message and "by the realtime WebSocket" in message, message
