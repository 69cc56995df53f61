"""Voice activity detection: Silero VAD (the ONNX file shipped in faster-whisper) on onnxruntime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.errors import ModelMissing

FRAME_SAMPLES = 512
"""Silero's window at 16 kHz: 32 ms."""
_CONTEXT = 64
_STATE = (1, 1, 128)


class VAD(Protocol):
    """Streaming speech probability for 16 kHz frames of ``FRAME_SAMPLES`` samples."""

    def probability(self, frame: np.ndarray) -> float:
        """Probability that this frame holds speech; frames must arrive in order."""
        ...

    def reset(self) -> None:
        """Forget the stream so far."""
        ...


@dataclass(frozen=True)
class Segment:
    """A stretch of speech, in seconds from the start of the audio."""

    start: float
    end: float


def silero_model_path() -> Path:
    """The Silero VAD ONNX file inside the faster-whisper package."""
    try:
        import faster_whisper
    except ImportError as error:  # pragma: no cover - a broken install
        raise ModelMissing("faster-whisper is not installed; run `make run` to set Sayso up.") from error
    return Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"


class SileroVAD:
    """Silero VAD v6 on onnxruntime, one thread: about 6 ms of CPU per second of audio."""

    def __init__(self) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(silero_model_path()), providers=["CPUExecutionProvider"], sess_options=options
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros(_STATE, dtype=np.float32)
        self._c = np.zeros(_STATE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def probability(self, frame: np.ndarray) -> float:
        if len(frame) != FRAME_SAMPLES:
            raise ValueError(f"VAD frames hold {FRAME_SAMPLES} samples, not {len(frame)}")
        window = np.concatenate([self._context, frame.astype(np.float32, copy=False)])[None, :]
        self._context = window[0, -_CONTEXT:]
        return float(self._run(window)[0])

    def _run(self, windows: np.ndarray) -> np.ndarray:
        probs, self._h, self._c = self._session.run(None, {"input": windows, "h": self._h, "c": self._c})
        return np.asarray(probs, dtype=np.float32).reshape(-1)


def frame_probabilities(vad: VAD, audio: Audio) -> np.ndarray:
    """Speech probability of every whole 32 ms frame of a recording (the stream starts fresh)."""
    samples = audio.resampled(SAMPLE_RATE).samples
    vad.reset()
    probs = [
        vad.probability(samples[i : i + FRAME_SAMPLES])
        for i in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    ]
    vad.reset()
    return np.asarray(probs, dtype=np.float32)


def speech_in(vad: VAD, audio: Audio) -> list[Segment]:
    """The speech segments of a recording."""
    return speech_segments(frame_probabilities(vad, audio))


def speech_segments(
    probs: np.ndarray,
    threshold: float = 0.5,
    min_speech: float = 0.2,
    min_silence: float = 0.3,
) -> list[Segment]:
    """Group frame probabilities into speech segments, bridging pauses under ``min_silence``."""
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    segments: list[Segment] = []
    start: int | None = None
    last_voiced = -1
    for index, prob in enumerate(probs):
        if prob >= threshold:
            if start is None:
                start = index
            last_voiced = index
        elif start is not None and (index - last_voiced) * frame_s >= min_silence:
            segments.append(Segment(start * frame_s, (last_voiced + 1) * frame_s))
            start = None
    if start is not None:
        segments.append(Segment(start * frame_s, (last_voiced + 1) * frame_s))
    return [s for s in segments if s.end - s.start >= min_speech]
