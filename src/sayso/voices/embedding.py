"""Speaker embeddings: who is speaking, as a unit vector (cosine similarity = dot product).

The interface is ``embed`` (one vector per recording) plus ``voiceprint`` (that vector, the
vectors of its ~1.6 s windows for segment-level scoring, and how much speech there was). Each
embedder has a name, recorded with every vector stored, so a vector is always scored against
vectors of the same kind. Three exist, all run on the voiced parts of the audio only (Silero VAD
picks them, so pauses, silence and background between words do not dilute who is speaking):

- ``resemblyzer``: Resemblyzer (GE2E, 256-d), the first one shipped;
- ``campplus``: CAM++ (3D-Speaker, 192-d), much stronger on unseen speakers (``campplus``);
- ``resemblyzer+campplus`` (the default): both, side by side. Its vector is the two unit vectors
  joined and scaled by 1/sqrt(2), so its cosine is the mean of theirs, and either half can be
  taken out again (``part``) to score against vectors made by that encoder alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import VAD, SileroVAD, speech_in
from sayso.errors import EmptyAudio

_PAD_SECONDS = 0.05
"""Kept either side of each voiced segment so word edges are not clipped."""

RESEMBLYZER = "resemblyzer"
CAMPPLUS = "campplus"
FUSED = "resemblyzer+campplus"
DEFAULT_ENCODER = FUSED
ENCODERS: dict[str, tuple[tuple[str, int], ...]] = {
    RESEMBLYZER: ((RESEMBLYZER, 256),),
    CAMPPLUS: ((CAMPPLUS, 192),),
    FUSED: ((RESEMBLYZER, 256), (CAMPPLUS, 192)),
}
"""Each encoder's vector layout: its parts (an encoder each) and their sizes, in order."""


@dataclass(frozen=True)
class VoicePrint:
    """A recording's speaker evidence: the whole-recording vector and one per window."""

    vector: np.ndarray
    segments: np.ndarray
    speech_seconds: float
    encoder: str = RESEMBLYZER


class SpeakerEmbedder(Protocol):
    """Maps speech to an L2-normalised vector; the same speaker gives nearby vectors."""

    dim: int
    encoder: str

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


def dim_of(encoder: str) -> int:
    """The length of ``encoder``'s vectors."""
    return sum(size for _, size in layout(encoder))


def encoder_of(vector: np.ndarray) -> str:
    """The encoder that made a stored vector, known by its length (every encoder's differs)."""
    size = np.shape(vector)[-1]
    found = [name for name in ENCODERS if dim_of(name) == size]
    if not found:
        raise ValueError(f"no speaker encoder makes vectors of {size} values")
    return found[0]


def layout(encoder: str) -> tuple[tuple[str, int], ...]:
    """``encoder``'s parts and their sizes (ValueError for an unknown encoder)."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown speaker encoder {encoder!r}; known: {', '.join(ENCODERS)}")
    return ENCODERS[encoder]


def parts(vectors: np.ndarray, encoder: str) -> list[np.ndarray]:
    """The rows of ``vectors`` (made by ``encoder``) cut into their parts, each part unit length."""
    array = np.atleast_2d(vectors)
    if len(layout(encoder)) == 1:
        return [unit(array)]  # one part: the whole vector, whatever its length
    if array.shape[-1] != dim_of(encoder):
        raise ValueError(f"{encoder} vectors have {dim_of(encoder)} values, not {array.shape[-1]}")
    bounds = np.cumsum([0, *(size for _, size in layout(encoder))])
    return [unit(array[:, start:stop]) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def joined(pieces: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-length parts (vectors or rows) side by side, scaled so the cosine is the mean of theirs."""
    return np.concatenate([unit(p) for p in pieces], axis=-1) / np.float32(np.sqrt(len(pieces)))


def part(vectors: np.ndarray, encoder: str, wanted: str) -> np.ndarray:
    """The ``wanted`` encoder's share of vectors made by ``encoder`` (ValueError if it has none)."""
    names = [name for name, _ in layout(encoder)]
    kept = [names.index(name) for name, _ in layout(wanted) if name in names]
    if len(kept) != len(layout(wanted)):
        raise ValueError(f"{encoder} vectors hold no {wanted} vector")
    cut = parts(vectors, encoder)
    result = joined([cut[i] for i in kept])
    return result if np.ndim(vectors) > 1 else result[0]


def projected(voiceprint: VoicePrint, encoder: str) -> VoicePrint:
    """``voiceprint`` as ``encoder`` alone would have made it (itself if already so)."""
    if voiceprint.encoder == encoder:
        return voiceprint
    return replace(
        voiceprint,
        vector=part(voiceprint.vector, voiceprint.encoder, encoder),
        segments=part(voiceprint.segments, voiceprint.encoder, encoder),
        encoder=encoder,
    )


def enrolment_vector(prints: Sequence[VoicePrint]) -> np.ndarray:
    """One vector for a speaker from several recordings: the mean of their windows, weighted by speech."""
    if not prints:
        raise ValueError("an enrolment needs at least one recording")
    # Averaging windows (not per-file vectors) weights each file by how much speech it holds.
    mean = np.concatenate([p.segments for p in prints]).mean(axis=0)
    # Each part is normalised on its own, so a fused vector stays two unit halves.
    return np.asarray(joined(parts(mean, prints[0].encoder))[0], dtype=np.float32)


