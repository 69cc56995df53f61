"""The engine's typed events, grouped by domain, dispatched with ``match``.

Inputs (what the engine reacts to, in the order its inbox receives them):
    Frame            one 512-sample 16 kHz microphone frame
    InputEnded       the frame source is exhausted
    Typed            a turn the user typed instead of spoke
    Transcribed      a speech-to-text result (partial, final or a barge-in check)
    ClauseReady      the LLM produced a clause of the reply
    AudioReady       text-to-speech produced audio for a clause
    ReplyProduced    the reply's LLM and TTS work is done
    WorkFailed       a worker raised (its error is re-raised by the engine)

Outputs (what listeners such as ``sayso talk`` or a server see):
    StateChanged, SpeechStarted, PartialTranscript, FinalTranscript, ReplyClause,
    ReplyPaused, ReplyResumed, Interrupted, ReplyFinished, MetricsReady
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from sayso.audio.frames import Audio
from sayso.realtime.metrics import TurnMetrics


class State(StrEnum):
    """What the engine is doing; a turn runs LISTENING -> THINKING -> SPEAKING -> IDLE."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    PAUSED = "paused"  # user sound during playback: playback stopped while it is judged


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    samples: np.ndarray
    at: float  # clock time the frame arrived


@dataclass(frozen=True)
class InputEnded:
    pass


@dataclass(frozen=True)
class Typed:
    """A turn the user typed (the web page's text box): answered and spoken like a spoken turn."""

    text: str


@dataclass(frozen=True)
class Announce:
    """Something to say unprompted when the user is not talking (a timer that went off)."""

    text: str


@dataclass(frozen=True)
class Transcribed:
    purpose: str  # "partial" (a preview, shown only) or "final"
    utterance: int  # Utterance.id it transcribes
    samples: int  # how many utterance samples were transcribed
    text: str


@dataclass(frozen=True)
class ClauseReady:
    reply: int
    text: str


@dataclass(frozen=True)
class AudioReady:
    reply: int
    clause: int
    audio: Audio


@dataclass(frozen=True)
class ReplyProduced:
    reply: int


@dataclass(frozen=True)
class WorkFailed:
    error: BaseException


# --- outputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    state: State
    at: float


@dataclass(frozen=True)
class SpeechStarted:
    at: float


@dataclass(frozen=True)
class PartialTranscript:
    text: str


@dataclass(frozen=True)
class FinalTranscript:
    text: str


@dataclass(frozen=True)
class ReplyClause:
    text: str


@dataclass(frozen=True)
class ReplyPaused:
    at: float


@dataclass(frozen=True)
class ReplyResumed:
    at: float


@dataclass(frozen=True)
class Interrupted:
    heard: str
    at: float


@dataclass(frozen=True)
class ReplyFinished:
    text: str


@dataclass(frozen=True)
class MetricsReady:
    metrics: TurnMetrics


Inbound = Frame | InputEnded | Typed | Announce | Transcribed | ClauseReady | AudioReady | ReplyProduced | WorkFailed
Outbound = (
    StateChanged
    | SpeechStarted
    | PartialTranscript
    | FinalTranscript
    | ReplyClause
    | ReplyPaused
    | ReplyResumed
    | Interrupted
    | ReplyFinished
    | MetricsReady
)
