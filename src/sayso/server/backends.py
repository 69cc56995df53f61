"""Models shared by every request of one server, and audio in and out of HTTP bodies.

The embedded STT and TTS backends are not safe to run from two threads at once, so the server
wraps each in a lock: concurrent requests queue per model instead of crashing, and different
models (STT for one user, TTS for another) still run side by side. The embedded LLM serialises
its own generations (``sayso.mind.llm.llama``).
"""

from __future__ import annotations

import copy
import tempfile
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from fastapi import Request, UploadFile

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import VAD
from sayso.errors import AudioError, BadRequest, NotAudio, WrongContentType
from sayso.mind.llm.base import LLM
from sayso.realtime.models import Models
from sayso.speech.stt.base import STT, Transcript
from sayso.speech.tts.base import TTS
from sayso.voices.catalog import Voice
from sayso.voices.speaker import VoiceServices

OUTPUT_RATE = 24_000
"""Every audio the server sends is resampled to this rate (the OpenAI speech API's PCM rate)."""

# OpenAI's response_format names Sayso offers (sayso.voices.delivery.FORMATS says how each is encoded).
SPEECH_FORMATS = ("wav", "flac", "mp3", "opus", "pcm")
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

    @cached_property
    def voice_services(self) -> VoiceServices:
        # The voices speak through the base's trust layer: one likeness guard (and its in-memory
        # index) for the whole server, so a person protected through the API is guarded at once.
        return self._base.voice_services

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


def decode_upload(data: bytes, max_seconds: float, name: str = "The uploaded file") -> Audio:
    """Audio from an uploaded file's bytes, with ``read_audio``'s checks (NotAudio, EmptyAudio...).

    The bytes decide, not the part's declared content type: a client's label proves nothing.
    ``name`` stands for the file in error messages.
    """
    if not data:
        raise NotAudio(f"{name} is empty; send a WAV, FLAC, OGG or MP3 file.")
    with tempfile.TemporaryDirectory(prefix="sayso-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            return read_audio(path, max_seconds)
        except AudioError as error:
            # read_audio names the file; the temporary path means nothing to the client.
            raise type(error)(str(error).replace(str(path), name)) from error


def multipart_only(request: Request) -> None:
    """WrongContentType unless the request is a multipart form (the body that carries files)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise WrongContentType(
            f"This endpoint takes multipart/form-data with the audio files, not {kind or 'an untyped body'}."
        )


def decode_uploads(files: Sequence[UploadFile], max_seconds: float, field: str) -> list[Audio]:
    """Audio from each uploaded file of a form ``field``; errors name the file (BadRequest if none)."""
    if not files:
        raise BadRequest(f"No {field} file was sent; add at least one to the form.")
    names = [repr(file.filename) if file.filename else f"number {index + 1}" for index, file in enumerate(files)]
    return [
        decode_upload(file.file.read(), max_seconds, f"The {field} file {name}")
        for name, file in zip(names, files, strict=True)
    ]


def pcm16(audio: Audio, rate: int = OUTPUT_RATE) -> bytes:
    """Audio as raw 16-bit little-endian mono PCM at ``rate``."""
    return audio.resampled(rate).to_int16().astype("<i2").tobytes()


def from_pcm16(data: bytes) -> np.ndarray:
    """Float samples from raw 16-bit little-endian PCM (the caller checks the length is even)."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
