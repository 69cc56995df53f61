"""The likeness guard: no voice may sound like a person who asked not to be imitated.

``load_guard(settings)`` gives the guard the voices and the spoken turn use (it implements
``sayso.voices.guard.LikenessGuard``). It embeds with the default encoder (Resemblyzer and
CAM++ fused, see ``sayso.voices.embedding``). Its calibration (method, thresholds, error rates)
and score-normalisation cohort come from ``<data dir>/likeness/`` when `sayso likeness
calibrate` has written them there for that encoder, else from the ones shipped in this package
(``data/``, calibrated on the shared speech set). ``data/resemblyzer/`` keeps the calibration
of the first encoder, for people protected before the encoder changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sayso.config import Settings
from sayso.store.db import Database
from sayso.voices.embedding import DEFAULT_ENCODER, RESEMBLYZER, LazyEmbedder, load_embedder
from sayso.voices.likeness.calibration import Calibration
from sayso.voices.likeness.guard import Guard
from sayso.voices.likeness.lent import reembed_lent_voices
from sayso.voices.likeness.registry import Registry

SHIPPED = Path(__file__).parent / "data"
CALIBRATION_FILE = "calibration.json"
COHORT_FILE = "cohort.npy"

__all__ = [
    "Guard",
    "Registry",
    "likeness_dir",
    "load_calibration",
    "load_cohort",
    "load_guard",
    "load_older",
    "load_registry",
]


def likeness_dir(data_dir: Path) -> Path:
    """Where the guard keeps its index, calibration and cohort inside the data directory."""
    return data_dir / "likeness"


def _folder(data_dir: Path | None, encoder: str) -> Path:
    """The folder holding ``encoder``'s calibration and cohort: the local one if it was made for it."""
    local = likeness_dir(data_dir) / CALIBRATION_FILE if data_dir else None
    # Files written before the encoder was recorded in them were Resemblyzer's.
    if local is not None and local.exists() and _encoder_in(local) == encoder:
        return local.parent
    return SHIPPED if encoder == DEFAULT_ENCODER else SHIPPED / encoder


def _encoder_in(calibration_file: Path) -> str:
    return str(json.loads(calibration_file.read_text(encoding="utf-8")).get("encoder", RESEMBLYZER))


def load_calibration(data_dir: Path | None, encoder: str = DEFAULT_ENCODER) -> Calibration:
    """``encoder``'s calibration written by `sayso likeness calibrate` in ``data_dir``, else the shipped one."""
    return Calibration.load(_folder(data_dir, encoder) / CALIBRATION_FILE)


def load_cohort(data_dir: Path | None, encoder: str = DEFAULT_ENCODER) -> np.ndarray:
    """The cohort of other speakers' vectors that ``encoder``'s scores are normalised against."""
    return np.load(_folder(data_dir, encoder) / COHORT_FILE)


def load_older(data_dir: Path | None) -> dict[str, tuple[Calibration, np.ndarray]]:
    """The calibration and cohort of each older encoder whose vectors may still be stored."""
    return {RESEMBLYZER: (load_calibration(data_dir, RESEMBLYZER), load_cohort(data_dir, RESEMBLYZER))}


def load_registry(settings: Settings) -> Registry:
    """The protected registry in the settings' data directory (no model is loaded)."""
    return Registry(Database.in_data_dir(settings.data_dir), likeness_dir(settings.data_dir))


def load_guard(settings: Settings) -> Guard:
    """The likeness guard with the default (fused) embedder.

    The embedder (a few seconds to load with torch) is loaded now when someone is protected, else
    on first use: with an empty registry utterances need no embedding, and start-up stays fast.
    Lent voices whose reference voiceprint an older encoder made are re-embedded from their
    kept reference recording (``lent``); people on the registry (no audio kept) stay scored with
    the encoder that made their vectors.
    """
    registry = load_registry(settings)
    embedder = load_embedder() if len(registry) else LazyEmbedder(load_embedder)
    older = {
        RESEMBLYZER: (load_calibration(settings.data_dir, RESEMBLYZER), load_cohort(settings.data_dir, RESEMBLYZER))
    }
    guard = Guard(
        registry,
        embedder,
        load_calibration(settings.data_dir),
        load_cohort(settings.data_dir),
        older,
    )
    reembed_lent_voices(registry.db, guard.embedder)
    return guard
