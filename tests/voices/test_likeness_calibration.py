"""Calibration arithmetic, score normalisation and the several-speakers test, on made-up scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sayso.voices.embedding import VoicePrint, unit
from sayso.voices.likeness.calibration import (
    Calibration,
    calibrate,
    crop,
    equal_error_rate,
    error_rates,
    strictest,
    threshold_for_fmr,
    trials,
)
from sayso.voices.likeness.guard import several_speakers
from sayso.voices.likeness.scoring import Scorer


def test_threshold_holds_the_false_match_rate_at_the_target() -> None:
    rng = np.random.default_rng(1)
    impostor = rng.normal(0.5, 0.1, 10_000).astype(np.float32)
    for target in (0.001, 0.01, 0.1):
        threshold = threshold_for_fmr(impostor, target)
        fmr = float(np.mean(impostor >= threshold))
        assert fmr <= target
        assert fmr > target * 0.8  # not needlessly strict either


def test_equal_error_rate_of_separated_and_overlapping_scores() -> None:
    assert equal_error_rate(np.array([0.9, 0.95, 0.8]), np.array([0.1, 0.2, 0.3])) == 0.0
    rng = np.random.default_rng(2)
    same = rng.normal(0, 1, 20_000)
    eer = equal_error_rate(same[:10_000], same[10_000:])  # one distribution: a coin toss
    assert 0.45 < eer < 0.55


def test_calibration_rates_bands_and_file_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    genuine, impostor = rng.normal(0.85, 0.05, 500), rng.normal(0.55, 0.07, 5000)
    short = (rng.normal(0.8, 0.06, 500), rng.normal(0.5, 0.09, 5000))
    calibration = calibrate("raw", (genuine, impostor), {1.6: short}, "test")
    assert calibration.same_person > calibration.sound_alike
    assert calibration.same_person_fmr <= 0.001 and calibration.sound_alike_fmr <= 0.01
    assert (calibration.sound_alike_fmr, calibration.sound_alike_fnmr) == error_rates(
        genuine, impostor, calibration.sound_alike
    )
    # A short test gets its own band's thresholds; a long one the full-length ones.
    assert calibration.thresholds_for(1.0) == (calibration.bands[0].same_person, calibration.bands[0].sound_alike)
    assert calibration.thresholds_for(10.0) == (calibration.same_person, calibration.sound_alike)
    assert calibration.fmr_at(calibration.sound_alike) == pytest.approx(0.01, abs=0.002)
    assert calibration.fmr_at(0.0) == 1.0
    loaded = Calibration.load(calibration.save(tmp_path / "c.json"))
    assert loaded == calibration and loaded.bands[0].impostor_quantiles == calibration.bands[0].impostor_quantiles


def test_a_short_tests_false_match_rate_comes_from_its_own_bands_impostors(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    full = (rng.normal(0.85, 0.05, 500), rng.normal(0.55, 0.05, 5000))
    short = (rng.normal(0.8, 0.06, 500), rng.normal(0.55, 0.1, 5000))  # short tests: impostors spread wider
    calibration = calibrate("raw", full, {1.6: short}, "test")
    band = calibration.bands[0]
    assert calibration.fmr_at(band.sound_alike, 1.2) == pytest.approx(0.01, abs=0.002)
    assert calibration.fmr_at(band.same_person, 1.2) == pytest.approx(0.001, abs=0.001)
    assert calibration.fmr_at(band.sound_alike, 1.2) > 2 * (calibration.fmr_at(band.sound_alike) or 0.0)
    assert calibration.fmr_at(calibration.sound_alike, 30.0) == pytest.approx(0.01, abs=0.002)
    # A file written before bands kept their impostor scores still loads; a short test's rate is then unknown.
    data = json.loads(calibration.save(tmp_path / "c.json").read_text())
    for old in data["bands"]:
        del old["impostor_quantiles"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    older = Calibration.load(tmp_path / "old.json")
    assert older.thresholds_for(1.2) == (band.same_person, band.sound_alike)
    assert older.fmr_at(band.sound_alike, 1.2) is None
    assert older.fmr_at(calibration.sound_alike, 30.0) == calibration.fmr_at(calibration.sound_alike, 30.0)


def test_trials_never_test_an_enrolment_on_its_own_recordings() -> None:
    rng = np.random.default_rng(4)
    prints = {s: [_print(rng.normal(size=8)) for _ in range(7)] for s in ("a", "b")}
    every = list(trials(prints, enrol_files=3))
    assert every and all(t.genuine == (t.enrol_speaker == t.test_speaker) for t in every)
    # 7 recordings: enrolments from files 0-2 and 3-5; each is tested on the other 4 own and 7 foreign files.
    assert sum(t.genuine for t in every) == 2 * 2 * 4
    assert len(every) == 2 * 2 * (4 + 7)


def test_crop_keeps_windows_and_reports_their_length() -> None:
    rng = np.random.default_rng(5)
    voiceprint = VoicePrint(unit(rng.normal(size=8)), unit(rng.normal(size=(6, 8))), 6.0)
    short = crop(voiceprint, 2, start=3)
    assert np.allclose(short.segments, voiceprint.segments[3:5])
    assert short.speech_seconds == pytest.approx(1.6 + 1 / 1.3)


def test_cohort_normalisation_discounts_a_voice_that_matches_everyone() -> None:
    rng = np.random.default_rng(6)
    x, y, z = np.eye(3, dtype=np.float32)
    cohort = unit(x + 0.1 * rng.normal(size=(50, 3)))  # a crowd of voices near x
    generic, distinct = unit(x + y), unit(y + z)  # the first also sounds like the crowd
    test = _print(y)
    enrolments = np.stack([generic, distinct])
    raw = Scorer("raw").score(enrolments, Scorer("raw").stats(enrolments), test)
    assert raw[0] == pytest.approx(raw[1])  # the raw cosine cannot tell them apart
    snorm = Scorer("snorm", cohort, top_n=20)
    normalised = snorm.score(enrolments, snorm.stats(enrolments), test)
    assert normalised[1] > normalised[0] + 1.0
    with pytest.raises(ValueError, match="cohort"):
        Scorer("snorm")


def test_several_speakers_splits_two_voices_but_not_one() -> None:
    rng = np.random.default_rng(7)
    one, two = unit(rng.normal(size=32)), unit(rng.normal(size=32))
    same = unit(one + 0.15 * rng.normal(size=(10, 32)))
    mixed = np.concatenate([same[:5], unit(two + 0.15 * rng.normal(size=(5, 32)))])
    assert not several_speakers(same)
    assert several_speakers(mixed)
    assert not several_speakers(mixed[:3])  # too few windows to judge
    lone_odd = np.concatenate([same[:9], unit(two[None, :])])
    assert not several_speakers(lone_odd)  # one odd window is a cough, not a speaker
    # Groups fairly alike count as two people when they take turns, not when they alternate.
    orthogonal = unit(two - (two @ one) * one)
    near = unit(0.72 * one + np.sqrt(1 - 0.72**2) * orthogonal)
    turns = np.concatenate([unit(one + 0.02 * rng.normal(size=(6, 32))), unit(near + 0.02 * rng.normal(size=(6, 32)))])
    assert 0.65 < float(unit(turns[:6].mean(0)) @ unit(turns[6:].mean(0))) < 0.78
    assert several_speakers(turns)
    assert not several_speakers(turns[[0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]])


def _print(vector: np.ndarray) -> VoicePrint:
    v = unit(vector)
    return VoicePrint(v, v[None, :], 2.0)


def test_thresholds_hold_the_rate_in_every_population_with_enough_trials() -> None:
    rng = np.random.default_rng(11)
    wide, close = rng.normal(0.3, 0.1, 5_000), rng.normal(0.5, 0.1, 2_000)  # voices far apart, close together
    pooled = np.concatenate([wide, close]).astype(np.float32)
    threshold, scores = strictest(pooled, {"wide": wide, "close": close}, 0.01)
    assert threshold == threshold_for_fmr(close, 0.01) > threshold_for_fmr(pooled, 0.01)
    assert np.mean(close >= threshold) <= 0.01 and scores is close
    tiny = {"tiny": np.array([0.99] * 50)}  # 50 trials cannot measure a 1 % rate: not used
    assert strictest(pooled, tiny, 0.01)[0] == threshold_for_fmr(pooled, 0.01)
