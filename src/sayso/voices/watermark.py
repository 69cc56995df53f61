"""The audio watermark: Resemble's PerTh implicit watermarker (``resemble-perth``, MIT, weights inside).

PerTh imports three transforms from ``torchaudio``. torchaudio is not installed on purpose: its
wheels must match torch exactly and stop at 2.11, so using it would mean trading our CPU torch
2.13 for a ~7 GB CUDA torch 2.9 build. PerTh only runs two of the transforms at inference
(a complex STFT and its inverse; ``TimeStretch`` is built but only used in training), so
``torchaudio_shim`` supplies them on ``torch.stft``/``torch.istft``, with torchaudio's defaults
(centred, reflect padding, one-sided, window as a buffer). The shim lives in ``sys.modules`` only
while PerTh is imported, so nothing else can mistake it for the real torchaudio.
"""

from __future__ import annotations

import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sayso.audio.frames import Audio
from sayso.errors import ModelMissing

DETECTION_THRESHOLD = 0.5
"""Median per-frame decoder output over the loudest frames above which audio carries the mark.

Not tuned to data: PerTh's decoder is trained to output 1 on marked and 0 on unmarked spectra, so
this is a majority vote of the loud frames (bench/watermark.py prints how far both sides sit from it).
"""

STRENGTH = 1.5
"""Scale on PerTh's spectral residual. At 1.0 (PerTh's own) white noise at 20 dB SNR hides the mark in
~8% of utterances (13 of 160, mostly eSpeak); 1.5 keeps it in all, at the price of a mark ~3.6 dB
louder (median 12.5 dB under the speech instead of 16.1 dB; bench/watermark.py prints both)."""

LOUD_SHARE = 0.3
"""Share of STFT frames, the loudest in the watermark band, that vote: quiet frames in noisy or human
audio carry no mark and only add noise to the decision."""

MIN_HIGH_BAND_SHARE = 5e-5
"""Audio with less of its energy above 4.2 kHz than this is telephone band and is not judged. PerTh's
mark lives below 2 kHz and survives resampling to 8 kHz, but on the 8 kHz FSDD recordings the
detector flags ~6% of human takes (bench/watermark.py), so a "found" there could not be trusted.
Band-limited audio keeps only resampler leakage up there (FSDD upsampled: under 1e-5); Sayso speech,
even a short "No problem at all." and after MP3 or resampling to 16 kHz, keeps over 3e-4, and the
human wide-band recordings here over 2e-3. The limit sits between, not at the edge of either."""
_HIGH_BAND_HZ = 4_200
_MIN_SECONDS = 0.25  # shorter clips give too few STFT frames to embed in or decide on


@dataclass(frozen=True)
class Detection:
    """Whether audio carries the watermark; ``score`` is the median loud-frame decoder output (0..1).

    ``decidable`` is False for audio too short or too narrow-band to judge (then ``found`` is False).
    """

    found: bool
    score: float
    decidable: bool = True


def _load_perth_net() -> Any:
    """PerTh's implicit network with its packaged weights, imported with the shim in place of torchaudio.

    Built the way ``PerthNet.from_cm`` builds it, less its ``print``: silencing that print by swapping
    ``sys.stdout`` is not safe while other models load on other threads (llama.cpp swaps it too, and
    the two swaps could leave the process printing into a discarded buffer).
    """
    from sayso.voices import torchaudio_shim

    shim = torchaudio_shim.module()
    saved = {name: sys.modules.get(name) for name in ("torchaudio", "torchaudio.transforms")}
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = shim, shim.transforms
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            from perth.perth_net import PREPACKAGED_MODELS_DIR
            from perth.perth_net.perth_net_implicit.checkpoint_manager import CheckpointManager
            from perth.perth_net.perth_net_implicit.model.perth_net import PerthNet
    except ImportError as error:
        raise ModelMissing("The resemble-perth package is missing; run `make run` to set Sayso up.") from error
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    checkpoints = CheckpointManager(PREPACKAGED_MODELS_DIR, "implicit")
    net = PerthNet(checkpoints.hp)
    net.load_state_dict(checkpoints.load_latest()["model"])
    return net.to("cpu")


def high_band_share(audio: Audio) -> float:
    """The share of the audio's energy above 4.2 kHz (0 for audio sampled at 8 kHz)."""
    if audio.rate <= 2 * _HIGH_BAND_HZ:
        return 0.0
    power = np.abs(np.fft.rfft(audio.samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio.samples), 1 / audio.rate)
    return float(power[freqs >= _HIGH_BAND_HZ].sum() / max(float(power.sum()), 1e-20))


