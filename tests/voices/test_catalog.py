"""The catalog and the one door every utterance goes through: consent re-checked, guard, mark, record."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from sayso.config import Settings
from sayso.errors import UnknownVoice, VoiceRevoked
from sayso.realtime.turn import Assistant
from sayso.speech.tts.http import HTTPTTS
from sayso.testing import FakeGuard, FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, tone
from sayso.voices.catalog import PRESETS, Consent, Provenance, Voice, all_voices, find_voice
from sayso.voices.speaker import ConsentedTTS, VoiceServices


def lent_voice(services: VoiceServices, voice_id: str = "anna-1a2b", engine: str = "fake") -> Voice:
    """A lent voice stored as finish_lending stores one (its checks are tested in test_consent)."""
    with services.ledger.transaction() as conn:
        entry = services.ledger.append_in(conn, "lend", {"voice_id": voice_id, "accepted": True})
        voice = Voice(voice_id, "Anna (lent)", engine, {}, Provenance("Anna's recordings", "lent"),
                      Consent("Anna agreed", "Anna", "for replies", "", entry.seq))  # fmt: skip
        services.store.add_in(conn, voice)
    return voice


def test_presets_carry_provenance_and_consent() -> None:
    for voice in PRESETS:
        assert voice.provenance.source and voice.provenance.licence and voice.consent.summary
        assert voice.status == "active" and not voice.lent
    assert "CC0" in find_voice("joe").provenance.licence


def test_unknown_and_revoked_voices_are_refused_by_name(services: VoiceServices) -> None:
    with pytest.raises(UnknownVoice, match="no voice called 'nobody'"):
        find_voice("nobody", services.store)
    voice = lent_voice(services)
    assert find_voice(voice.id, services.store).lent
    assert [v.id for v in all_voices(services.store)][-1] == voice.id
    services.consents.revoke_as_admin(voice.id, "test")
    with pytest.raises(VoiceRevoked, match="'anna-1a2b' is revoked"):
        find_voice(voice.id, services.store)
    assert all_voices(services.store)[-1].status == "revoked"  # still listed, with its status


def test_each_utterance_is_marked_and_recorded(services: VoiceServices) -> None:
    voice = lent_voice(services)
    tts = ConsentedTTS(FakeTTS(), voice, services)
    text = "Hello there, friend."
    audio = tts.synthesize(text)
    plain = FakeTTS().synthesize(text)  # a low tone: too narrow-band to detect in, so compare samples
    assert len(audio.samples) == len(plain.samples) and not np.array_equal(audio.samples, plain.samples)
    record = services.ledger.entries("utterance")[-1].body
    assert record["voice_id"] == voice.id and record["consent_record"] == voice.consent.record
    assert record["text_sha256"] != record["audio_sha256"] and len(record["audio_sha256"]) == 64
    assert tts.stats.audio_seconds > 0 and tts.stats.per_piece_ms_per_audio_s
    assert services.ledger.verify() == 2


def test_revocation_takes_effect_at_the_next_utterance(services: VoiceServices) -> None:
    voice = lent_voice(services)
    inner = FakeTTS()
    tts = ConsentedTTS(inner, voice, services)
    tts.synthesize("First.")
    services.consents.revoke_as_admin(voice.id, "")
    with pytest.raises(VoiceRevoked) as caught:
        tts.synthesize("Second.")
    assert caught.value.voice_id == voice.id and inner.spoken == ["First."]


def test_a_guard_refusal_blocks_a_lent_voice(services: VoiceServices) -> None:
    voice = lent_voice(services)
    services.guard = FakeGuard(refuse_voices=[voice.id])
    with pytest.raises(VoiceRevoked, match="likeness guard"):
        ConsentedTTS(FakeTTS(), voice, services).synthesize("Hello.")
    assert services.store.get(voice.id) is not None and services.store.get(voice.id).status == "blocked"  # type: ignore[union-attr]
    assert services.ledger.entries("utterance") == []  # blocked audio is never played, so never recorded


def test_a_conversation_switches_to_the_default_voice_and_says_so(services: VoiceServices) -> None:
    settings = Settings(home=str(services.data_dir))
    models = fake_models(settings, vad=FakeVAD(), stt=FakeSTT("hi"), llm=FakeLLM("One. Two. Three."))
    models.__dict__["voice_services"] = services
    voice = lent_voice(services)
    lent_inner, joe_inner = FakeTTS(), FakeTTS()
    models._voices = {
        voice.id: ConsentedTTS(lent_inner, voice, services),
        "joe": ConsentedTTS(joe_inner, find_voice("joe"), services),
    }
    assistant = Assistant(models, voice)
    assistant.reply_to(tone(1.0))
    assert lent_inner.spoken[-3:] == ["One.", "Two.", "Three."] and joe_inner.spoken == []
    before = len(lent_inner.spoken)
    services.consents.revoke_as_admin(voice.id, "")
    result = assistant.reply_to(tone(1.0))
    assert assistant.voice.id == "joe" and len(lent_inner.spoken) == before
    assert "no longer available" in result.reply.clauses[0] and result.reply.clauses[-3:] == ["One.", "Two.", "Three."]
    assert joe_inner.spoken[0] == result.reply.clauses[0] and joe_inner.spoken[-3:] == ["One.", "Two.", "Three."]
    assert "no longer available" in assistant.conversation.messages_for("next")[-2].content


def test_models_refuse_to_build_a_revoked_voice(services: VoiceServices) -> None:
    models = fake_models(Settings(home=str(services.data_dir)))
    models.__dict__["voice_services"] = services
    voice = lent_voice(services, engine="http")
    services.consents.revoke_as_admin(voice.id, "")
    with pytest.raises(VoiceRevoked):
        models.tts(voice)  # the http backend (which would read the reference) is never built


def wav_bytes(seconds: float = 0.5, rate: int = 24_000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds, rate).samples, rate, format="WAV")
    return buffer.getvalue()


def test_the_http_backend_sends_the_reference_only_while_consent_holds(services: VoiceServices, tmp_path: Path) -> None:
    reference = tmp_path / "reference.wav"
    reference.write_bytes(wav_bytes(1.0, 16_000))
    requests: list[dict[str, str]] = []

    def server(request: httpx.Request) -> httpx.Response:
        requests.append(json.loads(request.content))
        return httpx.Response(200, content=wav_bytes())

    voice = lent_voice(services, engine="http")
    params = {"url": "http://clone.local:8020", "voice": "anna", "reference": str(reference)}
    tts = ConsentedTTS(HTTPTTS(params, httpx.MockTransport(server)), voice, services)
    audio = tts.synthesize("Good morning.")
    assert audio.rate == 24_000 and tts.rate == 24_000 and audio.duration == pytest.approx(0.5, abs=0.01)
    assert requests[0]["input"] == "Good morning." and requests[0]["voice"] == "anna"
    assert base64.b64decode(requests[0]["reference_audio"]) == reference.read_bytes()
    services.consents.revoke_as_admin(voice.id, "")
    with pytest.raises(VoiceRevoked):
        tts.synthesize("Again.")
    assert len(requests) == 1
