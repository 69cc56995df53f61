"""Echo cancellation: remove Sayso's own voice, played on the speakers, from the microphone.

The engine hands every 16 kHz microphone frame here together with the reference: the samples
the output reported as played during that frame. The echo path (speaker -> room -> microphone)
is modelled as a bulk delay plus a ``TAPS``-long FIR filter, refitted every ``REFIT_EVERY`` s
while Sayso talks and the user does not:

1. the bulk delay is the lag (0 to ``MAX_DELAY`` s) of the peak of the cross-correlation between
   the last ``WINDOW`` s of microphone and reference;
2. the filter is the least-squares (Wiener) solution around that lag, solved as a Toeplitz
   system (Levinson), and kept only if it removes at least half the microphone energy.

The residual (microphone minus the predicted echo) goes to the VAD. A frame may count as the
user's speech only if the residual is at least ``margin`` of the predicted echo's level, so the
reverberant tail the filter misses cannot pass for a person. Until the echo path is known
(the first ``REFIT_EVERY`` s of Sayso's first reply), only sound twice as loud as the
reference played over the last ``MAX_DELAY`` s counts; with no coupling at all (headphones), the
gate is open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import fftconvolve

from sayso.audio.frames import SAMPLE_RATE

MAX_DELAY = 0.4
TAPS = 1024
PRE_TAPS = 64
"""Filter taps before the correlation peak, for a peak that is not the direct path."""
WINDOW = 2.0
REFIT_EVERY = 0.25
UNKNOWN_PATH_MARGIN = 2.0
LEVEL_FRAMES = 4
"""The gate compares the residual with the loudest predicted echo of this many recent frames."""
_RIDGE = 3e-2


@dataclass(frozen=True)
class EchoResult:
    """One microphone frame after echo cancellation."""

    residual: np.ndarray
    echo_level: float  # RMS of the predicted echo in this frame
    gate_open: bool  # whether this frame may count as the user's speech


class EchoCanceller:
    """A refitted FIR echo canceller with a residual gate (see the module docstring)."""

    def __init__(self, margin: float = 1.5) -> None:
        self.margin = margin
        self._history = int((WINDOW + MAX_DELAY) * SAMPLE_RATE) + TAPS
        self._mic = np.zeros(self._history, np.float32)
        self._ref = np.zeros(self._history, np.float32)
        self._filter: np.ndarray | None = None
        self._offset = 0  # lag of the filter's first tap, in samples
        self._coupled: bool | None = None  # None: not known yet
        self._since_fit = 0
        self._active = 0  # samples of non-silent reference in the history
        self._levels: list[float] = []  # predicted echo levels of the last frames

    @property
    def converged(self) -> bool:
        """Whether the echo path (or its absence) is known."""
        return self._coupled is not None

    def process(self, mic: np.ndarray, reference: np.ndarray, user_speaking: bool) -> EchoResult:
        """Cancel the echo in ``mic`` given the ``reference`` played over the same span.

        ``user_speaking``: whether the user was speaking in the previous frame (no refit then).
        """
        n = len(mic)
        self._mic = np.concatenate([self._mic[n:], mic.astype(np.float32, copy=False)])
        self._ref = np.concatenate([self._ref[n:], reference.astype(np.float32, copy=False)])
        playing = float(np.max(np.abs(reference), initial=0.0)) > 1e-4
        self._active = min(self._history, self._active + n) if playing else max(0, self._active - n)
        self._since_fit += n
        due = self._since_fit >= REFIT_EVERY * SAMPLE_RATE
        if due and not user_speaking and self._active >= REFIT_EVERY * SAMPLE_RATE:
            self._fit()
        echo = self._predicted(n)
        residual = mic - echo
        level = _rms(echo)
        if not self._active:
            return EchoResult(residual, level, True)
        if self._coupled is None:  # path unknown yet: only sound as loud as what is played counts
            recent = self._ref[-int(MAX_DELAY * SAMPLE_RATE) :]
            loudest = max(_rms(frame) for frame in np.array_split(recent, len(recent) // n))
            return EchoResult(residual, level, _rms(mic) >= UNKNOWN_PATH_MARGIN * loudest)
        self._levels = [*self._levels[-(LEVEL_FRAMES - 1) :], level]
        return EchoResult(residual, level, _rms(residual) >= self.margin * max(self._levels))

    def _predicted(self, n: int) -> np.ndarray:
        if self._filter is None:
            return np.zeros(n, np.float32)
        end = len(self._ref) - self._offset
        segment = self._ref[end - n - len(self._filter) + 1 : end]
        return np.convolve(segment, self._filter, mode="valid").astype(np.float32)

    def _fit(self) -> None:
        self._since_fit = 0
        window = min(int(WINDOW * SAMPLE_RATE), self._active)  # only the span where Sayso spoke
        mic = self._mic[-window:].astype(np.float64)
        ref = self._ref.astype(np.float64)
        mic_energy = float(np.dot(mic, mic))
        ref_tail = ref[-window:]
        if mic_energy < 1e-3 * float(np.dot(ref_tail, ref_tail)) + 1e-9:
            self._coupled, self._filter = False, None  # the microphone hears nothing of it
            return
        # correlation of mic[t] with ref[t - lag] for lag in [0, MAX_DELAY]
        corr = fftconvolve(ref, mic[::-1], mode="valid")[::-1]
        lag = int(np.argmax(np.abs(corr[: int(MAX_DELAY * SAMPLE_RATE)])))
        offset = max(0, lag - PRE_TAPS)
        candidate = self._wiener(mic, ref, offset)
        residual = mic - self._apply(candidate, ref, offset, window)
        if float(np.dot(residual, residual)) <= 0.5 * mic_energy:
            self._filter, self._offset, self._coupled = candidate.astype(np.float32), offset, True

    @staticmethod
    def _wiener(mic: np.ndarray, ref: np.ndarray, offset: int) -> np.ndarray:
        window = len(mic)
        end = len(ref) - offset
        x = ref[end - window - TAPS + 1 : end]
        auto = fftconvolve(x, x[::-1], mode="full")[len(x) - 1 : len(x) - 1 + TAPS]
        cross = fftconvolve(x, mic[::-1], mode="valid")[::-1][:TAPS]
        auto[0] += _RIDGE * auto[0] + 1e-9
        return np.asarray(solve_toeplitz(auto, cross), dtype=np.float64)

    @staticmethod
    def _apply(taps: np.ndarray, ref: np.ndarray, offset: int, n: int) -> np.ndarray:
        end = len(ref) - offset
        return np.convolve(ref[end - n - len(taps) + 1 : end], taps, mode="valid")


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
