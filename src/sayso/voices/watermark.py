"""The audio watermark: Resemble's PerTh implicit watermarker (``resemble-perth``, MIT, weights inside).

PerTh imports three transforms from ``torchaudio``. torchaudio is not installed on purpose: its
wheels must match torch exactly and stop at 2.11, so using it would mean trading our CPU torch
2.13 for a ~7 GB CUDA torch 2.9 build. PerTh only runs two of the transforms at inference
(a complex STFT and its inverse; ``TimeStretch`` is built but only used in training), so
``_torchaudio_shim`` supplies them on ``torch.stft``/``torch.istft``, with torchaudio's defaults
(centred, reflect padding, one-sided, window as a buffer). The shim lives in ``sys.modules`` only
while PerTh is imported, so nothing else can mistake it for the real torchaudio.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sayso.audio.frames import Audio
from sayso.errors import ModelMissing

DETECTION_THRESHOLD = 0.5
"""Mean decoder output over the clip above which it carries the watermark (see bench/watermark.py)."""

MIN_HIGH_BAND_SHARE = 0.001
"""Audio with less of its energy above 4.2 kHz than this is too narrow-band to judge: PerTh scores
telephone-band human speech (8 kHz recordings) as marked (7% of FSDD), while Sayso speech, even
after MP3 or resampling to 16 kHz, keeps 0.6%-3% of its energy up there (bench/watermark.py)."""
_HIGH_BAND_HZ = 4_200
_MIN_SECONDS = 0.25  # shorter clips give too few STFT frames to embed in or decide on


@dataclass(frozen=True)
class Detection:
    """Whether audio carries the watermark; ``score`` is the decoder's output (0..1).

    ``decidable`` is False for audio too short or too narrow-band to judge (then ``found`` is False).
    """

    found: bool
    score: float
    decidable: bool = True


def _import_perth() -> Any:
    """PerTh's implicit watermarker class, imported with the shim in place of torchaudio."""
    from sayso.voices import torchaudio_shim

    shim = torchaudio_shim.module()
    saved = {name: sys.modules.get(name) for name in ("torchaudio", "torchaudio.transforms")}
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = shim, shim.transforms
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker
    except ImportError as error:
        raise ModelMissing("The resemble-perth package is missing; run `make run` to set Sayso up.") from error
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return PerthImplicitWatermarker


def high_band_share(audio: Audio) -> float:
    """The share of the audio's energy above 4.2 kHz (0 for audio sampled at 8 kHz)."""
    if audio.rate <= 2 * _HIGH_BAND_HZ:
        return 0.0
    power = np.abs(np.fft.rfft(audio.samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio.samples), 1 / audio.rate)
    return float(power[freqs >= _HIGH_BAND_HZ].sum() / max(float(power.sum()), 1e-20))


class Watermarker:
    """Embeds and detects the PerTh watermark; one model, safe to share (calls are serialised)."""

    def __init__(self, threshold: float = DETECTION_THRESHOLD) -> None:
        import torch

        self.threshold = threshold
        with contextlib.redirect_stdout(io.StringIO()):  # PerTh prints a line on load
            self._model = _import_perth()(device="cpu")
        self._torch = torch
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> Audio:
        """``audio`` with the watermark in it, at the same rate and length."""
        if len(audio.samples) == 0:
            return audio
        samples = audio.samples.astype(np.float32)
        short = int(_MIN_SECONDS * audio.rate) - len(samples)
        if short > 0:  # the STFT needs some length: pad a tiny clip ("Yes.") with silence, then trim
            samples = np.concatenate([samples, np.zeros(short, dtype=np.float32)])
        with self._lock, self._torch.inference_mode():
            marked = self._model.apply_watermark(samples, sample_rate=audio.rate)
        marked = np.asarray(marked, dtype=np.float32)[: len(audio.samples)]
        if len(marked) < len(audio.samples):  # the inverse STFT may drop a partial last hop
            marked = np.concatenate([marked, audio.samples[len(marked) :]])
        return Audio(np.clip(marked, -1.0, 1.0), audio.rate)

    def detect(self, audio: Audio) -> Detection:
        """Whether ``audio`` carries the watermark."""
        if audio.duration < _MIN_SECONDS or audio.peak() == 0.0 or high_band_share(audio) < MIN_HIGH_BAND_SHARE:
            return Detection(False, 0.0, decidable=False)
        with self._lock, self._torch.inference_mode():
            bits = self._model.get_watermark(audio.samples.astype(np.float32), sample_rate=audio.rate, round=False)
        score = float(np.mean(bits))
        return Detection(score > self.threshold, score)
