"""Turn-taking: when has the user finished, and is sound during playback an interruption?

End of turn (the finished-thought rule)
    The user's turn ends after a stretch of silence (VAD below threshold) whose required length
    depends on how finished the transcript of everything said so far looks:

    - ``endpoint_silence`` (default 0.35 s) when it looks finished;
    - ``endpoint_unfinished_silence`` (default 1.5 s) when it does not: it is empty, ends in a
      comma, dash or ellipsis, or its last word is a conjunction, a filler or a word that
      cannot end an English sentence (``UNFINISHED_WORDS``: "and", "but", "because", "um",
      "uh", "the", "to", "my", ...). Whisper adds a full stop to almost everything, so the
      final punctuation mark alone is not trusted; a trailing word is.

    The transcript is speculative: speech-to-text starts on the audio so far after
    ``SPECULATE_AFTER`` (0.16 s) of silence, before the endpoint is confirmed, so by the time the
    short silence has passed the final transcript is usually ready. If the user speaks again,
    the speculation is discarded and redone at the next pause.

Barge-in (sound while Sayso speaks)
    Speech onset (``ONSET_FRAMES`` = 3 voiced frames among the last ``ONSET_WINDOW`` = 5, so 96 to
    160 ms, after echo cancellation) pauses playback at once. Then the sound is judged:

    - it stops before ``barge_in_min_speech`` (default 0.3 s) of voiced audio: a cough or a
      noise, and the reply resumes where it stopped;
    - otherwise its transcript decides: no words, or only a backchannel (``backchannels``, e.g.
      "mm-hm", "yeah", "okay"), and the reply resumes; any other words interrupt it, and the
      utterance becomes the user's next turn. ``BARGE_IN_COMMIT`` (1.0 s) of voiced speech
      interrupts without waiting for words.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sayso.audio.frames import SAMPLE_RATE
from sayso.audio.vad import FRAME_SAMPLES
from sayso.config import Settings

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
ONSET_FRAMES = 3
ONSET_WINDOW = 5
"""Speech starts when ``ONSET_FRAMES`` of the last ``ONSET_WINDOW`` frames are voiced."""
SPECULATE_AFTER = 0.16
PARTIAL_EVERY = 0.7
"""Seconds of new audio between partial transcripts while the user speaks."""
BARGE_IN_COMMIT = 1.0
RESUME_AFTER = 0.25
"""Silence after a short noise before the reply resumes."""
PRE_ROLL = 0.25
"""Audio kept from before the speech onset, so the first syllable reaches STT."""

_UNFINISHED = (
    "and but or so because since although though while if then that which who whose where when "
    "um uh er erm hmm uhm like the a an to of for with from in on at by as my your our their his her "
    "its is are was were am be i we you they it this these those than very really just also not"
)
UNFINISHED_WORDS = frozenset(_UNFINISHED.split())
_WORDS = re.compile(r"[a-z']+(?:-[a-z']+)*")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (hyphenated words kept whole: "mm-hm")."""
    return _WORDS.findall(text.lower())


def looks_finished(text: str) -> bool:
    """Whether ``text`` reads as a finished thought (see the module docstring)."""
    stripped = text.strip()
    found = words(stripped)
    if not found or stripped.endswith((",", "-", "—", "–", "...", "…")):
        return False
    return found[-1] not in UNFINISHED_WORDS


def is_backchannel(text: str, backchannels: str) -> bool:
    """Whether ``text`` holds only backchannel words ("mm-hm", "yeah, okay")."""
    allowed = {w for phrase in backchannels.split(",") for w in words(phrase)}
    found = words(text)
    return bool(found) and all(w in allowed for w in found)


@dataclass(frozen=True)
class TurnRules:
    """The turn-taking parameters, from the settings."""

    threshold: float = 0.5
    endpoint_silence: float = 0.35
    endpoint_unfinished_silence: float = 1.5
    barge_in_min_speech: float = 0.3
    backchannels: str = "mm-hm,mhm,hmm,uh-huh,yeah,yes,yep,okay,ok,right,sure,i see"

    @staticmethod
    def from_settings(settings: Settings) -> TurnRules:
        """The rules configured in ``settings``."""
        return TurnRules(
            threshold=settings.vad_threshold,
            endpoint_silence=settings.endpoint_silence,
            endpoint_unfinished_silence=settings.endpoint_unfinished_silence,
            barge_in_min_speech=settings.barge_in_min_speech,
            backchannels=settings.backchannels,
        )

    def silence_needed(self, transcript: str) -> float:
        """Silence that ends a turn whose transcript so far is ``transcript``."""
        return self.endpoint_silence if looks_finished(transcript) else self.endpoint_unfinished_silence

    def barge_in_verdict(self, voiced: float, silence: float, transcript: str | None) -> str:
        """``"wait"``, ``"resume"`` or ``"interrupt"`` for sound heard during playback.

        ``voiced``/``silence``: seconds of voiced audio so far and of silence since the last voiced
        frame; ``transcript``: the words heard in it, once transcribed.
        """
        if voiced < self.barge_in_min_speech:
            return "resume" if silence >= RESUME_AFTER else "wait"
        if transcript is None:
            return "interrupt" if voiced >= BARGE_IN_COMMIT else "wait"
        if not words(transcript) or is_backchannel(transcript, self.backchannels):
            return "resume"
        return "interrupt"


@dataclass
class Utterance:
    """The user side of a turn: audio heard since the speech onset and its transcripts."""

    id: int
    frames: list[np.ndarray]
    voiced: int = 0  # voiced frames
    silent: int = 0  # silent frames since the last voiced one
    voiced_end: int = 0  # samples up to the end of the last voiced frame
    last_voiced_at: float = 0.0
    transcript: str = ""
    covered: int = 0  # samples the transcript covers
    partial_at: int = 0  # samples at the last partial transcription
    stt_busy: bool = False
    stt_seconds: float = 0.0  # how long the latest transcription took

    @property
    def samples(self) -> int:
        return len(self.frames) * FRAME_SAMPLES

    @property
    def current(self) -> bool:
        """Whether the transcript covers every voiced frame."""
        return self.covered >= self.voiced_end

    @property
    def silence(self) -> float:
        return self.silent * FRAME_SECONDS


@dataclass
class OnsetWatch:
    """Recent frames before any speech onset, for the onset rule and the pre-roll."""

    recent: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=int(PRE_ROLL / FRAME_SECONDS) + 1))
    voiced: deque[bool] = field(default_factory=lambda: deque(maxlen=ONSET_WINDOW))