def voiced(vad: VAD, lock: threading.Lock, audio: Audio) -> np.ndarray:
    """The 16 kHz samples of the speech in ``audio``, pauses removed; EmptyAudio if there is none."""
    audio = audio.resampled(SAMPLE_RATE)
    with lock:  # the VAD keeps stream state; one recording at a time
        segments = speech_in(vad, audio)
    if not segments:
        raise EmptyAudio("The audio holds no speech (only silence or noise); give a recording of someone talking.")
    pad = int(_PAD_SECONDS * SAMPLE_RATE)
    pieces = [
        audio.samples[max(0, int(s.start * SAMPLE_RATE) - pad) : int(s.end * SAMPLE_RATE) + pad] for s in segments
    ]
    return np.concatenate(pieces).astype(np.float32)


class ResemblyzerEmbedder:
    """Resemblyzer's GE2E voice encoder on the CPU (~65 ms per 5 s clip), on Silero-voiced audio."""

    dim = 256
    encoder = RESEMBLYZER

    def __init__(self, vad: VAD | None = None) -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)
        self._vad = vad or SileroVAD()
        self._lock = threading.Lock()
        # The first forward pass costs ~2 s (lazy initialisation in torch); pay it at load, not on a clause.
        self._encoder.embed_utterance(np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE).astype(np.float32))

    def embed(self, audio: Audio) -> np.ndarray:
        return self.voiceprint(audio).vector

    def voiceprint(self, audio: Audio) -> VoicePrint:
        wav = self.voiced(audio)
        vector, partials, _ = self.windows(wav)
        return VoicePrint(vector, partials, len(wav) / SAMPLE_RATE, RESEMBLYZER)

    def voiced(self, audio: Audio) -> np.ndarray:
        """The 16 kHz samples of the speech in ``audio``, pauses removed; EmptyAudio if there is none."""
        return voiced(self._vad, self._lock, audio)

    def windows(self, wav: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[slice]]:
        """Of voiced samples: the unit vector, the unit window vectors and the windows (sample slices)."""
        from resemblyzer.audio import normalize_volume

        wav = normalize_volume(wav, -30, increase_only=True)
        with self._lock:
            vector, partials, slices = self._encoder.embed_utterance(wav, return_partials=True)
        return unit(vector), unit(partials), list(slices)


class CampplusEmbedder:
    """CAM++ (``sayso.voices.campplus``) on Silero-voiced audio, windowed as Resemblyzer windows."""

    dim = 192
    encoder = CAMPPLUS

    def __init__(self, vad: VAD | None = None) -> None:
        from sayso.voices.campplus import CampplusNetwork

        self.network = CampplusNetwork()
        self._vad = vad or SileroVAD()
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        return self.voiceprint(audio).vector

    def voiceprint(self, audio: Audio) -> VoicePrint:
        wav = voiced(self._vad, self._lock, audio)
        vector, segments = self.network.embed(wav, resemblyzer_windows(len(wav)))
        return VoicePrint(unit(vector), unit(segments), len(wav) / SAMPLE_RATE, CAMPPLUS)


class FusedEmbedder:
    """Resemblyzer and CAM++ on the same voiced audio and windows: each catches what the other misses
    (CAM++ tells unseen speakers apart far better; Resemblyzer is the stronger on voice conversion)."""

    dim = 448
    encoder = FUSED

    def __init__(self, vad: VAD | None = None) -> None:
        from sayso.voices.campplus import CampplusNetwork

        self.resemblyzer = ResemblyzerEmbedder(vad)
        self.network = CampplusNetwork()

    def embed(self, audio: Audio) -> np.ndarray:
        return self.voiceprint(audio).vector

    def voiceprint(self, audio: Audio) -> VoicePrint:
        wav = self.resemblyzer.voiced(audio)
        vector, partials, windows = self.resemblyzer.windows(wav)
        campplus, segments = self.network.embed(wav, windows)
        return VoicePrint(
            joined([vector, unit(campplus)]), joined([partials, unit(segments)]), len(wav) / SAMPLE_RATE, FUSED
        )


def resemblyzer_windows(samples: int) -> list[slice]:
    """Resemblyzer's windows over that many samples (1.6 s long, 1.3 a second), without running it."""
    from resemblyzer import VoiceEncoder

    _, windows = VoiceEncoder.compute_partial_slices(samples, rate=1.3, min_coverage=0.75)  # its defaults
    return list(windows)


def load_embedder(encoder: str = DEFAULT_ENCODER, vad: VAD | None = None) -> SpeakerEmbedder:
    """The embedder called ``encoder`` (see ``ENCODERS``)."""
    builders: dict[str, Callable[[VAD | None], SpeakerEmbedder]] = {
        RESEMBLYZER: ResemblyzerEmbedder,
        CAMPPLUS: CampplusEmbedder,
        FUSED: FusedEmbedder,
    }
    layout(encoder)
    return builders[encoder](vad)


class LazyEmbedder:
    """An embedder built on first use, for callers that may never need one."""

    def __init__(self, build: Callable[[], SpeakerEmbedder], encoder: str = DEFAULT_ENCODER) -> None:
        self._build = build
        self.encoder = encoder
        self.dim = dim_of(encoder)

    @cached_property
    def _inner(self) -> SpeakerEmbedder:
        return self._build()

    def embed(self, audio: Audio) -> np.ndarray:
        return self._inner.embed(audio)

    def voiceprint(self, audio: Audio) -> VoicePrint:
        return self._inner.voiceprint(audio)
