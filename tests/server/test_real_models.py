"""The OpenAI-compatible audio endpoints on the real embedded models: speech, then back to text."""

from __future__ import annotations

import jiwer
import pytest

from sayso.realtime.models import Models
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.speech.normalize import normalize
from tests.server.conftest import FakeEmbedder, client

pytestmark = pytest.mark.models


def test_speech_then_transcription_round_trip(models: Models) -> None:
    http = client(Workspace(models, ServerOptions(port=8765), embedder=FakeEmbedder))
    text = "The library opens at nine in the morning on weekdays."
    request = {"model": "tts-1", "input": text, "voice": "joe", "response_format": "flac"}
    spoken = http.post("/v1/audio/speech", json=request)
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/flac"
    heard = http.post(
        "/v1/audio/transcriptions", files={"file": ("speech.flac", spoken.content)}, data={"model": "whisper-1"}
    )
    assert heard.status_code == 200
    # Piper's synthesis is sampled, so Whisper may mishear a word or two; the content must arrive.
    words = normalize(heard.json()["text"])
    assert jiwer.wer(normalize(text), words) <= 0.3, words
