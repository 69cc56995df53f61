"""Shared fixtures for the trust layer: one watermarker and one set of real checking models per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from sayso.voices import consent
from sayso.voices.embedding import FusedEmbedder, ResemblyzerEmbedder
from sayso.voices.speaker import VoiceServices
from sayso.voices.watermark import Watermarker


@pytest.fixture(scope="session")
def watermarker() -> Watermarker:
    """The real PerTh watermarker, loaded once."""
    return Watermarker()


@pytest.fixture
def services(isolated_home: Path, watermarker: Watermarker) -> VoiceServices:
    """The trust layer in the test's own data directory, sharing the loaded watermarker."""
    found = VoiceServices(isolated_home)
    found.__dict__["watermarker"] = watermarker  # fills the cached_property
    return found


@pytest.fixture(scope="session")
def embedder() -> ResemblyzerEmbedder:
    return ResemblyzerEmbedder()


@pytest.fixture(scope="session")
def fused_embedder() -> FusedEmbedder:
    """The likeness guard's embedder (Resemblyzer and CAM++), loaded once."""
    return FusedEmbedder()


@pytest.fixture
def steady_challenge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Challenges from four words Whisper tiny hears well from both test voices, so a test never
    fails on one unlucky draw of a misheard word (the full list's draw is tested on its own)."""
    monkeypatch.setattr(consent, "CHALLENGE_WORDS", ("window", "tiger", "purple", "silver"))
