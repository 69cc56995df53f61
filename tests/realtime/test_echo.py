"""No self-interruption on speakers: Sayso's own voice (Piper) comes back through a room.

The room is simulated (delay, attenuation, reflections, a reverberant tail); the user is a real
recording from the shared speech set, mixed in through the same room at the same level.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import speech_in
from sayso.realtime import events as ev
from sayso.realtime.echo import EchoCanceller
from sayso.realtime.engine import Engine
from sayso.realtime.events import State
from sayso.realtime.models import Models
from sayso.realtime.playback import PacedSink, frames_of
from sayso.realtime.turn import Assistant
from sayso.realtime.turn_taking import ONSET_FRAMES, ONSET_WINDOW
from sayso.speech.tts.base import TTS
from sayso.speech.tts.piper import PiperTTS, joe_model_path
from sayso.testing import FakeLLM, FakeSTT, Loopback, VirtualClock, fake_models, room_response, virtual_frames
from sayso.voices.catalog import find_voice
from tests.realtime.test_engine import spoken
from tests.speechdata import recordings

REPLY = "Paris is the French capital. It sits on the river Seine, and it is lovely in spring."
USER = next(r for r in recordings("vctk") if r.duration > 2.5)


@pytest.fixture(scope="module")
def piper() -> TTS:
    """The joe voice's Piper backend itself: the consent wrapper's watermark plays no part here.

    Unsampled, so every run hears the same audio: with Piper's random variation the echo gate
    let one burst too many through in about one run in six (a known weakness, see the README),
    which made these tests fail at random."""
    return PiperTTS(joe_model_path(), sampled=False)


@pytest.fixture(scope="module")
def own_voice(piper: TTS) -> np.ndarray:
    return piper.synthesize(REPLY).resampled().samples


@pytest.fixture(scope="module")
def user_voice(own_voice: np.ndarray) -> np.ndarray:
    samples = read_audio(USER.path).resampled().samples
    return samples / np.abs(samples).max() * np.abs(own_voice).max()  # as loud as Sayso


def longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def most_in_onset_window(flags: list[bool]) -> int:
    """The most voiced frames in any window the engine's onset rule looks at."""
    return max(sum(flags[i : i + ONSET_WINDOW]) for i in range(len(flags)))


def voiced_frames(models: Models, mic: np.ndarray, reference: np.ndarray, cancel: bool) -> list[bool]:
    """Per frame: would the engine count it as the user's speech?"""
    echo, vad = EchoCanceller(), models.vad
    vad.reset()
    flags: list[bool] = []
    for heard, played in zip(frames_of(Audio(mic, 16_000)), frames_of(Audio(reference, 16_000)), strict=True):
        if cancel:
            result = echo.process(heard, played, bool(flags and flags[-1]))
            flags.append(result.gate_open and vad.probability(result.residual) >= 0.5)
        else:
            flags.append(vad.probability(heard) >= 0.5)
    return flags


def test_own_voice_is_cancelled_and_the_user_still_heard(
    models: Models, own_voice: np.ndarray, user_voice: np.ndarray
) -> None:
    response = room_response(delay=0.12, level=0.8, seed=1)  # a different room from the engine tests
    reference = np.pad(own_voice, (0, 16_000))
    echo = np.convolve(reference, response)[: len(reference)].astype(np.float32)
    raw = voiced_frames(models, echo, reference, cancel=False)
    assert longest_run(raw) > 20  # without cancellation the VAD takes the echo for a person
    cancelled = voiced_frames(models, echo, reference, cancel=True)
    assert most_in_onset_window(cancelled) < ONSET_FRAMES
    with_user = echo.copy()
    user = np.convolve(user_voice, response)[: len(reference) - 32_000]
    with_user[32_000 : 32_000 + len(user)] += user
    heard = voiced_frames(models, with_user, reference, cancel=True)
    assert longest_run(heard[62:]) >= 10


def converse_through_room(models: Models, piper: TTS, user_at: float | None) -> tuple[Engine, list[ev.Outbound]]:
    """A spoken question, then Sayso's reply coming back through the room (and the user at ``user_at``)."""
    voice = find_voice("joe")
    question = read_audio(recordings("ljspeech")[1].path).resampled().samples
    mic = np.zeros(16_000 * 12, np.float32)
    mic[: len(question)] = question
    if user_at is not None:
        user = read_audio(USER.path).resampled().samples
        user = np.convolve(user / np.abs(user).max() * 0.8, room_response())
        start = int(user_at * 16_000)
        mic[start : start + len(user)] += user[: len(mic) - start]
    fakes = fake_models(vad=models.vad, stt=FakeSTT("tell me about Paris"), llm=FakeLLM(REPLY), tts=piper)
    clock = VirtualClock()
    seen: list[ev.Outbound] = []
    engine = Engine(Assistant(fakes, voice), clock=clock, listeners=[seen.append])
    sink = PacedSink(clock)
    models.vad.reset()
    frames = virtual_frames(Audio(mic, 16_000), engine, clock, Loopback(sink, room_response()))
    asyncio.run(engine.run(frames, sink))
    return engine, seen


def test_the_engine_does_not_interrupt_itself(models: Models, piper: TTS) -> None:
    engine, seen = converse_through_room(models, piper, user_at=None)
    states = [e.state for e in seen if isinstance(e, ev.StateChanged)]
    assert states[:3] == [State.LISTENING, State.THINKING, State.SPEAKING] and states[-1] == State.IDLE
    assert not [e for e in seen if isinstance(e, ev.Interrupted)]
    # Piper's output varies from run to run; now and then one echo burst passes the gate and
    # playback pauses and resumes once (a hiccup, reported as a known weakness), never more
    assert states.count(State.PAUSED) <= 1
    assert spoken(seen).endswith(REPLY)
    assert engine.assistant.conversation.history[1].content == spoken(seen)


def test_the_user_through_the_same_room_still_interrupts(models: Models, piper: TTS) -> None:
    engine, seen = converse_through_room(models, piper, user_at=5.0)
    states = [e.state for e in seen if isinstance(e, ev.StateChanged)]
    assert states[:4] == [State.LISTENING, State.THINKING, State.SPEAKING, State.PAUSED]
    assert [e for e in seen if isinstance(e, ev.Interrupted)]
    # the pause comes soon after the VAD finds speech in the user's recording (while both talk at
    # the same level only part of the user's frames pass the echo gate, so not at once)
    onset = 5.0 + speech_in(models.vad, read_audio(USER.path))[0].start
    # (an early echo hiccup, paused and resumed, may come first: see the test above)
    paused = [e for e in seen if isinstance(e, ev.ReplyPaused)][-1]
    assert onset < paused.at < onset + 0.5
    heard = engine.assistant.conversation.history[1].content
    assert heard and spoken(seen).startswith(heard) and len(heard) < len(spoken(seen))
