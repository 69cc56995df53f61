"""Thresholds that hold at any registry size: false flags per check, not per comparison.

A check compares a voice with every protected person. If one comparison falsely matches with
probability p, a check against N people flags someone falsely about N x p times: the calibrated
sound-alike threshold (p = 1 %) flags a hundred people per unrelated voice at 10,000 people.
The policy keeps the false flags of a check near the calibrated rate (1 % sound-alike, 0.1 %
same person) whatever N is, from two sources, taking the stricter:

- **The calibration's impostor tail.** Each comparison must be N times rarer, p = rate / N. A
  generalised Pareto tail (the extreme-value model of exceedances over a high quantile) fitted
  to the calibration's impostor quantiles reads p beyond its trials, but only down to
  ``MODEL_FLOOR``: on laws with a known tail, ~10,000 trials put the threshold for p = 1e-6
  where the true rate was 3-30 times higher (tests and ``bench/registry.py``), so it is not
  trusted further.
- **The registry itself (probes).** Protected people's own voices are unrelated to everyone else
  on the registry, so each is a real check at the registry's real size: the best score it gets
  from anyone else is what an unrelated voice would get. The (1 - rate) quantile of those best
  scores over a few hundred probes is the threshold, with nothing extrapolated in N; the share
  of probes over the final threshold is the reported false-flag rate.

The thresholds never fall below the calibrated ones: a small registry keeps them. Works on any
score method: it reads a ``Calibration``'s quantiles and thresholds and scores given to it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sayso.voices.likeness.calibration import SAME_PERSON_FMR, SOUND_ALIKE_FMR, Calibration

MODEL_FLOOR = 1e-4
"""Rarest per-comparison rate read from the fitted tail (100 times rarer than 10,000 trials resolve)."""
MIN_PROBES = 100
"""Probes needed before the registry's own scores set a threshold."""
PROBES = 400
"""Protected voices probed: the 99th percentile of their best scores rests on the top four."""
REPROBE_GROWTH = 0.1
"""The probes are measured again once the registry's size has changed by this share."""
TAIL_START = 0.9
"""The tail is fitted to exceedances over this quantile of the impostor scores (10 % of them)."""
TAIL_END = 0.999
"""...up to this quantile: the 1001 kept quantiles' top few rest on a handful of trials."""
SHAPES = np.linspace(-0.6, 0.6, 241)
"""Shapes (xi) tried when fitting the tail: from a short bounded tail to a heavy one."""


@dataclass(frozen=True)
class Tail:
    """P(score >= x) = share x (1 + shape (x - start) / scale)^(-1 / shape) for x >= start."""

    start: float
    share: float
    scale: float
    shape: float

    def fmr_at(self, score: float) -> float:
        """The modelled share of impostor scores at or over ``score`` (for scores over ``start``)."""
        excess = max(0.0, score - self.start) / self.scale
        if abs(self.shape) < 1e-9:
            return self.share * math.exp(-excess)
        base = 1.0 + self.shape * excess
        return 0.0 if base <= 0 else self.share * base ** (-1.0 / self.shape)

    def threshold_for(self, fmr: float) -> float:
        """The score over which a share ``fmr`` (< ``share``) of impostors lie."""
        return self.start + self.scale * float(_growth(self.shape, np.array([self.share / fmr]))[0])


def _growth(shape: float, ratio: np.ndarray) -> np.ndarray:
    """Excess over the tail's start, in scales, of the quantiles ``ratio`` times rarer than its start."""
    if abs(shape) < 1e-9:
        return np.log(ratio)
    return np.asarray((np.power(ratio, shape) - 1.0) / shape)


def fit_tail(quantiles: tuple[float, ...] | np.ndarray, end: float = TAIL_END) -> Tail | None:
    """The generalised Pareto tail of impostor scores given as evenly spaced quantiles (0 to 1).

    Least squares on 30 quantiles spaced evenly in log exceedance between ``TAIL_START`` and
    ``end``, the scale solved exactly for each shape tried. None if there are too few
    quantiles or the tail is flat (every high score equal).
    """
    values = np.asarray(quantiles, dtype=np.float64)
    if len(values) < 101:
        return None
    levels = np.linspace(0.0, 1.0, len(values))
    share = 1.0 - TAIL_START
    exceed = np.geomspace(share, 1.0 - end, 30)
    start = float(np.interp(TAIL_START, levels, values))
    excess = np.interp(1.0 - exceed, levels, values) - start
    if excess[-1] <= 0:
        return None
    best: tuple[float, float, float] | None = None
    for shape in SHAPES:
        growth = _growth(float(shape), share / exceed)
        scale = float(excess @ growth / (growth @ growth))
        error = float(np.sum((excess - scale * growth) ** 2))
        if scale > 0 and (best is None or error < best[0]):
            best = (error, scale, float(shape))
    return None if best is None else Tail(start, share, best[1], best[2])


