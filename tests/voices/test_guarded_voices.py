"""The likeness guard wired into production: lent voices checked against their own enrolment, every
voice checked when someone new is protected. Real recordings (VCTK speakers), the real embedder,
guard and calibration; only the cloning server and the language model are faked."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.audio.vad import SileroVAD
from sayso.cli import main
from sayso.config import Settings
from sayso.errors import VoiceRevoked
from sayso.realtime.turn import Assistant
from sayso.speech.tts import TTS, make_tts
from sayso.speech.tts.http import HTTPTTS
from sayso.store.db import Database
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, tone
from sayso.voices.catalog import SYNTHETIC_FALLBACK, Voice, VoiceStore, find_voice
from sayso.voices.consent import Checks, Scope
from sayso.voices.embedding import FusedEmbedder, ResemblyzerEmbedder
from sayso.voices.likeness import likeness_dir, load_calibration, load_cohort, load_guard, load_older
from sayso.voices.likeness.guard import Guard
from sayso.voices.likeness.registry import Registry
from sayso.voices.screening import SCREEN_TEXT, screen_voices
from sayso.voices.speaker import ConsentedTTS, VoiceServices
from tests.speechdata import recordings

DOUBLE_SAYS = (
    "I grew up by the sea, and every summer we sailed to the islands with my uncle.",
    "The best bread in town comes from the small bakery on the corner of the market square.",
)


@pytest.fixture(scope="module")
def vctk() -> dict[str, list[Audio]]:
    """16 kHz recordings of two VCTK speakers: p226 (male) lends his voice, p228 (female) is someone else."""
    grouped: dict[str, list[Audio]] = {}
    for rec in recordings("vctk"):
        speaker = rec.speaker.removeprefix("vctk-")
        if speaker in ("p226", "p228"):
            grouped.setdefault(speaker, []).append(read_audio(rec.path).resampled(16_000))
    return grouped


@pytest.fixture
def guard(services: VoiceServices, fused_embedder: FusedEmbedder) -> Guard:
    """The real guard, with an empty registry, installed in the test's trust layer."""
    registry = Registry(services.db, likeness_dir(services.data_dir))
    services.guard = Guard(registry, fused_embedder, load_calibration(None), load_cohort(None), load_older(None))
    return services.guard


def wav(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format="WAV")
    return buffer.getvalue()


def lend(services: VoiceServices, embedder: ResemblyzerEmbedder, samples: list[Audio], consent: Audio) -> Voice:
    """Lend a voice through ``finish_lending`` (Whisper is faked: what the reader said is not under test)."""
    session = services.consents.start_lending("Sam Jones", Scope())
    checks = Checks(lambda audio: session.statement, embedder, SileroVAD(), services.guard)
    return services.consents.finish_lending(
        session.id, samples, consent, checks, "http", {"url": "http://clone.local:8020"}
    )


def cloning_server(playing: Callable[[], Audio]) -> httpx.MockTransport:
    """A cloning TTS server that answers every request with the recording ``playing()`` gives."""
    return httpx.MockTransport(lambda request: httpx.Response(200, content=wav(playing())))


def test_a_lent_voice_drifting_into_someone_else_is_blocked_and_the_conversation_falls_back(
    services: VoiceServices, guard: Guard, embedder: ResemblyzerEmbedder, vctk: dict[str, list[Audio]]
) -> None:
    lent = lend(services, embedder, vctk["p226"][:3], vctk["p226"][3])
    restarted = VoiceStore(Database.in_data_dir(services.data_dir))  # as a new process sees it
    voice = find_voice(lent.id, restarted)
    assert voice.voiceprint is not None and voice.voiceprint.shape == (256,)

    speaking = {"as": "p226"}  # whom the server sounds like: the lender, later someone else
    replies = {"p226": iter(vctk["p226"][4:]), "p228": iter(vctk["p228"])}
    server = cloning_server(lambda: next(replies[speaking["as"]]))
    models = fake_models(
        Settings(home=str(services.data_dir)), vad=FakeVAD(), stt=FakeSTT("hi"), llm=FakeLLM("One. Two.")
    )
    models.__dict__["voice_services"] = services
    joe = FakeTTS()
    models._voices = {
        voice.id: ConsentedTTS(HTTPTTS(voice.params, server), voice, services),
        "joe": ConsentedTTS(joe, find_voice("joe"), services),
    }
    assistant = Assistant(models, voice)

    first = assistant.reply_to(tone(1.0))  # the same speaker as the enrolment: spoken
    assert first.reply.clauses[-2:] == ["One.", "Two."] and assistant.voice.id == voice.id and joe.spoken == []
    played = len(first.reply.clauses)

    speaking["as"] = "p228"
    second = assistant.reply_to(tone(1.0))  # the backend now sounds like someone else: blocked before it plays
    assert assistant.voice.id == "joe"
    assert "no longer available" in second.reply.clauses[0] and second.reply.clauses[1:] == ["One.", "Two."]
    assert joe.spoken == second.reply.clauses
    stored = services.store.get(voice.id)
    assert stored is not None and stored.status == "blocked" and "own enrolment" in stored.reason
    block = services.ledger.entries("block")[-1].body
    assert block["voice_id"] == voice.id and "own enrolment" in block["reason"]
    spoken_in_lent = [e for e in services.ledger.entries("utterance") if e.body["voice_id"] == voice.id]
    assert len(spoken_in_lent) == played  # the first turn's clauses; the drifted audio never played


