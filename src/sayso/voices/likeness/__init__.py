"""The likeness guard: no voice may sound like a person who asked not to be imitated.

``load_guard(settings)`` gives the guard the voices and the spoken turn use (it implements
``sayso.voices.guard.LikenessGuard``). Its calibration (method, thresholds, error rates) and
score-normalisation cohort come from ``<data dir>/likeness/`` when `sayso likeness calibrate`
has written them there, else from the ones shipped in this package (calibrated on the shared
speech set: VCTK, LibriSpeech test-other and LJ Speech).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sayso.config import Settings
from sayso.store.db import Database
from sayso.voices.likeness.calibration import Calibration
from sayso.voices.likeness.guard import Guard
from sayso.voices.likeness.registry import Registry

SHIPPED = Path(__file__).parent / "data"
CALIBRATION_FILE = "calibration.json"
COHORT_FILE = "cohort.npy"

__all__ = ["Guard", "Registry", "likeness_dir", "load_calibration", "load_cohort", "load_guard", "load_registry"]


def likeness_dir(data_dir: Path) -> Path:
    """Where the guard keeps its index, calibration and cohort inside the data directory."""
    return data_dir / "likeness"


def _local_or_shipped(data_dir: Path | None, name: str) -> Path:
    local = likeness_dir(data_dir) / name if data_dir else None
    return local if local is not None and local.exists() else SHIPPED / name


def load_calibration(data_dir: Path | None) -> Calibration:
    """The calibration written by `sayso likeness calibrate` in ``data_dir``, else the shipped one."""
    return Calibration.load(_local_or_shipped(data_dir, CALIBRATION_FILE))


def load_cohort(data_dir: Path | None) -> np.ndarray:
    """The cohort of other speakers' vectors that scores are normalised against."""
    return np.load(_local_or_shipped(data_dir, COHORT_FILE))


def load_registry(settings: Settings) -> Registry:
    """The protected registry in the settings' data directory (no model is loaded)."""
    return Registry(Database.in_data_dir(settings.data_dir), likeness_dir(settings.data_dir))


def load_guard(settings: Settings) -> Guard:
    """The likeness guard with the Resemblyzer embedder.

    The embedder (about 4 s to load with torch) is loaded now when someone is protected, else
    on first use: with an empty registry utterances need no embedding, and start-up stays fast.
    """
    from sayso.voices.embedding import LazyEmbedder, ResemblyzerEmbedder

    registry = load_registry(settings)
    return Guard(
        registry,
        ResemblyzerEmbedder() if len(registry) else LazyEmbedder(ResemblyzerEmbedder),
        load_calibration(settings.data_dir),
        load_cohort(settings.data_dir),
    )
