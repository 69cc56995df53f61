"""Scoring labelled recordings at scale: the trials behind calibration and the benchmark.

Cohort normalisation is evaluated honestly: each trial's cohort leaves out both of its
speakers, as the shipped cohort will not contain the people it is later used on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from sayso.errors import InputError
from sayso.voices.embedding import VoicePrint
from sayso.voices.likeness.calibration import (
    BAND_WINDOWS,
    Calibration,
    calibrate,
    crop,
    equal_error_rate,
    trials,
    window_seconds,
)
from sayso.voices.likeness.scoring import METHODS, Scorer

Scores = tuple[np.ndarray, np.ndarray]
"""(genuine scores, impostor scores)."""


def read_manifest(path: Path) -> list[tuple[Path, str]]:
    """(audio path, speaker) rows of a TSV with ``path`` and ``speaker`` columns; paths relative to the file."""
    if not path.is_file():
        raise InputError(f"There is no manifest at {path}; check the path (a TSV with columns path and speaker).")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            if not reader.fieldnames or not {"path", "speaker"} <= set(reader.fieldnames):
                raise InputError(f"{path} needs a header with the columns path and speaker (tab-separated).")
            rows = [(path.parent / row["path"], row["speaker"]) for row in reader if row.get("path")]
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not UTF-8 text; save the manifest as a tab-separated UTF-8 file.") from error
    if len({speaker for _, speaker in rows}) < 2:
        raise InputError(f"{path} must list recordings of at least two speakers to calibrate.")
    return rows


def by_speaker(rows: Sequence[tuple[str, VoicePrint]]) -> dict[str, list[VoicePrint]]:
    """Group voiceprints by speaker, keeping order."""
    grouped: dict[str, list[VoicePrint]] = {}
    for speaker, voiceprint in rows:
        grouped.setdefault(speaker, []).append(voiceprint)
    return grouped


def cohort_without(prints: Mapping[str, Sequence[VoicePrint]], *speakers: str) -> np.ndarray:
    """Every recording's vector except those of ``speakers``."""
    return np.stack([p.vector for s, own in prints.items() if s not in speakers for p in own])


def trial_scores(
    prints: Mapping[str, Sequence[VoicePrint]],
    method: str,
    cut: Callable[[VoicePrint], list[VoicePrint]] | None = None,
    impostors: Callable[[str, str], bool] | None = None,
    top_n: int = 100,
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None = None,
) -> Scores:
    """Genuine and impostor scores of every trial under ``method``.

    Tests are cut by ``cut`` if given; impostor trials are kept only where ``impostors(enrol
    speaker, test speaker)`` holds, if given (e.g. the same corpus: the harder, same-channel case).
    """
    scorers: dict[frozenset[str], Scorer] = {}
    genuine: list[float] = []
    impostor: list[float] = []
    for trial in trials(prints, variants):
        if impostors and not trial.genuine and not impostors(trial.enrol_speaker, trial.test_speaker):
            continue
        key = frozenset((trial.enrol_speaker, trial.test_speaker))
        if key not in scorers:
            cohort = cohort_without(prints, *key) if method.startswith("snorm") else None
            scorers[key] = Scorer(method, cohort, top_n)
        scorer = scorers[key]
        stats = scorer.stats(trial.enrol)
        for test in cut(trial.test) if cut else [trial.test]:
            (genuine if trial.genuine else impostor).append(float(scorer.score(trial.enrol, stats, test).max()))
    return np.asarray(genuine, dtype=np.float32), np.asarray(impostor, dtype=np.float32)


def band_cutter(windows: int) -> Callable[[VoicePrint], list[VoicePrint]]:
    """Cuts a test into up to three non-overlapping crops of ``windows`` windows (none if it is too short)."""

    def cut(test: VoicePrint) -> list[VoicePrint]:
        starts = range(0, len(test.segments) - windows + 1, max(windows, 2))
        return [crop(test, windows, start) for start in list(starts)[:3]]

    return cut


def calibrate_prints(
    prints: Mapping[str, Sequence[VoicePrint]],
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None = None,
    source: str = "",
) -> tuple[Calibration, Scores]:
    """A full calibration from voiceprints grouped by speaker, and the full-length trial scores behind it.

    The score method is the one with the lowest equal error rate on these trials (ties go to the
    simpler, earlier method in ``METHODS``); cohort methods are scored with leave-speakers-out
    cohorts, so they are not flattered. Enrolments include their ``variants`` when given, as the
    registry stores them. Thresholds are then set per length band.
    """
    full = {m: trial_scores(prints, m, variants=variants) for m in _candidate_methods(prints)}
    method = min(full, key=lambda m: equal_error_rate(*full[m]))
    bands = {window_seconds(w): trial_scores(prints, method, band_cutter(w), variants=variants) for w in BAND_WINDOWS}
    return calibrate(method, full[method], bands, source), full[method]


def _candidate_methods(prints: Mapping[str, Sequence[VoicePrint]]) -> tuple[str, ...]:
    # S-norm needs other speakers in the cohort beyond a trial's two.
    return METHODS if len(prints) >= 4 else tuple(m for m in METHODS if not m.startswith("snorm"))
