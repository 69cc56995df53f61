"""The text-to-speech interface: one blocking method, ``stream``, yielding audio as it is made."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from sayso.audio.frames import Audio


class TTS(ABC):
    """A text-to-speech backend for one voice. ``stream`` blocks: event loops use a thread."""

    rate: int = 22_050

    @abstractmethod
    def stream(self, text: str) -> Iterator[Audio]:
        """Yield the speech for ``text`` in pieces (at ``rate`` Hz), the first as early as possible."""

    def synthesize(self, text: str) -> Audio:
        """All the speech for ``text`` as one piece."""
        return Audio.concat(list(self.stream(text)), self.rate)
