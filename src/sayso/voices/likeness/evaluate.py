"""Scoring labelled recordings at scale: the trials behind calibration and the benchmark.

Cohort normalisation is evaluated honestly: each trial's cohort leaves out both of its
speakers, as the shipped cohort will not contain the people it is later used on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    cohort: np.ndarray | None = None,
) -> Scores:
    """Genuine and impostor scores of every trial under ``method``.

    Tests are cut by ``cut`` if given; impostor trials are kept only where ``impostors(enrol
    speaker, test speaker)`` holds, if given (e.g. the same corpus: the harder, same-channel case).
    Cohort methods use ``cohort`` if given (speakers none of the trials' are among), else every
    other speaker's recordings.
    """
    encoder = next(iter(prints.values()))[0].encoder
    fixed = Scorer(method, cohort, top_n, encoder) if cohort is not None else None
    scorers: dict[frozenset[str], Scorer] = {}
    genuine: list[float] = []
    impostor: list[float] = []
    for trial in trials(prints, variants):
        if impostors and not trial.genuine and not impostors(trial.enrol_speaker, trial.test_speaker):
            continue
        key = frozenset((trial.enrol_speaker, trial.test_speaker))
        if fixed is None and key not in scorers:
            others = cohort_without(prints, *key) if method.startswith("snorm") else None
            scorers[key] = Scorer(method, others, top_n, encoder)
        scorer = fixed or scorers[key]
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
    impostors: Callable[[str, str], bool] | None = None,
) -> tuple[Calibration, Scores]:
    """A full calibration from voiceprints grouped by speaker, and the full-length trial scores behind it.

    The score method is the one with the lowest equal error rate on these trials (ties go to the
    simpler, earlier method in ``METHODS``); cohort methods are scored with leave-speakers-out
    cohorts, so they are not flattered. Enrolments include their ``variants`` when given, as the
    registry stores them. Thresholds are then set per length band. Impostor trials are kept only
    where ``impostors`` holds, if given (see ``trial_scores``).
    """
    full = {m: trial_scores(prints, m, impostors=impostors, variants=variants) for m in _candidate_methods(prints)}
    method = min(full, key=lambda m: equal_error_rate(*full[m]))
    cuts = {window_seconds(w): band_cutter(w) for w in BAND_WINDOWS}
    bands = {seconds: trial_scores(prints, method, cut, impostors, variants=variants) for seconds, cut in cuts.items()}
    groups = {seconds: _by_corpus(prints, method, cut, variants) for seconds, cut in {0.0: None, **cuts}.items()}
    encoder = next(iter(prints.values()))[0].encoder
    return calibrate(method, full[method], bands, source, encoder, groups), full[method]


def _by_corpus(
    prints: Mapping[str, Sequence[VoicePrint]],
    method: str,
    cut: Callable[[VoicePrint], list[VoicePrint]] | None,
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None,
) -> dict[str, np.ndarray]:
    """Each corpus's impostor scores on their own (enrolment and test speakers both from it)."""
    found = {}
    for corpus in sorted({corpus_of(s) for s in prints}):
        own = {s: p for s, p in prints.items() if corpus_of(s) == corpus}
        if len(own) >= 2:
            found[corpus] = trial_scores(own, method, cut, variants=variants, cohort=_cohort_for(prints, own, method))[
                1
            ]
    return found


def _cohort_for(
    prints: Mapping[str, Sequence[VoicePrint]], own: Mapping[str, Sequence[VoicePrint]], method: str
) -> np.ndarray | None:
    # A corpus's trials are normalised against the other corpora, as a shipped cohort would be.
    others = [p.vector for s, ps in prints.items() if s not in own for p in ps]
    return np.stack(others) if method.startswith("snorm") and len(others) >= 2 else None


def _candidate_methods(prints: Mapping[str, Sequence[VoicePrint]]) -> tuple[str, ...]:
    # S-norm needs other speakers in the cohort beyond a trial's two.
    return METHODS if len(prints) >= 4 else tuple(m for m in METHODS if not m.startswith("snorm"))


@dataclass(frozen=True)
class HeldOut:
    """Thresholds set without one corpus, and the error rates they give on it."""

    corpus: str
    speakers: int
    genuine_trials: int
    impostor_trials: int
    sound_alike_fmr: float
    same_person_fmr: float
    sound_alike_fnmr: float
    eer: float


def corpus_of(speaker: str) -> str:
    """The corpus of a namespaced speaker id (``vctk-p225`` -> ``vctk``)."""
    return speaker.split("-", 1)[0]


def same_corpus(enrol_speaker: str, test_speaker: str) -> bool:
    """Impostor trials worth counting: the same corpus (same channel), where impostors score highest."""
    return corpus_of(enrol_speaker) == corpus_of(test_speaker)


def leave_one_corpus_out(
    prints: Mapping[str, Sequence[VoicePrint]],
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None,
    folds: Mapping[str, Sequence[str]],
) -> list[HeldOut]:
    """For each fold (a name and its corpora): calibrate on every other corpus, measure on the fold.

    The held-out fold's trials use a cohort of the calibration corpora only, as the shipped
    cohort holds none of the people the guard later meets.
    """
    rows = []
    for name, corpora in folds.items():
        test = {s: p for s, p in prints.items() if corpus_of(s) in corpora}
        train = {s: p for s, p in prints.items() if corpus_of(s) not in corpora}
        if len(test) < 2 or len(train) < 4:
            continue
        calibration, _ = calibrate_prints(train, variants, impostors=same_corpus)
        cohort = np.stack([p.vector for own in train.values() for p in own])
        genuine, impostor = trial_scores(test, calibration.method, variants=variants, cohort=cohort)
        if len(genuine) == 0 or len(impostor) == 0:
            continue
        rows.append(
            HeldOut(
                name,
                len(test),
                len(genuine),
                len(impostor),
                float(np.mean(impostor >= calibration.sound_alike)),
                float(np.mean(impostor >= calibration.same_person)),
                float(np.mean(genuine < calibration.sound_alike)),
                equal_error_rate(genuine, impostor),
            )
        )
    return rows
