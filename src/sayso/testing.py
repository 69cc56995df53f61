"""Fakes of every interface, for testing engine logic without models (real models get real tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from sayso.audio.frames import Audio
from sayso.audio.vad import VAD
from sayso.config import Settings
from sayso.mind.llm.base import LLM, Message
from sayso.realtime.models import Models
from sayso.speech.stt.base import STT, Transcript
from sayso.speech.tts.base import TTS


class FakeVAD:
    """Speech wherever a frame's RMS level is over ``threshold``."""

    def __init__(self, threshold: float = 0.02) -> None:
        self.threshold = threshold

    def probability(self, frame: np.ndarray) -> float:
        return 1.0 if float(np.sqrt(np.mean(np.square(frame)))) > self.threshold else 0.0

    def reset(self) -> None:
        pass


class FakeSTT(STT):
    """Returns the scripted texts in order (the last one repeats), recording what it was given."""

    name = "fake-stt"

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts) or [""]
        self.heard: list[Audio] = []

    def transcribe(self, audio: Audio) -> Transcript:
        self.heard.append(audio)
        text = self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]
        return Transcript(text)


class FakeLLM(LLM):
    """Streams a scripted reply word by word and records the messages it was sent."""

    name = "fake-llm"

    def __init__(self, reply: str = "Hello there. How can I help you today?") -> None:
        self.reply = reply
        self.calls: list[list[Message]] = []

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        self.calls.append(list(messages))
        words = self.reply.split(" ")
        for index, word in enumerate(words[:max_tokens]):
            yield word if index == 0 else " " + word


class FakeTTS(TTS):
    """A 220 Hz tone lasting 50 ms per character; records every text it spoke."""

    rate = 16_000

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def stream(self, text: str) -> Iterator[Audio]:
        self.spoken.append(text)
        yield tone(0.05 * len(text), self.rate)


def tone(seconds: float, rate: int = 16_000, level: float = 0.3, hz: float = 220.0) -> Audio:
    """A sine tone, for audio plumbing tests."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return Audio((level * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)


def silence(seconds: float, rate: int = 16_000) -> Audio:
    """Digital silence."""
    return Audio(np.zeros(int(seconds * rate), dtype=np.float32), rate)


def fake_models(
    settings: Settings | None = None,
    *,
    vad: VAD | None = None,
    stt: STT | None = None,
    llm: LLM | None = None,
    tts: TTS | None = None,
) -> Models:
    """A Models whose backends are the given fakes (any left out load for real on first use)."""
    models = Models(settings or Settings())
    for name, backend in (("vad", vad), ("stt", stt), ("llm", llm)):
        if backend is not None:
            models.__dict__[name] = backend  # fills the cached_property
    if tts is not None:
        models.tts = lambda voice: tts  # type: ignore[method-assign]
    return models
