"""The registry-size policy: thresholds that bound false flags per check, on scores drawn from known laws."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from sayso.audio.io import read_audio
from sayso.store.db import Database
from sayso.voices.embedding import FUSED, FusedEmbedder, joined, unit
from sayso.voices.likeness import load_calibration, load_cohort
from sayso.voices.likeness.calibration import Calibration, calibrate
from sayso.voices.likeness.guard import Guard
from sayso.voices.likeness.policy import ScalePolicy, fit_tail
from sayso.voices.likeness.registry import Registry
from tests.speechdata import recordings


def calibrated(impostor: np.ndarray, genuine: np.ndarray) -> Calibration:
    return calibrate("raw", (genuine, impostor), {}, "synthetic")


def normal_scores(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def cosine_like_scores(n: int, seed: int) -> np.ndarray:
    """A bounded law, as cosines are: Beta(40, 60) has a short upper tail ending at 1."""
    return np.random.default_rng(seed).beta(40, 60, n)


def probes_of(law, people: int, count: int = 400, seed: int = 50) -> np.ndarray:  # type: ignore[no-untyped-def]
    """What probing a registry of ``people`` unrelated people gives: each probe's best of ``people`` scores."""
    if law is normal_scores:  # the best of n draws directly: its CDF is the law's to the n-th power
        uniform = np.random.default_rng(seed).random(count)
        return np.array([NormalDist().inv_cdf(u ** (1 / people)) for u in uniform])
    return np.array([law(people, seed + i).max() for i in range(count)])


def test_the_threshold_rises_with_the_registry_and_starts_at_the_calibrated_one() -> None:
    calibration = calibrated(normal_scores(10_000, 1), 4.0 + normal_scores(500, 2))
    policy = ScalePolicy(calibration)
    sizes = (1, 10, 100, 10_000, 1_000_000)
    decisions = [policy.decide(10.0, n, probes_of(normal_scores, n) if n >= 10_000 else None) for n in sizes]
    assert decisions[0].sound_alike == calibration.sound_alike and decisions[0].same_person == calibration.same_person
    alike = [d.sound_alike for d in decisions]
    assert all(later > earlier for earlier, later in zip(alike, alike[1:], strict=False))
    assert [d.source for d in decisions] == ["calibration", "tail model", "tail model"] + ["registry probes"] * 2
    assert all(d.same_person >= d.sound_alike for d in decisions)
    # What the verdict reports: the expected false flags per check stay near the calibrated 1 %.
    assert all(d.expected_false_flags is not None and d.expected_false_flags <= 0.012 for d in decisions)


def test_the_tail_model_alone_is_not_trusted_beyond_its_floor() -> None:
    calibration = calibrated(normal_scores(10_000, 1), np.ones(10))
    policy = ScalePolicy(calibration)
    at_floor = policy.decide(10.0, 100)  # 1 % / 100 people = 1e-4 a comparison: as far as the model is read
    beyond = policy.decide(10.0, 100_000)
    assert beyond.sound_alike == at_floor.sound_alike  # not extrapolated further...
    assert beyond.expected_false_flags is not None and beyond.expected_false_flags > 1  # ...and the verdict says so


@pytest.mark.parametrize("law", [normal_scores, cosine_like_scores], ids=["normal", "bounded"])
def test_false_flags_per_check_stay_bounded_on_fresh_impostor_scores(law) -> None:  # type: ignore[no-untyped-def]
    # Calibrated on 10,000 impostor trials and probed from the registry; checked on 20 million other
    # scores: 2,000 checks of an unrelated voice against a registry of 10,000 people.
    calibration = calibrated(law(10_000, 3), np.ones(10))
    people, checks = 10_000, 2_000
    decision = ScalePolicy(calibration).decide(10.0, people, probes_of(law, people))
    flags = sum(int(np.sum(law(people * 200, 100 + i) >= decision.sound_alike)) for i in range(checks // 200))
    fixed = sum(int(np.sum(law(people * 200, 100 + i) >= calibration.sound_alike)) for i in range(checks // 200))
    assert fixed / checks == pytest.approx(people * 0.01, rel=0.1)  # the fixed threshold: ~100 false flags a check
    assert flags / checks <= 3 * 0.01  # the policy: about 1 check in 100, within 400 probes' error
    assert decision.expected_false_flags is not None and decision.expected_false_flags <= 0.011


def test_the_fitted_tail_extrapolates_a_normal_law_to_its_floor() -> None:
    tail = fit_tail(np.quantile(normal_scores(10_000, 4), np.linspace(0, 1, 1001)))
    assert tail is not None and abs(tail.shape) < 0.15  # a normal law's tail is close to exponential
    for rate in (1e-3, 1e-4):
        assert tail.threshold_for(rate) == pytest.approx(NormalDist().inv_cdf(1 - rate), abs=0.2)
        assert rate / 3 <= tail.fmr_at(NormalDist().inv_cdf(1 - rate)) <= rate * 3


def test_a_true_sound_alike_is_still_caught_at_a_million_people() -> None:
    # Impostors around 0; a sound-alike of a protected person ~7 standard deviations up.
    calibration = calibrated(normal_scores(10_000, 5), 7.0 + 0.7 * normal_scores(1_000, 6))
    people = 1_000_000
    decision = ScalePolicy(calibration).decide(10.0, people, probes_of(normal_scores, people))
    assert decision.sound_alike > calibration.sound_alike + 2  # from ~2.3 to ~5.3 standard deviations
    alike = 7.0 + 0.7 * normal_scores(10_000, 8)
    assert np.mean(alike >= decision.sound_alike) > 0.9


def test_without_impostor_quantiles_the_calibrated_thresholds_are_kept() -> None:
    calibration = calibrated(normal_scores(2_000, 9), np.ones(10))
    old_file = Calibration(**{**calibration.__dict__, "impostor_quantiles": ()})
    decision = ScalePolicy(old_file).decide(10.0, 50_000)
    assert decision.sound_alike == calibration.sound_alike and decision.expected_false_flags is None


@pytest.mark.models
def test_a_guard_with_a_crowded_registry_still_catches_the_protected_voice(
    tmp_path: Path, fused_embedder: FusedEmbedder
) -> None:
    speech = {}
    for rec in recordings("vctk"):
        speech.setdefault(rec.speaker.removeprefix("vctk-"), []).append(read_audio(rec.path).resampled(16_000))
    registry = Registry(Database(tmp_path / "sayso.db"), tmp_path / "likeness")
    guard = Guard(registry, fused_embedder, load_calibration(None), load_cohort(None))
    guard.protect("Pat", speech["p225"][:3])
    alone = guard.check(speech["p225"][3])
    rng = np.random.default_rng(0)
    crowd = joined([unit(np.abs(rng.normal(size=(400, 256)))), unit(np.abs(rng.normal(size=(400, 192))))])
    other = Registry(Database(tmp_path / "sayso.db"), tmp_path / "likeness")  # another writer, as the CLI
    for i, vector in enumerate(crowd):  # people unlike any voice here
        other.protect(f"Crowd {i}", {"voice": vector}, 1, 9.0, FUSED)
    registry.refresh(force=True)
    caught = guard.check(speech["p225"][3])
    assert not caught.allowed and caught.matches[0].name == "Pat"
    assert caught.registry_size == 401 and alone.registry_size == 1
    assert caught.sound_alike_threshold is not None and alone.sound_alike_threshold is not None
    assert caught.sound_alike_threshold > alone.sound_alike_threshold  # 401 comparisons, not one
    assert caught.expected_false_flags is not None and caught.expected_false_flags <= 0.02
    assert guard.check(speech["p226"][0]).allowed
