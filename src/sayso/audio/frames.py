"""The one in-memory audio type: mono float32 samples in [-1, 1] at a known rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

SAMPLE_RATE = 16_000
"""The rate every model input uses (VAD, STT, speaker embeddings)."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: np.ndarray
    rate: int

    @staticmethod
    def from_array(data: np.ndarray, rate: int) -> Audio:
        """Make mono float32 audio from an array shaped (frames,) or (frames, channels)."""
        array = np.asarray(data)
        if array.dtype.kind == "i":
            array = array.astype(np.float32) / float(np.iinfo(array.dtype).max)
        array = array.astype(np.float32, copy=False)
        if array.ndim == 2:
            array = array.mean(axis=1, dtype=np.float32)
        return Audio(np.clip(array, -1.0, 1.0), int(rate))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate

    def resampled(self, rate: int = SAMPLE_RATE) -> Audio:
        """The same audio at ``rate`` Hz."""
        if rate == self.rate or len(self.samples) == 0:
            return Audio(self.samples, rate)
        return Audio(soxr.resample(self.samples, self.rate, rate).astype(np.float32), rate)

    def to_int16(self) -> np.ndarray:
        """Samples as 16-bit PCM."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)

    @staticmethod
    def concat(parts: list[Audio], rate: int) -> Audio:
        """Join pieces that share ``rate`` (an empty list gives empty audio)."""
        if not parts:
            return Audio(np.zeros(0, dtype=np.float32), rate)
        if any(part.rate != rate for part in parts):
            raise ValueError("all pieces must share one sample rate")
        return Audio(np.concatenate([part.samples for part in parts]), rate)

    def peak(self) -> float:
        """Largest absolute sample."""
        return float(np.max(np.abs(self.samples))) if len(self.samples) else 0.0
