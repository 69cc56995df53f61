"""Lending and revoking a voice, for real: synthesised recordings, Whisper, Silero VAD and Resemblyzer.

Piper's joe plays the person lending their voice; eSpeak plays someone else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.errors import ConsentRefused, InputError, UnknownVoice, VoiceRevoked
from sayso.realtime.models import Models
from sayso.speech.tts import TTS, make_tts
from sayso.testing import FakeGuard, silence, tone
from sayso.voices import catalog, consent
from sayso.voices.catalog import find_voice
from sayso.voices.consent import Checks, Scope, Session, match_statement
from sayso.voices.embedding import ResemblyzerEmbedder
from sayso.voices.speaker import VoiceServices

SAMPLE_TEXTS = (
    "The morning train was late again, so I walked along the river to the office.",
    "My grandmother grew tomatoes, beans and sunflowers in a small garden behind the house.",
    "When the weather turns cold, I like to read by the window with a cup of tea.",
)
pytestmark = pytest.mark.usefixtures("steady_challenge")
HTTP = {"url": "http://localhost:8020", "voice": "lent"}


@pytest.fixture(scope="module")
def joe() -> TTS:
    return make_tts("piper", {})


@pytest.fixture(scope="module")
def someone_else() -> TTS:
    return make_tts("espeak", {"voice": "en-us"})


@pytest.fixture(scope="module")
def samples(joe: TTS) -> list[Audio]:
    return [joe.synthesize(text) for text in SAMPLE_TEXTS]


@pytest.fixture
def checks(models: Models, embedder: ResemblyzerEmbedder) -> Checks:
    return Checks(lambda audio: models.stt.transcribe(audio).text, embedder, models.vad, FakeGuard())


def lend(services: VoiceServices, until: str = "") -> Session:
    return services.consents.start_lending("Anna Smith", Scope(until=until))


def test_statement_matching_is_tolerant_but_needs_the_challenge() -> None:
    expected = "I am Anna Smith. I agree that Sayso may speak in my voice. My phrase is apple river candle tiger."
    heard = "I am Ana Smith, I agree that Say so may speak in my voice. My phrase is apple, river, candle, tiger."
    ratio, found = match_statement(expected, "apple river candle tiger", heard)
    assert ratio > 0.75 and found
    _, found = match_statement(expected, "apple river candle tiger", heard.replace("tiger", "purple"))
    assert found  # one misheard word of four is tolerated
    _, found = match_statement(
        expected, "apple river candle tiger", heard.replace("tiger", "purple").replace("river", "cat")
    )
    assert not found


def test_each_session_draws_a_fresh_challenge(services: VoiceServices, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    challenges = {lend(services).challenge for _ in range(5)}
    assert len(challenges) == 5
    for challenge in challenges:
        words = challenge.split()
        assert len(set(words)) == consent.CHALLENGE_LENGTH and set(words) <= set(consent.CHALLENGE_WORDS)


def test_the_owner_lends_and_then_revokes_their_voice(
    services: VoiceServices, checks: Checks, samples: list[Audio], joe: TTS
) -> None:
    session = lend(services)
    assert session.statement.endswith(f"My phrase is: {', '.join(session.challenge.split())}.")
    assert "Anna Smith" in session.statement
    voice = services.consents.finish_lending(
        session.id, samples, joe.synthesize(session.statement), checks, "http", HTTP
    )
    assert find_voice(voice.id, services.store).status == "active"
    entry = services.ledger.entries("lend")[-1]
    assert entry.seq == voice.consent.record and entry.body["accepted"] is True
    assert entry.body["scores"]["speaker_score"] >= checks.threshold and entry.body["scores"]["challenge_found"]
    assert isinstance(checks.guard, FakeGuard) and checks.guard.enrolments == 1
    with pytest.raises(ConsentRefused, match="already used"):
        services.consents.finish_lending(session.id, samples, joe.synthesize(session.statement), checks, "http", HTTP)

    reference = Path(voice.params["reference"])
    stored = services.store.get(voice.id)
    assert reference.is_file() and stored is not None and stored.voiceprint is not None

    revocation = services.consents.start_revocation(voice.id)
    services.consents.finish_revocation(revocation.id, joe.synthesize(revocation.statement), checks)
    with pytest.raises(VoiceRevoked, match="revoked by its owner"):
        find_voice(voice.id, services.store)
    assert services.ledger.verify() == 2
    revoked = services.store.get(voice.id)  # the record stays; the voice's audio and voiceprint go
    assert revoked is not None and revoked.voiceprint is None and not reference.exists()


def refusal(services: VoiceServices, session: Session, samples: list[Audio], consent: Audio, checks: Checks) -> str:
    with pytest.raises(ConsentRefused) as caught:
        services.consents.finish_lending(session.id, samples, consent, checks, "http", HTTP)
    entry = services.ledger.entries("lend")[-1]
    assert entry.body["accepted"] is False and entry.body["reasons"]  # recorded either way
    assert services.store.lent() == []
    return str(caught.value)


def test_a_wrong_phrase_is_refused(services: VoiceServices, checks: Checks, samples: list[Audio], joe: TTS) -> None:
    session = lend(services)
    stale = session.statement.split("My phrase is")[0] + "My phrase is: the same words as last week."
    assert "challenge phrase" in refusal(services, session, samples, joe.synthesize(stale), checks)
    with pytest.raises(ConsentRefused, match="already used"):  # a refusal uses up the challenge
        services.consents.finish_lending(session.id, samples, joe.synthesize(session.statement), checks, "http", HTTP)


def test_another_speaker_is_refused(
    services: VoiceServices, checks: Checks, samples: list[Audio], someone_else: TTS
) -> None:
    session = lend(services)
    message = refusal(services, session, samples, someone_else.synthesize(session.statement), checks)
    assert "does not match the samples' speaker" in message


@pytest.mark.parametrize("consent", [silence(6.0), tone(6.0, hz=440.0)], ids=["silence", "tone"])
def test_silence_and_tones_are_refused(
    services: VoiceServices, checks: Checks, samples: list[Audio], consent: Audio
) -> None:
    message = refusal(services, lend(services), samples, consent, checks)
    assert "no speech was found" in message or "does not say the statement" in message


def test_music_is_refused(services: VoiceServices, checks: Checks, samples: list[Audio]) -> None:
    t = np.arange(6 * 16_000) / 16_000
    notes = sum(
        np.sin(2 * np.pi * hz * t) * (np.sin(2 * np.pi * beat * t) > 0) for hz, beat in ((262, 2), (330, 3), (392, 1))
    )
    music = Audio((0.1 * notes).astype(np.float32), 16_000)
    message = refusal(services, lend(services), samples, music, checks)
    assert "no speech was found" in message or "does not say the statement" in message


def test_too_short_samples_are_refused(services: VoiceServices, checks: Checks, joe: TTS) -> None:
    session = lend(services)
    message = refusal(services, session, [joe.synthesize("Hello there.")], joe.synthesize(session.statement), checks)
    assert "fewer than the 8 s needed" in message


def test_the_likeness_guard_can_refuse(services: VoiceServices, checks: Checks, samples: list[Audio], joe: TTS) -> None:
    checks.guard = FakeGuard(refuse_enrolment="A Famous Actor")
    session = lend(services)
    assert "A Famous Actor" in refusal(services, session, samples, joe.synthesize(session.statement), checks)


def test_consent_expires(
    services: VoiceServices, checks: Checks, samples: list[Audio], joe: TTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    session = lend(services, until=tomorrow)
    voice = services.consents.finish_lending(
        session.id, samples, joe.synthesize(session.statement), checks, "http", HTTP
    )
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    monkeypatch.setattr(catalog, "now", lambda: later)
    with pytest.raises(VoiceRevoked, match="expired"):
        find_voice(voice.id, services.store)


def test_only_the_owner_or_an_admin_revokes(
    services: VoiceServices, checks: Checks, samples: list[Audio], joe: TTS, someone_else: TTS
) -> None:
    session = lend(services)
    voice = services.consents.finish_lending(
        session.id, samples, joe.synthesize(session.statement), checks, "http", HTTP
    )
    revocation = services.consents.start_revocation(voice.id)
    with pytest.raises(ConsentRefused, match="does not match the samples' speaker"):
        services.consents.finish_revocation(revocation.id, someone_else.synthesize(revocation.statement), checks)
    assert find_voice(voice.id, services.store).status == "active"
    assert services.ledger.entries("revoke")[-1].body["accepted"] is False
    services.consents.revoke_as_admin(voice.id, "the owner asked by email")
    with pytest.raises(VoiceRevoked, match="administrator"):
        find_voice(voice.id, services.store)
    assert not Path(voice.params["reference"]).exists()
    with pytest.raises(ConsentRefused, match="already revoked"):
        services.consents.revoke_as_admin(voice.id, "")
    with pytest.raises(UnknownVoice, match="presets cannot be revoked"):
        services.consents.start_revocation("joe")
    with pytest.raises(ConsentRefused, match="no lend session"):
        services.consents.finish_lending("nope", samples, samples[0], checks, "http", HTTP)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        services.consents.start_lending("Anna", Scope(until="next spring"))