class Watermarker:
    """Embeds and detects the PerTh watermark; one model, safe to share (calls are serialised).

    PerTh's own ``apply_watermark``/``get_watermark`` are unrolled here for two reasons: the residual
    is scaled by ``strength`` (see ``STRENGTH``), and detection keeps the decoder's per-frame outputs
    instead of PerTh's mean over every frame, which lets silence and noise frames sway the answer.
    """

    def __init__(self, threshold: float = DETECTION_THRESHOLD, strength: float = STRENGTH) -> None:
        import torch

        # Marking runs beside the LLM and TTS, piece by piece: one torch thread leaves them a core
        # (two threads on a busy 2-core machine ran ~5x slower, bench/watermark.py).
        torch.set_num_threads(1)
        self.threshold, self.strength = threshold, strength
        self._net = _load_perth_net()
        # loaded with PerTh just above, so this import needs no torchaudio: its mask of frames to mark
        from perth.perth_net.perth_net_implicit.model import magmask

        self._frame_mask = magmask
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
        at_model_rate = Audio(samples, audio.rate).resampled(self._rate).samples
        marked = Audio(self._mark(at_model_rate), self._rate).resampled(audio.rate).samples[: len(audio.samples)]
        if len(marked) < len(audio.samples):  # the inverse STFT may drop a partial last hop
            marked = np.concatenate([marked, audio.samples[len(marked) :]])
        return Audio(np.clip(marked, -1.0, 1.0).astype(np.float32), audio.rate)

    def detect(self, audio: Audio) -> Detection:
        """Whether ``audio`` carries the watermark."""
        if audio.duration < _MIN_SECONDS or audio.peak() == 0.0 or high_band_share(audio) < MIN_HIGH_BAND_SHARE:
            return Detection(False, 0.0, decidable=False)
        score = self.score(audio)
        return Detection(score > self.threshold, score)

    def score(self, audio: Audio) -> float:
        """The decision statistic (0..1), for any audio: the median decoder output of the loudest frames."""
        votes, loudness = self._frame_outputs(audio)
        loud = votes[loudness >= np.quantile(loudness, 1.0 - LOUD_SHARE)]
        return float(np.clip(np.median(loud), 0.0, 1.0))

    @property
    def _rate(self) -> int:
        return int(self._net.hp.sample_rate)

    def _mark(self, samples: np.ndarray) -> np.ndarray:
        """PerTh's encoder on ``samples`` (at the model's rate), its residual scaled by ``strength``."""
        torch, net = self._torch, self._net
        with self._lock, torch.inference_mode():
            magspec, phase = net.ap.signal_to_magphase(torch.from_numpy(samples))
            magspec = magspec[None].clone()
            band = net.encoder.subband
            residual = net.encoder.layers(magspec[:, :band]) * self._frame_mask(magspec)[:, None]
            magspec[:, :band] += self.strength * residual
            marked = net.ap.magphase_to_signal(magspec[0], phase)
        return np.asarray(marked.numpy(), dtype=np.float32)

    def _frame_outputs(self, audio: Audio) -> tuple[np.ndarray, np.ndarray]:
        """The decoder's per-frame output (about 1 marked, 0 not) and each frame's mean log magnitude.

        PerTh's decoder runs three branches at different time scales, each giving a per-frame mark
        estimate and attention; they are combined per frame here, where PerTh averages first.
        """
        torch, net = self._torch, self._net
        functional = torch.nn.functional
        samples = audio.resampled(self._rate).samples.astype(np.float32, copy=False)
        with self._lock, torch.inference_mode():
            magspec, _ = net.ap.signal_to_magphase(torch.from_numpy(samples))
            band = magspec[None, : net.decoder.subband]
            frames = band.shape[2]
            branches = []
            for layers, scale in (
                (net.decoder.slow_layers, 1.25),
                (net.decoder.normal_layers, 1.0),
                (net.decoder.fast_layers, 0.75),
            ):
                scaled = functional.interpolate(band, size=int(frames * scale), mode="linear", align_corners=True)
                out = functional.interpolate(layers(scaled), size=frames, mode="linear", align_corners=True)
                branches.append(out[0])
            stacked = torch.stack(branches)  # (branch, attention|mark, frame)
            votes = (torch.softmax(stacked[:, 0], dim=0) * stacked[:, 1]).sum(dim=0)
        return votes.numpy(), band[0].mean(dim=0).numpy()
