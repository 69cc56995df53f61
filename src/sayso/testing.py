"""Fakes of every interface, for testing engine logic without models (real models get real tests)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sayso.audio.frames import Audio
from sayso.audio.vad import VAD
from sayso.config import Settings
from sayso.mind.llm.base import LLM, Message
from sayso.realtime.models import Models
from sayso.speech.stt.base import STT, Transcript
from sayso.speech.tts.base import TTS
from sayso.voices.guard import LikenessMatch, LikenessVerdict


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
        self.prefilled: list[list[Message]] = []

    def prefill(self, messages: Sequence[Message], stop: threading.Event) -> None:
        self.prefilled.append(list(messages))

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
        self.speeds: list[float] = []

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        self.spoken.append(text)
        self.speeds.append(speed)
        yield tone(0.05 * len(text) / speed, self.rate)


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


# --- a scripted timeline on a virtual clock, for the realtime engine ------------------------


class VirtualClock:
    """A clock that only moves when told to (call it for the time)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Line:
    """One thing the user says (``text``; empty for a noise), from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str
    hz: float


class Timeline:
    """A scripted conversation, e.g. ``Timeline([(0.0, 1.2, "what is the capital of France"),
    (2.0, 2.4, "stop")], length=4.0)``.

    Each line is a tone at its own pitch, so ``stt()`` (a fake STT) knows which line it hears
    and returns the share of that line's words matching the share of its audio heard (partial
    transcripts grow word by word). ``frames(engine)`` feeds the engine on a virtual clock,
    waiting before each frame until the engine has handled everything (``Engine.settle``).
    """

    def __init__(self, lines: Sequence[tuple[float, float, str]], length: float) -> None:
        self.lines = [Line(a, b, text, 300.0 + 125.0 * i) for i, (a, b, text) in enumerate(lines)]
        self.length = length
        self.clock = VirtualClock()

    def audio(self) -> Audio:
        """The microphone signal: the lines' tones in silence, 16 kHz."""
        samples = np.zeros(int(self.length * 16_000), np.float32)
        for line in self.lines:
            start = int(line.start * 16_000)
            piece = tone(line.end - line.start, hz=line.hz).samples
            samples[start : start + len(piece)] = piece[: len(samples) - start]
        return Audio(samples, 16_000)

    def stt(self, preview_mark: str = "") -> TimelineSTT:
        """A fake STT that recognises this timeline's lines (its previews start with ``preview_mark``)."""
        return TimelineSTT(self.lines, preview_mark)

    async def frames(
        self, engine: Any, mix: Callable[[int, np.ndarray], np.ndarray] | None = None
    ) -> AsyncIterator[np.ndarray]:
        """The microphone frames, one per 32 ms of virtual time (``mix`` may add e.g. an echo)."""
        async for frame in virtual_frames(self.audio(), engine, self.clock, mix):
            yield frame


async def virtual_frames(
    audio: Audio, engine: Any, clock: VirtualClock, mix: Callable[[int, np.ndarray], np.ndarray] | None = None
) -> AsyncIterator[np.ndarray]:
    """``audio``'s frames on a virtual clock: before each, the engine handles everything pending."""
    from sayso.realtime.playback import frames_of

    for index, frame in enumerate(frames_of(audio)):
        await engine.settle()
        clock.advance(len(frame) / 16_000)
        yield mix(index, frame) if mix else frame


