"""The likeness guard with the real (fused) embedder and the shipped calibration, on VCTK speakers."""

from __future__ import annotations

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.errors import EmptyAudio, SeveralSpeakers, SpeechTooShort
from sayso.store.db import Database
from sayso.testing import silence
from sayso.voices.embedding import RESEMBLYZER, FusedEmbedder, ResemblyzerEmbedder, enrolment_vector
from sayso.voices.guard import LikenessGuard
from sayso.voices.likeness import load_calibration, load_cohort, load_older
from sayso.voices.likeness.guard import Guard
from sayso.voices.likeness.registry import Registry
from sayso.voices.likeness.variants import Transform, band_limit, mp3, noise, pitch, stretch
from tests.speechdata import recordings


@pytest.fixture(scope="module")
def speech() -> dict[str, list[Audio]]:
    """Five 16 kHz recordings of each VCTK speaker (p225 and p228 female, p226 and p227 male)."""
    grouped: dict[str, list[Audio]] = {}
    for rec in recordings("vctk"):
        grouped.setdefault(rec.speaker.removeprefix("vctk-"), []).append(read_audio(rec.path).resampled(16_000))
    return {speaker: audio[:5] for speaker, audio in grouped.items()}


@pytest.fixture(scope="module")
def guard(
    tmp_path_factory: pytest.TempPathFactory, fused_embedder: FusedEmbedder, speech: dict[str, list[Audio]]
) -> Guard:
    """One registry with Pat (p225) protected: enrolling computes five variants, so it is done once."""
    home = tmp_path_factory.mktemp("guard")
    registry = Registry(Database(home / "sayso.db"), home / "likeness")
    guard = Guard(registry, fused_embedder, load_calibration(None), load_cohort(None), load_older(None))
    guard.protect("Pat", speech["p225"][:3])
    return guard


def test_a_protected_voice_is_caught_with_evidence(guard: Guard, speech: dict[str, list[Audio]]) -> None:
    caught = guard.check(speech["p225"][3])
    assert not caught.allowed
    assert caught.matches[0].name == "Pat" and caught.matches[0].level == "same person"
    assert caught.same_person_threshold is not None and caught.matches[0].score >= caught.same_person_threshold
    assert caught.false_match_rate is not None and caught.false_match_rate <= 0.02
    clear = guard.check(speech["p226"][0])
    assert clear.allowed and not clear.matches
    assert clear.nearest[0].name == "Pat" and clear.nearest[0].level == "below threshold"


@pytest.mark.parametrize(
    "transform",
    [pitch(2.0), pitch(-2.0), stretch(1.1), stretch(0.9), noise(10.0, seed=3), band_limit(8_000), mp3()],
    ids=["pitch +2", "pitch -2", "stretch 1.1", "stretch 0.9", "noise 10 dB", "8 kHz", "mp3 32 kbps"],
)
def test_a_disguised_protected_voice_is_still_caught(
    guard: Guard, speech: dict[str, list[Audio]], transform: Transform
) -> None:
    verdict = guard.check(transform(speech["p225"][4]))
    assert not verdict.allowed and verdict.matches[0].name == "Pat"


def test_enrolment_is_checked_against_the_registry(guard: Guard, speech: dict[str, list[Audio]]) -> None:
    checker: LikenessGuard = guard  # the interface the voices use
    assert not checker.check_enrolment(speech["p225"][3:5]).allowed
    assert checker.check_enrolment(speech["p228"][:2]).allowed


@pytest.mark.parametrize("encoder", ["fused", "resemblyzer (a voice lent before the encoder changed)"])
def test_utterances_are_checked_against_the_registry_and_their_own_voice(
    guard: Guard,
    fused_embedder: FusedEmbedder,
    embedder: ResemblyzerEmbedder,
    speech: dict[str, list[Audio]],
    encoder: str,
) -> None:
    assert not guard.check_utterance(speech["p225"][4], "preset").allowed
    made_by = fused_embedder if encoder == "fused" else embedder
    lent = enrolment_vector([made_by.voiceprint(a) for a in speech["p226"][:2]])
    assert len(lent) == made_by.dim
    assert guard.check_utterance(speech["p226"][2], "lent", lent).allowed
    drifted = guard.check_utterance(speech["p228"][0], "lent", lent)  # the backend now sounds like someone else
    assert not drifted.allowed and "own enrolment" in drifted.reason
    assert guard.check_utterance(speech["p228"][0], "preset").allowed  # no reference: the registry alone


def test_a_person_protected_with_the_older_encoder_is_still_caught(
    guard: Guard, embedder: ResemblyzerEmbedder, speech: dict[str, list[Audio]]
) -> None:
    old = enrolment_vector([embedder.voiceprint(a) for a in speech["p227"][:3]])
    guard.registry.protect("Old Kim", {"voice": old}, 3, 18.0, RESEMBLYZER)
    try:
        verdict = guard.check(speech["p227"][3])
        assert not verdict.allowed and verdict.matches[0].name == "Old Kim"
        assert guard.registry.person("Old Kim").encoder == RESEMBLYZER
        other = guard.check(speech["p228"][0])  # another voice (Resemblyzer alone takes p226 for p227)
        assert "Old Kim" not in [match.name for match in other.matches]
    finally:
        guard.registry.remove("Old Kim")


def test_a_short_clause_is_judged_with_the_voices_previous_speech(guard: Guard, speech: dict[str, list[Audio]]) -> None:
    guard.check_utterance(speech["p225"][3], "chatty")
    clause = Audio(speech["p225"][4].samples[8_000:22_000], 16_000)  # under 1 s
    verdict = guard.check_utterance(clause, "chatty")
    assert verdict.speech_seconds is not None and verdict.speech_seconds > clause.duration
    assert not verdict.allowed
    assert guard.check_utterance(silence(0.5), "fresh").allowed  # nothing spoken, nothing to block


def test_bad_reference_recordings_are_refused_clearly(guard: Guard, speech: dict[str, list[Audio]]) -> None:
    with pytest.raises(EmptyAudio, match="no speech"):
        guard.protect("Quiet", [silence(3.0)])
    short = Audio(speech["p226"][0].samples[16_000:28_000], 16_000)
    with pytest.raises(SpeechTooShort, match="at least 1 s"):
        guard.protect("Brief", [short])
    pieces = [Audio(a.samples[8_000:40_000], 16_000) for a in speech["p226"][:2]]  # about 2 s of speech each
    with pytest.raises(SpeechTooShort, match="at least 5 s"):
        guard.protect("Scant", pieces)
    two_voices = Audio(np.concatenate([a.samples for a in (*speech["p226"][:2], *speech["p228"][:2])]), 16_000)
    with pytest.raises(SeveralSpeakers, match="more than one voice"):
        guard.protect("Duo", [two_voices], ["duo.wav"])
    with pytest.raises(SeveralSpeakers, match="different person"):
        guard.protect("Mixed", [*speech["p226"][:2], speech["p228"][0]])
    assert [p.name for p in guard.registry.people()] == ["Pat"]  # nothing was stored
