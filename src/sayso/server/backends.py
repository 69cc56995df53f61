"""Models shared by every request of one server, and audio in and out of HTTP bodies.

The embedded STT and TTS backends are not safe to run from two threads at once, so the server
wraps each in a lock: concurrent requests queue per model instead of crashing, and different
models (STT for one user, TTS for another) still run side by side. The embedded LLM serialises
its own generations (``sayso.mind.llm.llama``).
"""

from __future__ import annotations

import copy
import io
import tempfile
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import VAD
from sayso.errors import AudioError, NotAudio
from sayso.mind.llm.base import LLM
from sayso.realtime.models import Models
from sayso.speech.stt.base import STT, Transcript
from sayso.speech.tts.base import TTS
from sayso.voices.catalog import Voice

OUTPUT_RATE = 24_000
"""Every audio the server sends is resampled to this rate (the OpenAI speech API's PCM rate)."""

# OpenAI's response_format names -> libsndfile format and subtype ("pcm" is raw, handled apart).
SPEECH_FORMATS: dict[str, tuple[str, str | None]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", None),
    "mp3": ("MP3", None),
    "opus": ("OGG", "OPUS"),
    "pcm": ("RAW", "PCM_16"),
}
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg", "pcm": "audio/pcm"}


class LockedSTT(STT):
    """One STT backend used by one thread at a time."""

    def __init__(self, inner: STT, lock: threading.Lock) -> None:
        self.name, self._inner, self._lock = inner.name, inner, lock

    def transcribe(self, audio: Audio) -> Transcript:
        with self._lock:
            return self._inner.transcribe(audio)


class LockedTTS(TTS):
    """One TTS voice used by one synthesis at a time."""

    def __init__(self, inner: TTS, lock: threading.Lock) -> None:
        self.rate, self._inner, self._lock = inner.rate, inner, lock

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        with self._lock:
            yield from self._inner.stream(text, speed)


class SharedModels(Models):
    """``Models`` whose backends are safe to share between the server's worker threads."""

    def __init__(self, models: Models) -> None:
        super().__init__(models.settings)
        self._base = models
        self._locks = {name: threading.Lock() for name in ("stt", "tts")}

    @cached_property
    def vad(self) -> VAD:
        return self._base.vad

    @cached_property
    def stt(self) -> STT:
        return LockedSTT(self._base.stt, self._locks["stt"])

    @cached_property
    def llm(self) -> LLM:
        return self._base.llm  # the embedded LLM serialises its own generations; a remote one needs no lock

    def with_vad(self, vad: VAD) -> SharedModels:
        """The same shared backends with a VAD of one's own (a VAD holds one stream's state)."""
        view = copy.copy(self)  # shares the locks, the loaded backends and the voice cache
        view.__dict__["vad"] = vad
        return view

    def tts(self, voice: Voice) -> TTS:
        if voice.id not in self._voices:
            # One lock for all voices: two ONNX voices at once would only share the same 2 cores.
            self._voices[voice.id] = LockedTTS(self._base.tts(voice), self._locks["tts"])
        return self._voices[voice.id]


def decode_upload(data: bytes, max_seconds: float) -> Audio:
    """Audio from an uploaded file's bytes, with ``read_audio``'s checks (NotAudio, EmptyAudio...)."""
    if not data:
        raise NotAudio("The uploaded file is empty; send a WAV, FLAC, OGG or MP3 file.")
    with tempfile.TemporaryDirectory(prefix="sayso-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            return read_audio(path, max_seconds)
        except AudioError as error:
            # read_audio names the file; the temporary path means nothing to the client.
            raise type(error)(str(error).replace(str(path), "The uploaded file")) from error


def pcm16(audio: Audio, rate: int = OUTPUT_RATE) -> bytes:
    """Audio as raw 16-bit little-endian mono PCM at ``rate``."""
    return audio.resampled(rate).to_int16().astype("<i2").tobytes()


def from_pcm16(data: bytes) -> np.ndarray:
    """Float samples from raw 16-bit little-endian PCM (the caller checks the length is even)."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def encode_audio(audio: Audio, fmt: str) -> bytes:
    """Audio as a file in ``fmt`` (one of SPEECH_FORMATS) at OUTPUT_RATE."""
    if fmt == "pcm":
        return pcm16(audio)
    buffer = io.BytesIO()
    kind, subtype = SPEECH_FORMATS[fmt]
    sf.write(buffer, audio.resampled(OUTPUT_RATE).samples, OUTPUT_RATE, format=kind, subtype=subtype)
    return buffer.getvalue()
