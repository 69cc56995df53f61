"""The Resemblyzer speaker embedder, for real, on short recordings of the shared speech set."""

from __future__ import annotations

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.errors import EmptyAudio
from sayso.testing import silence
from sayso.voices.embedding import ResemblyzerEmbedder, enrolment_vector
from tests.speechdata import recordings


@pytest.fixture(scope="session")
def embedder() -> ResemblyzerEmbedder:
    return ResemblyzerEmbedder()


def test_same_speaker_is_closer_than_another(embedder: ResemblyzerEmbedder) -> None:
    vctk = recordings("vctk")
    p225 = [read_audio(r.path) for r in vctk if r.speaker == "vctk-p225"][:3]
    p226 = next(read_audio(r.path) for r in vctk if r.speaker == "vctk-p226")
    a, b, other = (embedder.embed(x) for x in (p225[0], p225[1], p226))
    for vector in (a, b, other):
        assert vector.shape == (256,) and vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert float(a @ b) > float(a @ other) + 0.1


def test_voiceprint_uses_only_the_voiced_audio(embedder: ResemblyzerEmbedder) -> None:
    rec = recordings("vctk")[0]
    audio = read_audio(rec.path).resampled(16_000)
    padded = Audio.concat([silence(3.0), audio, silence(3.0)], 16_000)
    plain, with_pauses = embedder.voiceprint(audio), embedder.voiceprint(padded)
    assert with_pauses.speech_seconds < rec.duration  # the 6 s of silence are not counted
    assert abs(with_pauses.speech_seconds - plain.speech_seconds) < 0.2
    assert float(plain.vector @ with_pauses.vector) > 0.98
    assert with_pauses.segments.shape[1] == 256 and len(with_pauses.segments) >= 1


def test_enrolment_of_several_recordings_is_one_unit_vector(embedder: ResemblyzerEmbedder) -> None:
    prints = [embedder.voiceprint(read_audio(r.path)) for r in recordings("vctk")[:2]]
    vector = enrolment_vector(prints)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert all(float(vector @ p.vector) > 0.8 for p in prints)


def test_silence_and_noise_hold_no_speech(embedder: ResemblyzerEmbedder) -> None:
    with pytest.raises(EmptyAudio, match="no speech"):
        embedder.voiceprint(silence(2.0))
    hiss = np.random.default_rng(0).normal(0, 0.01, 32_000).astype(np.float32)
    with pytest.raises(EmptyAudio, match="no speech"):
        embedder.embed(Audio(hiss, 16_000))
