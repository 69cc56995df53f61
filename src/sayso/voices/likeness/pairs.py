"""Scoring enrolment/test pairs listed in a TSV (`sayso likeness score`).

A score says how alike two recordings sound: the calibrated score method (the one the guard
uses, with its cohort) between the enrolment's voice, from all its files, and the test. It
does not use the disguised variants (pitch, stretch, noise) the registry stores with each
protected person: those exist so an imitation that disguises a voice is still caught, and
taking the best of six rows would make every pair, a genuine one or not, look more alike than
the recordings are (and cost six embeddings per enrolment file). So each distinct file is read
and embedded exactly once, however many pairs name it, and thousands of pairs cost little more
than their files' embeddings.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sayso.errors import EmptyAudio, InputError
from sayso.voices.embedding import VoicePrint, enrolment_vector

COLUMNS = ("enroll", "test")
PROGRESS_SECONDS = 5.0
"""A long run reports its progress on standard error at most this often."""


@dataclass(frozen=True)
class Pairs:
    """The rows of a pairs file (each cell kept) and its columns, in order."""

    columns: list[str]
    rows: list[dict[str, str]]

    def files(self) -> list[str]:
        """Every distinct audio file the pairs name, enrolment and test, each once."""
        named = {f for row in self.rows for f in (*_enrolment(row), row["test"])}
        return sorted(named)


def read_pairs(path: Path) -> Pairs:
    """The pairs in a tab-separated file with a header holding ``enroll`` and ``test`` (InputError if not)."""
    if not path.is_file():
        raise InputError(f"There is no pairs file at {path}; check the path.")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            columns = list(reader.fieldnames or [])
            missing = [c for c in COLUMNS if c not in columns]
            if missing:
                raise InputError(
                    f"{path} has no {' or '.join(missing)} column; it needs a tab-separated header "
                    "with the columns enroll and test."
                )
            rows = [_checked(path, reader.line_num, row, len(columns)) for row in reader]
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not UTF-8 text; save it as a tab-separated UTF-8 file.") from error
    return Pairs(columns, rows)


def _checked(path: Path, line: int, row: dict[str | None, str | list[str] | None], width: int) -> dict[str, str]:
    if None in row:  # DictReader files the cells past the header's under None
        cells = width + len(row[None] or [])
        raise InputError(f"{path} line {line} has {cells} cells but the header has {width}; fix that row.")
    if not row.get("test") or not _enrolment({"enroll": str(row.get("enroll") or "")}):
        raise InputError(f"{path} line {line} has an empty enroll or test cell; fill or remove it.")
    return {str(k): str(v) for k, v in row.items()}


def embed_files(
    files: Sequence[str], voiceprint: Callable[[str], VoicePrint], progress: Callable[[str], None] | None = None
) -> dict[str, VoicePrint]:
    """Each file's voiceprint (``voiceprint`` reads and embeds one file), reporting progress now and then."""
    report = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    prints: dict[str, VoicePrint] = {}
    started = last = time.monotonic()
    for count, name in enumerate(files, 1):
        try:
            prints[name] = voiceprint(name)
        except EmptyAudio as error:
            raise EmptyAudio(f"{name} holds no speech; remove its pairs or replace the file.") from error
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS or (count == len(files) and now - started >= PROGRESS_SECONDS):
            last = now
            rate = count / max(now - started, 1e-9)
            left = (len(files) - count) / rate
            report(f"embedded {count}/{len(files)} files ({rate:.1f} files/s, about {left:.0f} s left)")
    return prints


def score_pairs(
    pairs: Pairs, prints: dict[str, VoicePrint], score: Callable[[np.ndarray, VoicePrint], float]
) -> list[float]:
    """Each pair's score: ``score(enrolment vector, test voiceprint)``; each enrolment is built once."""
    enrolments: dict[str, np.ndarray] = {}
    scores = []
    for row in pairs.rows:
        key = row["enroll"]
        if key not in enrolments:
            enrolments[key] = enrolment_vector([prints[f] for f in _enrolment(row)])
        scores.append(score(enrolments[key], prints[row["test"]]))
    return scores


def write_scored(path: Path, pairs: Pairs, scores: Sequence[float]) -> Path:
    """The pairs with a ``score`` column, written whole or not at all (a temporary file, then renamed)."""
    check_output(path)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*pairs.columns, "score"], delimiter="\t", lineterminator="\n")
            writer.writeheader()
            for row, value in zip(pairs.rows, scores, strict=True):
                writer.writerow({**row, "score": f"{value:.5f}"})
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def check_output(path: Path) -> None:
    """InputError unless ``path`` can be written in an existing folder (checked before hours of embedding)."""
    if not path.parent.is_dir():
        raise InputError(f"There is no folder {path.parent} to write {path.name} in; create it or pick another path.")


def _enrolment(row: dict[str, str]) -> list[str]:
    return [name for name in row["enroll"].split("|") if name]
