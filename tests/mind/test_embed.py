"""The shared sentence embedder, for real: a sentence met again is not embedded again."""

from __future__ import annotations

import numpy as np
import pytest

from sayso.mind.embed import MiniLM, minilm


def test_a_recent_sentence_is_embedded_once_and_gives_the_same_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = minilm()
    assert isinstance(embedder, MiniLM)
    first = embedder.encode(["I'm allergic to peanuts.", "Set a timer for five minutes."])
    calls: list[list[str]] = []
    real = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda texts: calls.append(texts) or real(texts))
    again = embedder.encode(["Set a timer for five minutes.", "What's the weather like?", "I'm allergic to peanuts."])
    assert calls == [["What's the weather like?"]]  # only the new sentence reached the model
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert again.shape == (3, 384) and abs(float(again[1] @ again[1]) - 1.0) < 1e-4
    assert float(again[1] @ first[0]) < 0.9  # a different sentence, a different vector
