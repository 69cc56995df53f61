"""Reading and writing audio files: WAV, FLAC, OGG and MP3, any rate, any channel count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.errors import AudioNotFound, AudioTooLong, EmptyAudio, NotAudio

READABLE = "WAV, FLAC, OGG or MP3"
WRITABLE = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}


def read_audio(path: str | Path, max_seconds: float | None = None) -> Audio:
    """Read a whole file as mono audio at its own rate.

    Raises AudioNotFound, NotAudio (unreadable or corrupt), EmptyAudio (no samples) and
    AudioTooLong (over ``max_seconds``), each with a sentence fit to show the user.
    """
    path = Path(path)
    if not path.exists():
        raise AudioNotFound(f"There is no file at {path}; check the path and try again.")
    if not path.is_file():
        raise NotAudio(f"{path} is a folder, not an audio file; give the path of a {READABLE} file.")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as error:
        raise NotAudio(
            f"{path} is not audio Sayso can read, or its header is corrupt; give a {READABLE} file."
        ) from error
    if max_seconds is not None and info.duration > max_seconds:
        raise AudioTooLong(
            f"{path} lasts {_clock(info.duration)}, longer than the {_clock(max_seconds)} Sayso accepts; "
            "cut it shorter or raise max_input_seconds."
        )
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise NotAudio(f"{path} is damaged and could not be decoded; give an intact {READABLE} file.") from error
    if data.size == 0 or rate <= 0:
        raise EmptyAudio(f"{path} holds no audio samples; record something and try again.")
    if not np.all(np.isfinite(data)):
        raise NotAudio(f"{path} holds invalid samples (not numbers); give an intact {READABLE} file.")
    return Audio.from_array(data, rate)


def write_audio(path: str | Path, audio: Audio) -> Path:
    """Write audio to ``path`` in the format its extension names (WAV, FLAC, OGG or MP3)."""
    path = Path(path)
    fmt = WRITABLE.get(path.suffix.lower())
    if fmt is None:
        raise NotAudio(f"Sayso cannot write {path.name}: end the name in {', '.join(WRITABLE)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.samples, audio.rate, format=fmt)
    return path


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
