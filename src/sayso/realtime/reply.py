"""One reply as it is produced and played: its clauses, their audio, and what was heard of it.

What was heard is cut at the last sample played. Samples are mapped back to text clause by
clause: clauses played to the end are heard whole; of the clause playing when playback stopped,
the share of its words equal to the share of its samples played is kept (proportional by words,
rounded down). This is an estimate: words are not equally long.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.realtime.metrics import TurnMetrics


@dataclass
class Reply:
    """The assistant side of a turn; dropped whole when the user interrupts it."""

    id: int
    user_text: str
    metrics: TurnMetrics
    speech_end: float  # clock time of the user's last voiced frame
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    clauses: list[str] = field(default_factory=list)
    clause_ends: list[int] = field(default_factory=list)  # output samples at each clause's end
    pieces: list[np.ndarray] = field(default_factory=list)
    reference: list[np.ndarray] = field(default_factory=list)  # the same audio at 16 kHz
    rate: int = 0
    produced: bool = False
    written: int = 0  # samples handed to the output
    played: int = 0  # samples reported played
    sink_base: int = 0  # the output's played count when this reply (or its resumption) began
    announcement: str = ""  # set: speak this text as it is (not an answer, not recorded as a turn)

    @property
    def length(self) -> int:
        """Samples produced so far."""
        return self.clause_ends[-1] if self.clause_ends else 0

    def add_audio(self, clause: int, audio: Audio) -> None:
        """Append a piece of clause ``clause``'s audio."""
        self.rate = self.rate or audio.rate
        while len(self.clause_ends) <= clause:
            self.clause_ends.append(self.length)
        self.pieces.append(audio.samples)
        self.reference.append(audio.resampled(SAMPLE_RATE).samples)
        self.clause_ends[clause] += len(audio.samples)

    def unwritten(self) -> np.ndarray:
        """Produced samples not yet handed to the output."""
        audio = np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)
        return audio[self.written :]

    def reference_between(self, start: int, end: int) -> np.ndarray:
        """The 16 kHz reference for output samples ``start``..``end``."""
        if not self.reference or end <= start:
            return np.zeros(0, np.float32)
        ratio = SAMPLE_RATE / self.rate
        joined = np.concatenate(self.reference)
        return joined[int(start * ratio) : int(end * ratio)]

    @property
    def finished(self) -> bool:
        """Every clause produced and played."""
        return self.produced and self.played >= self.length

    def heard(self) -> str:
        """The text the user heard: cut at the last sample played (see the module docstring)."""
        heard: list[str] = []
        start = 0
        for text, end in zip(self.clauses, self.clause_ends, strict=False):
            if self.played >= end:
                heard.append(text)
            elif self.played > start:
                words = text.split()
                share = (self.played - start) / max(1, end - start)
                heard += [" ".join(words[: int(len(words) * share)])]
                break
            else:
                break
            start = end
        return " ".join(h for h in heard if h)
