"""The loaded models, each built on first use and then kept warm."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

from sayso.audio.vad import VAD, SileroVAD
from sayso.config import Settings
from sayso.mind.llm.base import LLM
from sayso.speech.stt.base import STT
from sayso.speech.tts import TTS, make_tts
from sayso.voices.catalog import Voice
from sayso.voices.speaker import ConsentedTTS, VoiceServices

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
        from sayso.mind.llm.llama import LlamaLLM, local_model_path

        return self._timed("llm", lambda: LlamaLLM(local_model_path(s.local_model, s.data_dir), s.cpu_threads))

    @cached_property
    def voice_services(self) -> VoiceServices:
        """The trust layer: catalog store, ledger, consents, watermark and the likeness guard."""
        from sayso.voices.likeness import load_guard

        return self._timed("voices", lambda: VoiceServices.of(self.settings, load_guard(self.settings)))

    def tts(self, voice: Voice) -> TTS:
        """The backend speaking ``voice`` (loaded once per voice), behind the consent wrapper.

        Every utterance re-checks the voice's consent (VoiceRevoked once it is revoked, expired or
        blocked), passes the likeness guard, is watermarked and gets a provenance record.
        """
        if voice.id not in self._voices:
            services = self.voice_services
            services.check_consent(voice)  # never load a backend (or send a reference) without consent
            inner = self._timed(f"tts:{voice.id}", lambda: make_tts(voice.engine, voice.params))
            if "watermark" not in self.load_seconds:  # loaded now, not during the first reply
                self._timed("watermark", lambda: services.watermarker)
            self._voices[voice.id] = ConsentedTTS(inner, voice, services)
        return self._voices[voice.id]

    def warm(self, voice: Voice) -> float:
        """Load every model a spoken turn needs; returns the seconds it took."""
        started = time.perf_counter()
        # The voice (its consent wrapper loads torch and the watermarker, the slowest part) loads
        # beside the others; the two sides share no lazily built attribute.
        with ThreadPoolExecutor(max_workers=1) as pool:
            speaking = pool.submit(self.tts, voice)
            _ = (self.vad, self.stt, self.llm)
            speaking.result()
        return time.perf_counter() - started

    def _timed(self, name: str, build: Callable[[], T]) -> T:
        started = time.perf_counter()
        model = build()
        self.load_seconds[name] = time.perf_counter() - started
        return model
