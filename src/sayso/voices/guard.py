"""The likeness guard's interface: the checks a voice must pass before it may speak.

Consent (enrolment of a lent voice) and the spoken turn call these; the guard itself (its
registry of people who asked not to be imitated, thresholds and calibration) implements them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sayso.audio.frames import Audio


@dataclass(frozen=True)
class LikenessMatch:
    """A protected person whose voice resembles the audio checked."""

    person_id: str
    name: str
    score: float
    level: str = ""
    """"same person", "sound-alike", or "below threshold" (a near miss, shown as evidence)."""
    cosine: float | None = None
    """The raw embedding cosine, before cohort normalisation."""
    false_match_rate: float | None = None
    """Calibrated share of different-person trials scoring at least ``score``."""


@dataclass(frozen=True)
class LikenessVerdict:
    """Whether the audio may be spoken, and the evidence."""

    allowed: bool
    reason: str
    matches: tuple[LikenessMatch, ...] = field(default=())
    nearest: tuple[LikenessMatch, ...] = field(default=())
    """The closest protected people, over the thresholds or not (evidence for a report)."""
    same_person_threshold: float | None = None
    sound_alike_threshold: float | None = None
    false_match_rate: float | None = None
    """Calibrated false-match rate at the sound-alike threshold (the one that blocks)."""
    speech_seconds: float | None = None
    method: str = ""
    registry_size: int | None = None
    """Protected people the voice was checked against (the thresholds rise with it)."""
    expected_false_flags: float | None = None
    """Expected protected people an unrelated voice is falsely flagged as, per check, at these thresholds."""


class LikenessGuard(Protocol):
    """Checks voices against the protected registry."""

    def check_enrolment(self, samples: Sequence[Audio]) -> LikenessVerdict:
        """May a voice enrolled from ``samples`` (lent or preset) be used?"""
        ...

    def check_utterance(self, audio: Audio, voice_id: str, reference: np.ndarray | None = None) -> LikenessVerdict:
        """May this synthesised ``audio`` in ``voice_id`` be played? Refused if it sounds like a protected
        person, or, given the voice's ``reference`` voiceprint (a lent voice's), if it no longer sounds like it."""
        ...
