"""The speaker embedders (Resemblyzer, CAM++ and both fused), for real, on short recordings of the shared set."""

from __future__ import annotations

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.errors import EmptyAudio
from sayso.testing import silence
from sayso.voices.embedding import (
    CAMPPLUS,
    FUSED,
    RESEMBLYZER,
    FusedEmbedder,
    ResemblyzerEmbedder,
    enrolment_vector,
    part,
    resemblyzer_windows,
    unit,
)
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


def test_campplus_tells_the_same_speaker_from_another_and_ignores_level(fused_embedder: FusedEmbedder) -> None:
    vctk = recordings("vctk")
    p225 = [read_audio(r.path).resampled(16_000) for r in vctk if r.speaker == "vctk-p225"][:2]
    p226 = next(read_audio(r.path).resampled(16_000) for r in vctk if r.speaker == "vctk-p226")
    quiet = Audio(p225[0].samples * 0.1, 16_000)  # 20 dB quieter: level must not say who speaks
    prints = [fused_embedder.voiceprint(x) for x in (*p225, p226, quiet)]
    a, b, other, softer = (part(p.vector, FUSED, CAMPPLUS) for p in prints)
    assert a.shape == (192,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert float(a @ b) > float(a @ other) + 0.2
    assert float(a @ softer) > 0.97
    # One vector per Resemblyzer window, each half the unit vector of its own encoder
    first = prints[0]
    assert first.encoder == FUSED and first.segments.shape[1] == 448
    assert np.allclose(np.linalg.norm(part(first.segments, FUSED, RESEMBLYZER), axis=1), 1.0, atol=1e-5)
    wav = fused_embedder.resemblyzer.voiced(p225[0])
    assert len(first.segments) == len(resemblyzer_windows(len(wav)))
    alone, _ = fused_embedder.network.embed(wav, [])  # CAM++ on its own gives the fused print's half
    assert float(unit(alone) @ a) == pytest.approx(1.0, abs=1e-4)


def test_campplus_frozen_trace_gives_the_eager_networks_features_at_any_length(fused_embedder: FusedEmbedder) -> None:
    import torch

    network = fused_embedder.network
    speech = read_audio(recordings("vctk")[0].path).resampled(16_000).samples
    # The trace was made on 2 s: shorter, longer and odd lengths must come out as the eager layers give them.
    for samples in (4_000, 23_457, len(speech)):
        frames = torch.from_numpy(network.features(speech[:samples])).T[None]
        with torch.inference_mode():
            traced, eager = network.frames(frames), network.eager_frames(frames)
        assert traced.shape == eager.shape
        assert float((traced - eager).abs().max()) < 1e-3 * float(eager.abs().max())
