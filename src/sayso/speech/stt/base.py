"""The speech-to-text interface: one blocking method, ``transcribe``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from sayso.audio.frames import Audio


@dataclass(frozen=True)
class Transcript:
    """What was said; ``text`` is empty when no words were recognised."""

    text: str
    language: str = "en"


class STT(ABC):
    """A speech-to-text backend. ``transcribe`` blocks: callers on an event loop use a thread."""

    name: str = "stt"

    @abstractmethod
    def transcribe(self, audio: Audio) -> Transcript:
        """Transcribe ``audio`` (any rate; backends resample to what they need)."""

    def preview(self, audio: Audio) -> Transcript:
        """A quicker, possibly rougher transcript, for partial results while the user speaks."""
        return self.transcribe(audio)
