"""Speaker embeddings: who is speaking, as a unit vector (cosine similarity = dot product).

The interface is ``embed`` (one vector per recording) plus ``voiceprint`` (that vector, the
vectors of its ~1.6 s windows for segment-level scoring, and how much speech there was). The
default backend is Resemblyzer (GE2E, 256-d, its weights ship in the ``resemblyzer`` package),
run on the voiced parts of the audio only: Silero VAD picks them, so pauses, silence and
background between words do not dilute who is speaking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import VAD, SileroVAD, speech_in
from sayso.errors import EmptyAudio

_PAD_SECONDS = 0.05
"""Kept either side of each voiced segment so word edges are not clipped."""


@dataclass(frozen=True)
class VoicePrint:
    """A recording's speaker evidence: the whole-recording vector and one per window."""

    vector: np.ndarray
    segments: np.ndarray
    speech_seconds: float


class SpeakerEmbedder(Protocol):
    """Maps speech to an L2-normalised vector; the same speaker gives nearby vectors."""

    dim: int

    def embed(self, audio: Audio) -> np.ndarray:
        """The embedding of the voiced parts of ``audio`` (float32, shape (dim,), unit length)."""
        ...

    def voiceprint(self, audio: Audio) -> VoicePrint:
        """The embedding, the per-window embeddings (n, dim) and the seconds of speech used."""
        ...


def unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` (or each row) scaled to unit length, as float32."""
    array = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.maximum(norms, 1e-9)


def enrolment_vector(prints: Sequence[VoicePrint]) -> np.ndarray:
    """One vector for a speaker from several recordings: the mean of their windows, weighted by speech."""
    if not prints:
        raise ValueError("an enrolment needs at least one recording")
    # Averaging windows (not per-file vectors) weights each file by how much speech it holds.
    return unit(np.concatenate([p.segments for p in prints]).mean(axis=0))


class ResemblyzerEmbedder:
    """Resemblyzer's GE2E voice encoder on the CPU (~65 ms per 5 s clip), on Silero-voiced audio."""

    dim = 256

    def __init__(self, vad: VAD | None = None) -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)
        self._vad = vad or SileroVAD()
        self._lock = threading.Lock()  # the VAD keeps stream state; one recording at a time
        # The first forward pass costs ~2 s (lazy initialisation in torch); pay it at load, not on a clause.
        self._encoder.embed_utterance(np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE).astype(np.float32))

    def embed(self, audio: Audio) -> np.ndarray:
        return self.voiceprint(audio).vector

    def voiceprint(self, audio: Audio) -> VoicePrint:
        from resemblyzer.audio import normalize_volume

        wav = self.voiced(audio)
        wav = normalize_volume(wav, -30, increase_only=True)
        with self._lock:
            vector, partials, _ = self._encoder.embed_utterance(wav, return_partials=True)
        return VoicePrint(unit(vector), unit(partials), len(wav) / SAMPLE_RATE)

    def voiced(self, audio: Audio) -> np.ndarray:
        """The 16 kHz samples of the speech in ``audio``, pauses removed; EmptyAudio if there is none."""
        audio = audio.resampled(SAMPLE_RATE)
        with self._lock:
            segments = speech_in(self._vad, audio)
        if not segments:
            raise EmptyAudio("The audio holds no speech (only silence or noise); give a recording of someone talking.")
        pad = int(_PAD_SECONDS * SAMPLE_RATE)
        pieces = [
            audio.samples[max(0, int(s.start * SAMPLE_RATE) - pad) : int(s.end * SAMPLE_RATE) + pad] for s in segments
        ]
        return np.concatenate(pieces).astype(np.float32)


class LazyEmbedder:
    """An embedder built on first use, for callers that may never need one."""

    dim = 256

    def __init__(self, build: Callable[[], SpeakerEmbedder]) -> None:
        self._build = build

    @cached_property
    def _inner(self) -> SpeakerEmbedder:
        return self._build()

    def embed(self, audio: Audio) -> np.ndarray:
        return self._inner.embed(audio)

    def voiceprint(self, audio: Audio) -> VoicePrint:
        return self._inner.voiceprint(audio)
