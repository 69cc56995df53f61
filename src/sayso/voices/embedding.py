"""Speaker embeddings: who is speaking, as a unit vector (cosine similarity = dot product).

The interface is one method, ``embed``. The default backend is Resemblyzer (GE2E, 256-d, its
weights ship in the ``resemblyzer`` package), run on the voiced parts of the audio only.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio


class SpeakerEmbedder(Protocol):
    """Maps speech to an L2-normalised vector; the same speaker gives nearby vectors."""

    dim: int

    def embed(self, audio: Audio) -> np.ndarray:
        """The embedding of the voiced parts of ``audio`` (float32, shape (dim,), unit length)."""
        ...


class ResemblyzerEmbedder:
    """Resemblyzer's GE2E voice encoder on the CPU (~65 ms per 5 s clip)."""

    dim = 256

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, audio: Audio) -> np.ndarray:
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(audio.resampled(SAMPLE_RATE).samples, source_sr=SAMPLE_RATE)
        vector = np.asarray(self._encoder.embed_utterance(wav), dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-9)
