"""A cloning TTS server behind an OpenAI-style ``POST /v1/audio/speech`` (XTTS, Chatterbox, F5-TTS, a cloud API).

The request is OpenAI's (``model``, ``input``, ``voice``, ``response_format``) plus, when the
voice has a reference recording, that recording as base64 WAV in a JSON field (``reference_field``,
``reference_audio`` by default) for servers that clone from a sample per request. With
``reference_field`` empty, the server is expected to know ``voice`` already. This backend never
decides consent: it is only ever built and called behind ``sayso.voices.speaker.ConsentedTTS``,
which checks the voice's consent before each utterance, so no reference leaves without it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.errors import ConfigError, ServiceUnavailable
from sayso.speech.tts.base import TTS


def speech_url(base_url: str) -> str:
    """``.../v1/audio/speech`` for a base URL given with or without ``/v1``."""
    base = base_url.rstrip("/")
    return base + ("/audio/speech" if base.endswith("/v1") else "/v1/audio/speech")


class HTTPTTS(TTS):
    """One voice on an OpenAI-style speech server; one request per utterance."""

    def __init__(self, params: Mapping[str, Any], transport: httpx.BaseTransport | None = None) -> None:
        url = str(params.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"The cloning TTS server URL must start with http:// or https://, not {url!r}.")
        self._url = speech_url(url)
        self._body: dict[str, Any] = {
            "model": str(params.get("model", "tts-1")),
            "voice": str(params.get("voice", "default")),
            "response_format": "wav",
        }
        field = str(params.get("reference_field", "reference_audio"))
        if field and params.get("reference"):
            self._body[field] = base64.b64encode(Path(str(params["reference"])).read_bytes()).decode()
        key = str(params.get("api_key", ""))
        timeout = float(params.get("timeout", 60.0))
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self.rate = int(params.get("rate", 24_000))  # servers differ; corrected from the first reply

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        try:
            response = self._client.post(self._url, json={**self._body, "input": text, "speed": speed})
        except httpx.TimeoutException as error:
            raise ServiceUnavailable(
                f"The TTS server at {self._url} did not answer in time; check it is running."
            ) from error
        except httpx.HTTPError as error:
            raise ServiceUnavailable(
                f"Cannot reach the TTS server at {self._url} ({type(error).__name__}); start it or fix the voice's url."
            ) from error
        if response.status_code >= 400:
            raise ServiceUnavailable(
                f"The TTS server at {self._url} answered {response.status_code} ({response.text[:200]}); "
                "check its url, model and voice."
            )
        try:
            data, rate = sf.read(io.BytesIO(response.content), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise ServiceUnavailable(f"The TTS server at {self._url} sent something that is not audio.") from error
        self.rate = int(rate)
        yield Audio.from_array(data, rate)
