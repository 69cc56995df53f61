"""The registry-size policy against the fixed threshold, for ``bench/registry.py`` (same run, same index).

Scores are raw cosines of the synthetic people (the fitted population of ``registry.py``; the
vectors have no windows to score segment by segment). The calibration the policy reads is made
the way a real one is, from 10,000 unrelated pairs and 1,000 sound-alike pairs of that
population; the registry's probes are 400 of its own protected voices searched through the
index, as the guard does. Held out from both: fresh unrelated voices (false flags per check)
and fresh imitations of protected people (sound-alikes still caught). Three imitations: a
sound-alike (the real within-speaker spread), a disguised one (of a random variant), and a
weaker one (1.5 times that spread: "eerily similar" rather than the same voice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from sayso.voices.likeness.calibration import Calibration, calibrate
from sayso.voices.likeness.index import VectorIndex
from sayso.voices.likeness.policy import PROBES, ScalePolicy, fit_tail

FULL_LENGTH = 30.0
"""Seconds of speech the policy is asked about: past every band, so the full-length thresholds."""


class Population(Protocol):
    """What ``registry.Fitted`` offers."""

    within_scale: float

    def voices(self, n: int) -> np.ndarray: ...

    def sound_alikes(self, protected: np.ndarray) -> np.ndarray: ...

    def _imitate(self, protected: np.ndarray, scale: float) -> np.ndarray: ...


Query = Callable[[VectorIndex, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def synthetic_calibration(population: Population, trials: int = 10_000) -> Calibration:
    """A calibration of raw cosines from ``trials`` unrelated pairs and 1,000 sound-alike pairs."""
    pairs = population.voices(2 * trials)
    impostor = np.sum(pairs[:trials] * pairs[trials:], axis=1)
    voices = population.voices(1_000)
    genuine = np.sum(voices * population.sound_alikes(voices), axis=1)
    return calibrate("raw", (genuine, impostor), {}, "bench: synthetic voices fitted to Resemblyzer's")


def probe_maxima(index: VectorIndex, entries: np.ndarray, people: int, variants: int, query: Query) -> np.ndarray:
    """What ``Guard._probe`` measures: ``PROBES`` protected voices' best score against the other people."""
    chosen = np.random.default_rng(11).choice(people, min(PROBES, people), replace=False)
    best = []
    for person in chosen:
        found, _, scores = query(index, entries[person * variants])
        others = scores[found != person]
        if len(others):
            best.append(float(others.max()))
    return np.array(best)


def flags(index: VectorIndex, queries: np.ndarray, query: Query) -> np.ndarray:
    """Per unrelated query, the candidates' scores (the guard re-scores only these)."""
    return np.stack([np.pad(query(index, q)[2], (0, 10))[:10] for q in queries])


def caught(index: VectorIndex, queries: np.ndarray, imitated: np.ndarray, query: Query) -> np.ndarray:
    """Per imitation, the imitated person's score among the candidates (-inf: not returned)."""
    out = np.full(len(queries), -np.inf)
    for i, (q, person) in enumerate(zip(queries, imitated, strict=True)):
        found, _, scores = query(index, q)
        hit = scores[found == person]
        if len(hit):
            out[i] = hit[0]
    return out


def compare(
    index: VectorIndex,
    entries: np.ndarray,
    people: int,
    variants: int,
    population: Population,
    calibration: Calibration,
    query: Query,
    unrelated: int,
    imitations: int,
) -> None:
    """Print false flags per unrelated voice and sound-alikes caught: fixed threshold, tail model alone, policy."""
    policy = ScalePolicy(calibration)
    started = time.perf_counter()
    probes = probe_maxima(index, entries, people, variants, query)
    probe_seconds = time.perf_counter() - started
    decided = policy.decide(FULL_LENGTH, people, probes)
    decide_times = []
    for _ in range(200):
        started = time.perf_counter()
        policy.decide(FULL_LENGTH, people, probes)
        decide_times.append(time.perf_counter() - started)
    tail_only = policy.decide(FULL_LENGTH, people, None)
    rng = np.random.default_rng(12)
    unrelated_scores = flags(index, population.voices(unrelated), query)
    person = rng.integers(0, people, (3, imitations))
    variant = rng.integers(1, variants, imitations)
    kinds = {
        "sound-alike": caught(index, population.sound_alikes(entries[person[0] * variants]), person[0], query),
        "disguised": caught(index, population.sound_alikes(entries[person[1] * variants + variant]), person[1], query),
        "weaker (1.5x spread)": caught(
            index, population._imitate(entries[person[2] * variants], 1.5 * population.within_scale), person[2], query
        ),
    }
    print(
        f"  policy: {len(probes)} probes in {probe_seconds:.1f} s (once per 10 % growth); decide p50 "
        f"{np.median(decide_times) * 1e6:.0f} us; sound-alike threshold set by {decided.source}; "
        f"expected false flags per check (probes, in-sample) {_rate(decided.expected_false_flags)}"
    )
    rows = (
        ("fixed (calibrated 1 %)", calibration.sound_alike, calibration.sound_alike_fmr * people),
        ("tail model alone", tail_only.sound_alike, tail_only.expected_false_flags),
        ("policy", decided.sound_alike, decided.expected_false_flags),
    )
    for label, threshold, expected in rows:
        flagged = unrelated_scores >= threshold
        found = "; ".join(f"{kind} {np.mean(scores >= threshold):.3f}" for kind, scores in kinds.items())
        print(
            f"  {label:<23} threshold {threshold:.3f} | expected flags/check {_rate(expected)} | held-out "
            f"{unrelated} unrelated voices: flagged {flagged.any(axis=1).mean():.4f} of checks, "
            f"{flagged.sum(axis=1).mean():.3f} flags/check (of 10 candidates) | caught: {found}"
        )


def tail_check(calibration: Calibration) -> None:
    """The tail model on real impostor scores: fitted to the quantiles up to 99 %, the 99.9 % one predicted."""
    bands = [("full length", calibration.impostor_quantiles)]
    bands += [(f"up to {b.max_seconds:.1f} s", b.impostor_quantiles) for b in calibration.bands]
    for label, quantiles in bands:
        tail = fit_tail(quantiles, end=0.99)
        if tail is None:
            continue
        observed = float(quantiles[int(0.999 * (len(quantiles) - 1))])
        print(
            f"  {label:<13} 99.9 % impostor score: observed {observed:.4f}, predicted from <= 99 % "
            f"{tail.threshold_for(0.001):.4f} (shape {tail.shape:+.2f}); observed 99.9 % held out of the fit"
        )


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
