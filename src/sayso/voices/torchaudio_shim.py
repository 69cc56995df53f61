"""A stand-in for ``torchaudio`` holding only the three transforms resemble-perth imports.

torchaudio has no wheel matching the CPU torch Sayso installs (the alternative is a ~7 GB CUDA
torch + torchaudio pair), so these are written on ``torch.stft`` / ``torch.istft``. The module is
put in ``sys.modules`` only while PerTh is imported (see ``sayso.voices.watermark``).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class Spectrogram(nn.Module):
    """torchaudio.transforms.Spectrogram with power=None: the complex centred STFT."""

    def __init__(
        self,
        n_fft: int,
        win_length: int,
        hop_length: int,
        window_fn: Callable[..., torch.Tensor],
        power: float | None = None,
        normalized: bool = False,
    ) -> None:
        super().__init__()
        if power is not None or normalized:
            raise NotImplementedError("the shim only supports power=None, normalized=False")
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.register_buffer("window", window_fn(win_length))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.stft(
            waveform,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.get_buffer("window"),
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )


class InverseSpectrogram(Spectrogram):
    """torchaudio.transforms.InverseSpectrogram: the inverse of the centred STFT."""

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return torch.istft(
            spec,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.get_buffer("window"),
            center=True,
            normalized=False,
            onesided=True,
        )


class TimeStretch(nn.Module):
    """Built by PerTh's audio processor but used only in training; refuses to run."""

    def __init__(self, n_freq: int, hop_length: int) -> None:
        super().__init__()
        # the checkpoint holds this buffer, so it must exist for the weights to load
        self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, *_: Any) -> torch.Tensor:
        raise NotImplementedError("TimeStretch is not supplied: PerTh needs it only for training")


def module() -> types.ModuleType:
    """A module object that imports as ``torchaudio`` (with ``torchaudio.transforms``)."""
    transforms = types.ModuleType("torchaudio.transforms")
    transforms.Spectrogram = Spectrogram  # type: ignore[attr-defined]
    transforms.InverseSpectrogram = InverseSpectrogram  # type: ignore[attr-defined]
    transforms.TimeStretch = TimeStretch  # type: ignore[attr-defined]
    shim = types.ModuleType("torchaudio")
    shim.transforms = transforms  # type: ignore[attr-defined]
    return shim
