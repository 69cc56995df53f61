"""The text-to-speech interface: one blocking method, ``stream``, yielding audio as it is made."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from sayso.audio.frames import Audio


class TTS(ABC):
    """A text-to-speech backend for one voice. ``stream`` blocks: event loops use a thread."""

    rate: int = 22_050

    @abstractmethod
    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        """Yield the speech for ``text`` in pieces (at ``rate`` Hz), the first as early as possible.

        ``speed`` scales the speaking rate (0.5 is half as fast, 2.0 twice as fast).
        """

    def synthesize(self, text: str, speed: float = 1.0) -> Audio:
        """All the speech for ``text`` as one piece."""
        return Audio.concat(list(self.stream(text, speed)), self.rate)
