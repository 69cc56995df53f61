"""Helpers shared by the benchmarks: the shared speech set and percentile lines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.speechdata import SPEECH_DIR, Recording, recordings  # noqa: E402

__all__ = ["SPEECH_DIR", "Recording", "recordings", "summary"]


def summary(name: str, seconds: list[float], width: int = 22, decimals: int = 0) -> str:
    """One line: median and p95 in milliseconds over ``seconds`` (``decimals``: for sub-millisecond steps)."""
    values = np.asarray(seconds) * 1000
    median, p95 = np.median(values), np.percentile(values, 95)
    return f"{name:<{width}} median {median:7.{decimals}f} ms   p95 {p95:7.{decimals}f} ms   (n={len(values)})"


def print_targets(ready: list[float], first_audio: list[float]) -> None:
    """The foundation's targets on a 2-core CPU, against the medians just measured."""
    ready_ms, first_ms = np.median(ready) * 1000, np.median(first_audio) * 1000
    print(f"target models ready <= 5000 ms: {ready_ms:.0f} ms {'met' if ready_ms <= 5000 else 'MISSED'}")
    print(f"target first reply audio <= 1500 ms: {first_ms:.0f} ms {'met' if first_ms <= 1500 else 'MISSED'}")