@pytest.fixture(scope="module")
def piper_joe() -> TTS:
    return make_tts("piper", {})


def test_protecting_someone_who_sounds_like_joe_blocks_joe_and_conversations_fall_back(
    services: VoiceServices,
    embedder: ResemblyzerEmbedder,
    fused_embedder: FusedEmbedder,
    piper_joe: TTS,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sayso.voices.embedding.ResemblyzerEmbedder", lambda: embedder)  # one load, still real
    monkeypatch.setattr("sayso.voices.likeness.load_embedder", lambda *_: fused_embedder)
    double = [  # someone who sounds just like joe: here, joe himself
        write_audio(tmp_path / f"double-{i}.wav", piper_joe.synthesize(text)) for i, text in enumerate(DOUBLE_SAYS)
    ]
    assert main(["likeness", "protect", "Joe Double", *map(str, double)]) == 0
    out = capsys.readouterr().out
    assert "Blocked the voice 'joe': it sounds like Joe Double" in out and "espeak" not in out
    with pytest.raises(VoiceRevoked, match="blocked"):
        find_voice("joe", services.store)
    block = services.ledger.entries("block")[-1].body
    assert block["voice_id"] == "joe" and "Joe Double" in block["reason"]

    settings = Settings(home=str(services.data_dir))
    models = fake_models(settings, vad=FakeVAD(), stt=FakeSTT("hi"), llm=FakeLLM("One. Two."))
    services.guard = load_guard(settings)
    models.__dict__["voice_services"] = services  # real TTS engines, behind the real guard
    assistant = Assistant(models, find_voice("joe"))  # a conversation set up in joe before the block was known
    result = assistant.reply_to(tone(1.0))
    assert assistant.voice.id == SYNTHETIC_FALLBACK and assistant.voice.imitates_no_one
    assert "synthetic voice" in result.reply.clauses[0] and result.reply.clauses[-2:] == ["One.", "Two."]
    assert all(audio.duration > 0.3 for audio in result.reply.audio)  # eSpeak spoke every clause
    assert {e.body["voice_id"] for e in services.ledger.entries("utterance")} == {SYNTHETIC_FALLBACK}


def test_a_lent_voice_that_sounds_like_a_newly_protected_person_is_blocked(
    services: VoiceServices,
    guard: Guard,
    embedder: ResemblyzerEmbedder,
    vctk: dict[str, list[Audio]],
    piper_joe: TTS,
) -> None:
    joe_says = piper_joe.synthesize(SCREEN_TEXT)
    speak = lambda voice: joe_says  # noqa: E731 (the one preset modelled on a person, synthesised once)
    voice = lend(services, embedder, vctk["p226"][:3], vctk["p226"][3])
    guard.protect("Sam's sister", vctk["p228"][:2])
    assert screen_voices(services, guard, speak) == []  # no voice sounds like p228: nothing blocked
    guard.protect("Sam himself", vctk["p226"][4:6])
    blocked = screen_voices(services, guard, speak)
    assert [item.voice.id for item in blocked] == [voice.id]  # joe, screened too, sounds like neither
    stored = services.store.get(voice.id)
    assert stored is not None and stored.status == "blocked" and "Sam himself" in stored.reason
    assert find_voice("joe", services.store).status == "active"
    assert screen_voices(services, guard, speak) == []  # a blocked voice is not screened, nor blocked, again
