"""The shared speech set (../shared/data/speech): its manifest rows."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


@dataclass(frozen=True)
class Recording:
    path: Path
    speaker: str
    transcript: str
    duration: float


def recordings(folder: str) -> list[Recording]:
    """Rows of the shared speech manifest under ``folder`` (e.g. ``vctk``)."""
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Recording(SPEECH_DIR / r["path"], r["speaker"], r["transcript"], float(r["duration_s"]))
        for r in rows
        if r["path"].startswith(folder + "/")
    ]
