"""Scores: how alike an enrolment and a test recording sound (higher = more alike).

Three ingredients, each measured against the raw cosine by ``bench/likeness.py``:

- **Cohort normalisation (adaptive S-norm).** A raw cosine of 0.8 means "same person" for one
  voice and "anyone with a low voice" for another. Each side is compared with a cohort of other
  speakers; the score becomes how far the pair stands above each side's closest cohort
  speakers, in standard deviations, averaged over both sides.
- **Segment-level scoring.** The test's ~1.6 s windows are scored one by one and the score is
  their mean: unlike the cosine of the averaged vector, it is lower when the windows disagree
  (short, noisy or mixed audio), which is evidence too.
- **Length-aware decisions** live in ``calibration``: thresholds per amount of test speech.
- **Fusion.** A vector of several encoders (``resemblyzer+campplus``) is scored part by part,
  each part with its own cohort statistics, and the parts' scores are averaged with equal
  weights: untuned, so nothing is fitted to the few clones there are to test on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sayso.voices.embedding import RESEMBLYZER, VoicePrint, layout, parts

METHODS = ("raw", "segment", "snorm", "snorm-segment")
"""Score methods: cosine of vectors, mean window cosine, and each cohort-normalised."""


@dataclass(frozen=True)
class CohortStats:
    """Mean and spread of one vector's scores against its closest cohort speakers."""

    mean: float
    std: float


class Scorer:
    """Scores enrolments against tests with one method and one cohort, for vectors of one encoder."""

    def __init__(
        self, method: str, cohort: np.ndarray | None = None, top_n: int = 100, encoder: str = RESEMBLYZER
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown score method {method!r}; use one of {METHODS}")
        if method.startswith("snorm") and (cohort is None or len(cohort) < 2):
            raise ValueError("cohort normalisation needs a cohort of at least two vectors")
        self.method = method
        self.encoder = encoder
        count = len(layout(encoder))
        self.cohorts = parts(cohort, encoder) if cohort is not None else [np.zeros((0, 0), np.float32)] * count
        self.top_n = top_n

    @property
    def normalised(self) -> bool:
        """Whether scores are cohort-normalised (z units) rather than cosines."""
        return self.method.startswith("snorm")

    def stats(self, vectors: np.ndarray) -> list[list[CohortStats]]:
        """Per part, the cohort statistics of each row of ``vectors`` (see ``part_stats``)."""
        return [self.part_stats(rows, i) for i, rows in enumerate(parts(vectors, self.encoder))]

    def part_stats(self, rows: np.ndarray, index: int) -> list[CohortStats]:
        """Cohort statistics of each row against part ``index`` of the cohort (adaptive: its ``top_n`` closest).

        Rows are used as given (not re-normalised), so a test's mean window vector gives the
        statistics of its segment-level scores: the mean window cosine is linear in the windows.
        """
        if not self.normalised:
            return [CohortStats(0.0, 1.0) for _ in range(len(rows))]
        scores = np.atleast_2d(rows) @ self.cohorts[index].T
        n = min(self.top_n, scores.shape[1])
        top = -np.partition(-scores, n - 1, axis=1)[:, :n]
        return [CohortStats(float(m), max(float(s), 1e-3)) for m, s in zip(top.mean(1), top.std(1), strict=True)]

    def test_vectors(self, test: VoicePrint) -> list[np.ndarray]:
        """Per part, the vector whose dot product with an enrolment is the raw score (windows' mean for segments)."""
        if self.method.endswith("segment"):
            return [windows.mean(axis=0) for windows in parts(test.segments, self.encoder)]
        return [vector[0] for vector in parts(test.vector, self.encoder)]

    def raw(self, enrolments: np.ndarray, test: VoicePrint) -> np.ndarray:
        """Un-normalised scores of each enrolment row against ``test`` (mean over parts of cosines)."""
        pairs = zip(parts(enrolments, self.encoder), self.test_vectors(test), strict=True)
        return np.asarray(np.mean([rows @ vector for rows, vector in pairs], axis=0), dtype=np.float32)

    def score(self, enrolments: np.ndarray, enrol_stats: list[list[CohortStats]], test: VoicePrint) -> np.ndarray:
        """Final scores of each enrolment row (with its cohort stats) against ``test``: the parts' mean."""
        if not self.normalised:
            return self.raw(enrolments, test)
        scores = []
        for index, (rows, vector) in enumerate(
            zip(parts(enrolments, self.encoder), self.test_vectors(test), strict=True)
        ):
            raw = rows @ vector
            (test_stats,) = self.part_stats(vector[None, :], index)
            means = np.array([s.mean for s in enrol_stats[index]], dtype=np.float32)
            stds = np.array([s.std for s in enrol_stats[index]], dtype=np.float32)
            scores.append(0.5 * ((raw - means) / stds + (raw - test_stats.mean) / test_stats.std))
        return np.asarray(np.mean(scores, axis=0), dtype=np.float32)
