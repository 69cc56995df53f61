"""Subtitles (SubRip and WebVTT) for a recording: speech found by the VAD, grouped into cues of a
few seconds, each cue transcribed on its own, so every cue's times are where its words are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sayso.audio.frames import Audio
from sayso.audio.vad import Segment

MAX_CUE_SECONDS = 7.0  # a subtitle a reader can take in at once
JOIN_GAP_SECONDS = 0.8  # shorter pauses stay inside one cue
PAD_SECONDS = 0.15  # keep the edges of words the VAD cut close


@dataclass(frozen=True)
class Cue:
    """One subtitle: its text and when it is said, in seconds."""

    start: float
    end: float
    text: str


def cues(audio: Audio, speech: list[Segment], transcribe: Callable[[Audio], str]) -> list[Cue]:
    """The cues of ``audio`` given its speech segments; cues with no words are left out."""
    found: list[Cue] = []
    for start, end in _groups(speech):
        a, b = max(0.0, start - PAD_SECONDS), min(audio.duration, end + PAD_SECONDS)
        text = transcribe(Audio(audio.samples[int(a * audio.rate) : int(b * audio.rate)], audio.rate)).strip()
        if text:
            found.append(Cue(start, end, text))
    return found


def _groups(speech: list[Segment]) -> list[tuple[float, float]]:
    groups: list[tuple[float, float]] = []
    for segment in speech:
        if (
            groups
            and segment.start - groups[-1][1] < JOIN_GAP_SECONDS
            and segment.end - groups[-1][0] <= MAX_CUE_SECONDS
        ):
            groups[-1] = (groups[-1][0], segment.end)
        else:
            groups.append((segment.start, segment.end))
    return groups


def srt(found: list[Cue]) -> str:
    """SubRip text: numbered cues, times as HH:MM:SS,mmm."""
    return "".join(
        f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n\n" for i, c in enumerate(found, 1)
    )


def vtt(found: list[Cue]) -> str:
    """WebVTT text: the header, then cues with times as HH:MM:SS.mmm."""
    return "WEBVTT\n\n" + "".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n\n" for c in found)


def _clock(seconds: float, mark: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{mark}{rest % 1000:03d}"
