"""Fused voiceprints (Resemblyzer and CAM++ side by side): their parts, scores and cross-corpus checks,
on made-up vectors (the encoders themselves are tested for real in test_embedding)."""

from __future__ import annotations

import numpy as np
import pytest

from sayso.voices.embedding import CAMPPLUS, FUSED, RESEMBLYZER, VoicePrint, encoder_of, joined, part, projected, unit
from sayso.voices.likeness.evaluate import HeldOut, leave_one_corpus_out
from sayso.voices.likeness.scoring import Scorer


def fused_print(resemblyzer: np.ndarray, campplus: np.ndarray, seconds: float = 5.0) -> VoicePrint:
    windows = joined([np.repeat(resemblyzer[None], 3, 0), np.repeat(campplus[None], 3, 0)])
    return VoicePrint(joined([resemblyzer, campplus]), windows, seconds, FUSED)


def test_a_fused_vector_splits_back_into_its_encoders_vectors() -> None:
    rng = np.random.default_rng(0)
    r, c = unit(rng.normal(size=256)), unit(rng.normal(size=192))
    voiceprint = fused_print(r, c)
    assert np.linalg.norm(voiceprint.vector) == pytest.approx(1.0, abs=1e-5)
    assert encoder_of(voiceprint.vector) == FUSED and encoder_of(r) == RESEMBLYZER and encoder_of(c) == CAMPPLUS
    assert np.allclose(part(voiceprint.vector, FUSED, RESEMBLYZER), r, atol=1e-6)
    assert np.allclose(projected(voiceprint, CAMPPLUS).segments, np.repeat(c[None], 3, 0), atol=1e-6)
    with pytest.raises(ValueError, match="no campplus"):
        part(r, RESEMBLYZER, CAMPPLUS)


def test_fused_scores_are_the_mean_of_each_encoders_normalised_score() -> None:
    rng = np.random.default_rng(1)
    cohort = [fused_print(unit(rng.normal(size=256)), unit(rng.normal(size=192))) for _ in range(30)]
    enrol = [fused_print(unit(rng.normal(size=256)), unit(rng.normal(size=192))) for _ in range(4)]
    test = fused_print(unit(rng.normal(size=256)), unit(rng.normal(size=192)))
    rows, vectors = np.stack([p.vector for p in enrol]), np.stack([p.vector for p in cohort])
    fused = Scorer("snorm", vectors, top_n=10, encoder=FUSED)
    scores = fused.score(rows, fused.stats(rows), test)
    alone = []
    for encoder in (RESEMBLYZER, CAMPPLUS):
        scorer = Scorer("snorm", part(vectors, FUSED, encoder), top_n=10, encoder=encoder)
        own = part(rows, FUSED, encoder)
        alone.append(scorer.score(own, scorer.stats(own), projected(test, encoder)))
    assert np.allclose(scores, np.mean(alone, axis=0), atol=1e-4)
    assert not np.allclose(alone[0], alone[1])  # the parts really differ: the mean is not one of them


def _speakers(corpus: str, count: int, spread: float, rng: np.random.Generator) -> dict[str, list[VoicePrint]]:
    """Speakers of one corpus: a shared channel direction, each voice near it by ``spread``."""
    channel = unit(rng.normal(size=16))
    found = {}
    for index in range(count):
        voice = unit(channel + spread * rng.normal(size=16))
        takes = unit(voice + 0.15 * rng.normal(size=(5, 16)))
        found[f"{corpus}-{index}"] = [VoicePrint(t, t[None, :], 5.0) for t in takes]
    return found


def test_leave_one_corpus_out_reports_each_held_out_corpus() -> None:
    rng = np.random.default_rng(2)
    prints = {**_speakers("wide", 8, 1.0, rng), **_speakers("also", 8, 1.0, rng), **_speakers("close", 8, 0.25, rng)}
    rows = {row.corpus: row for row in leave_one_corpus_out(prints, None, {c: [c] for c in ("wide", "also", "close")})}
    assert set(rows) == {"wide", "also", "close"}
    assert all(isinstance(row, HeldOut) and row.speakers == 8 and row.impostor_trials > 0 for row in rows.values())
    # Thresholds set on voices far apart under-protect a corpus of voices close together: the table shows it.
    assert rows["close"].sound_alike_fmr > rows["wide"].sound_alike_fmr
    assert rows["close"].sound_alike_fmr > 0.015
