"""The loaded models, each built on first use and then kept warm."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

from sayso.audio.vad import VAD, SileroVAD
from sayso.config import Settings
from sayso.mind.llm.base import LLM
from sayso.speech.stt.base import STT
from sayso.speech.tts import TTS, make_tts
from sayso.voices.catalog import Voice

T = TypeVar("T")


class Models:
    """Lazily loaded embedded (or remote) backends; ``load_seconds`` records each load's time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.load_seconds: dict[str, float] = {}
        self._voices: dict[str, TTS] = {}

    @cached_property
    def vad(self) -> VAD:
        return self._timed("vad", SileroVAD)

    @cached_property
    def stt(self) -> STT:
        from sayso.speech.stt.whisper import WhisperSTT

        s = self.settings
        return self._timed("stt", lambda: WhisperSTT(s.stt_model, s.data_dir, s.cpu_threads))

    @cached_property
    def llm(self) -> LLM:
        s = self.settings
        if s.llm_url:
            from sayso.mind.llm.openai import OpenAILLM

            return self._timed("llm", lambda: OpenAILLM(s.llm_url, s.llm_model, s.llm_api_key, s.llm_timeout))
        from sayso.mind.llm.llama import LlamaLLM, smollm2_model_path

        return self._timed("llm", lambda: LlamaLLM(smollm2_model_path(), s.cpu_threads))

    def tts(self, voice: Voice) -> TTS:
        """The backend speaking ``voice`` (loaded once per voice)."""
        if voice.id not in self._voices:
            self._voices[voice.id] = self._timed(f"tts:{voice.id}", lambda: make_tts(voice.engine, voice.params))
        return self._voices[voice.id]

    def warm(self, voice: Voice) -> float:
        """Load every model a spoken turn needs; returns the seconds it took."""
        started = time.perf_counter()
        _ = (self.vad, self.stt, self.llm, self.tts(voice))
        return time.perf_counter() - started

    def _timed(self, name: str, build: Callable[[], T]) -> T:
        started = time.perf_counter()
        model = build()
        self.load_seconds[name] = time.perf_counter() - started
        return model