@dataclass(frozen=True)
class Decision:
    """The thresholds for one check against a registry of ``people``, and what they promise."""

    same_person: float
    sound_alike: float
    people: int
    per_comparison_fmr: float | None
    """False-match rate of one comparison at the sound-alike threshold (counted or modelled)."""
    expected_false_flags: float | None
    """Expected false sound-alike flags per check of an unrelated voice: the share of probes
    flagged at the threshold, else the per-comparison rate x people; None if neither is known."""
    source: str = "calibration"
    """What set the sound-alike threshold: "calibration", "tail model" or "registry probes"."""


class ScalePolicy:
    """Sound-alike and same-person thresholds that rise with the registry's size."""

    def __init__(
        self, calibration: Calibration, sound_alike_flags: float = SOUND_ALIKE_FMR, same_flags: float = SAME_PERSON_FMR
    ) -> None:
        self.calibration = calibration
        self.sound_alike_flags = sound_alike_flags
        self.same_flags = same_flags

    def decide(self, speech_seconds: float, people: int, probes: np.ndarray | None = None) -> Decision:
        """The thresholds for a test with ``speech_seconds`` of speech checked against ``people`` people.

        ``probes``: full-length protected voices' best scores against everyone else on the registry.
        """
        same, alike = self.calibration.thresholds_for(speech_seconds)
        tail = self.tail(speech_seconds)
        if tail is None or people <= 1:  # one comparison: the calibration's own thresholds and rates
            rate = self.calibration.fmr_at(alike, speech_seconds)
            return Decision(same, alike, people, rate, None if rate is None else rate * people)
        candidates = {
            "calibration": alike,
            "tail model": self._threshold(tail, self.sound_alike_flags / people),
            "registry probes": self._probed(probes, self.sound_alike_flags, speech_seconds),
        }
        source = max(candidates, key=lambda name: candidates[name])
        alike = candidates[source]
        same = max(same, alike, self._threshold(tail, self.same_flags / people))
        same = max(same, self._probed(probes, self.same_flags, speech_seconds))
        rate = self._rate(tail, alike, speech_seconds)
        flags = self._probe_share(probes, alike, speech_seconds)
        if flags is None and rate is not None:
            flags = rate * people
        return Decision(same, alike, people, rate, flags, source)

    def tail(self, speech_seconds: float) -> Tail | None:
        """The fitted impostor tail of this test length's band (the full-length one past the bands)."""
        band = self.calibration.band_for(speech_seconds)
        quantiles = band.impostor_quantiles if band else self.calibration.impostor_quantiles
        return _cached_tail(tuple(quantiles))

    def _shift(self, speech_seconds: float) -> float:
        # Probes are full-length voices; a shorter test's impostors score higher, by as much as its
        # band's calibrated threshold is over the full-length one.
        return self.calibration.thresholds_for(speech_seconds)[1] - self.calibration.sound_alike

    def _probed(self, probes: np.ndarray | None, flags: float, speech_seconds: float) -> float:
        if probes is None or len(probes) < MIN_PROBES:
            return -math.inf
        return float(np.quantile(probes, 1.0 - flags)) + self._shift(speech_seconds)

    def _probe_share(self, probes: np.ndarray | None, threshold: float, speech_seconds: float) -> float | None:
        if probes is None or len(probes) < MIN_PROBES:
            return None
        return float(np.mean(probes + self._shift(speech_seconds) >= threshold))

    def _rate(self, tail: Tail, threshold: float, speech_seconds: float) -> float | None:
        """One comparison's false-match rate at ``threshold``: from the tail model over its start (the
        1001 kept quantiles count a rate only to +-0.1 %), else counted from the calibration's trials."""
        if threshold >= tail.start:
            return min(tail.fmr_at(threshold), tail.share)
        return self.calibration.fmr_at(threshold, speech_seconds)

    @staticmethod
    def _threshold(tail: Tail, fmr: float) -> float:
        return tail.threshold_for(max(fmr, MODEL_FLOOR)) if fmr < tail.share else -math.inf


class Probes:
    """The registry's probe scores, measured once per ``REPROBE_GROWTH`` change of its size."""

    def __init__(self, measure: Callable[[int], np.ndarray]) -> None:
        self._measure = measure
        self._lock = threading.Lock()
        self._people = 0
        self._maxima: np.ndarray | None = None

    def maxima(self, people: int) -> np.ndarray | None:
        """Best scores of up to ``PROBES`` protected voices against everyone else (None: too few people)."""
        if people <= MIN_PROBES:
            return None
        with self._lock:
            if self._maxima is None or abs(people - self._people) > REPROBE_GROWTH * self._people:
                self._maxima, self._people = self._measure(min(PROBES, people)), people
            return self._maxima


@lru_cache(maxsize=32)
def _cached_tail(quantiles: tuple[float, ...]) -> Tail | None:
    # A calibration's bands are few and fixed: fit each once per process, not per check.
    return fit_tail(quantiles)
