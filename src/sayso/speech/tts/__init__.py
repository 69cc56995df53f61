"""Text-to-speech: the interface and the embedded engines (Piper, eSpeak NG) and a cloning HTTP server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sayso.errors import BackendError
from sayso.speech.tts.base import TTS

ENGINES = ("piper", "espeak", "http")


def make_tts(engine: str, params: Mapping[str, Any]) -> TTS:
    """Build the TTS backend for ``engine`` with its voice parameters."""
    if engine == "piper":
        from sayso.speech.tts.piper import PiperTTS, joe_model_path

        model = Path(params["model"]) if "model" in params else joe_model_path()
        return PiperTTS(model, length_scale=float(params.get("length_scale", 1.0)))
    if engine == "espeak":
        from sayso.speech.tts.espeak import EspeakTTS

        return EspeakTTS(str(params["voice"]), int(params.get("words_per_minute", 165)))
    if engine == "http":
        from sayso.speech.tts.http import HTTPTTS

        return HTTPTTS(params)
    raise BackendError(f"Unknown TTS engine {engine!r}; known engines: {', '.join(ENGINES)}.")


__all__ = ["ENGINES", "TTS", "make_tts"]