class TimelineSTT(STT):
    """Hears the lines of a ``Timeline`` by their pitch (see ``Timeline``)."""

    name = "timeline-stt"

    def __init__(self, lines: Sequence[Line], preview_mark: str = "") -> None:
        self.lines = list(lines)
        self.preview_mark = preview_mark
        self.calls = 0

    def preview(self, audio: Audio) -> Transcript:
        return Transcript(self.preview_mark + self.transcribe(audio).text)

    def transcribe(self, audio: Audio) -> Transcript:
        self.calls += 1
        samples = audio.resampled(16_000).samples
        frames = samples[: len(samples) // 512 * 512].reshape(-1, 512)
        heard: dict[int, int] = {}
        for frame in frames:
            if float(np.sqrt(np.mean(np.square(frame)))) < 0.02:
                continue
            peak = float(np.argmax(np.abs(np.fft.rfft(frame)))) * 16_000 / 512
            index = min(range(len(self.lines)), key=lambda i: abs(self.lines[i].hz - peak))
            if abs(self.lines[index].hz - peak) < 50:
                heard[index] = heard.get(index, 0) + 1
        said = []
        for index, count in heard.items():
            line = self.lines[index]
            words = line.text.split()
            share = count * 512 / 16_000 / (line.end - line.start)
            said += words[: max(1, round(len(words) * min(1.0, share)))]
        return Transcript(" ".join(said))


class Loopback:
    """Sayso's own voice coming back into the microphone: what ``sink`` played, through ``room``.

    ``room`` is an impulse response at 16 kHz (delay, attenuation, reflections). Use an instance
    as the ``mix`` of ``Timeline.frames`` or ``realtime_frames``; ``origin`` is the clock time of
    the start of frame 0.
    """

    def __init__(self, sink: Any, room: np.ndarray, origin: float = 0.0) -> None:
        self.sink = sink
        self.room = room
        self.origin = origin
        self.speaker = np.zeros(0, np.float32)
        self._seen = 0

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        _ = self.sink.played  # brings the sink's log up to now
        for at, chunk in self.sink.log[self._seen :]:
            self._place(at, chunk, self.sink.rate)
        self._seen = len(self.sink.log)
        end = (index + 1) * len(frame)
        speaker = np.pad(self.speaker[:end], (len(self.room) - 1, max(0, end - len(self.speaker))))
        echo = np.convolve(speaker[end - len(frame) : end + len(self.room) - 1], self.room, mode="valid")
        return (frame + echo).astype(np.float32)

    def _place(self, at: float, chunk: np.ndarray, rate: int) -> None:
        start = int(round((at - self.origin) * 16_000))
        count = int(round(len(chunk) * 16_000 / rate))
        values = np.interp(np.arange(count) * rate / 16_000, np.arange(len(chunk)), chunk).astype(np.float32)
        if len(self.speaker) < start + count:
            self.speaker = np.pad(self.speaker, (0, start + count - len(self.speaker)))
        self.speaker[start : start + count] += values


def room_response(delay: float = 0.05, level: float = 0.5, tail: float = 0.12, seed: int = 0) -> np.ndarray:
    """A room-ish impulse response at 16 kHz: a delayed direct path, early reflections and a tail."""
    rng = np.random.default_rng(seed)
    first = int(delay * 16_000)
    response = np.zeros(first + int(tail * 16_000), np.float32)
    response[first] = level
    for lag, gain in ((0.004, 0.35), (0.009, -0.25), (0.017, 0.15)):
        response[first + int(lag * 16_000)] += gain * level
    decay = np.exp(-np.arange(len(response) - first) / (0.03 * 16_000))
    response[first:] += (0.05 * level * rng.standard_normal(len(response) - first) * decay).astype(np.float32)
    return response


class FakeGuard:
    """A likeness guard that refuses what it is told to, recording every check it was asked for."""

    def __init__(self, refuse_enrolment: str = "", refuse_voices: Sequence[str] = ()) -> None:
        self.refuse_enrolment = refuse_enrolment
        self.refuse_voices = set(refuse_voices)
        self.enrolments = 0
        self.utterances: list[str] = []

    def check_enrolment(self, samples: Sequence[Audio]) -> LikenessVerdict:
        self.enrolments += 1
        if self.refuse_enrolment:
            match = LikenessMatch("p1", self.refuse_enrolment, 0.93)
            return LikenessVerdict(False, f"sounds like {self.refuse_enrolment}", (match,))
        return LikenessVerdict(True, "no protected voice is close")

    def check_utterance(self, audio: Audio, voice_id: str, reference: np.ndarray | None = None) -> LikenessVerdict:
        self.utterances.append(voice_id)
        if voice_id in self.refuse_voices:
            return LikenessVerdict(False, "sounds like a protected person")
        return LikenessVerdict(True, "no protected voice is close")


def kill_after_ready(script: str, *args: str) -> None:
    """Run ``script`` in a new Python process, wait for it to print ``ready``, then kill it.

    For tests that prove a write in progress loses nothing already committed.
    """
    process = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the writer process ended before it was ready")
    process.kill()
    process.wait()
