"""Realtime conversation latency: spoken turns played into the engine in real time.

    .venv/bin/python bench/latency.py [--turns 20] [--local-model qwen2.5-coder-1.5b|smollm2-135m]

Real recordings from the shared speech set and questions synthesised with Piper are played,
frame by frame at real-time pace, into ``sayso.realtime.engine.Engine`` with the embedded models
(replies go to a simulated speaker that plays in real time). Every other turn the user cuts in
0.3 s after the reply starts with a short real recording: the first 1.2 s of speech of a VCTK
sentence that is not one of the turns, from 4 speakers (a sentence start, as a person cutting in).

Prints ``voice-to-voice`` (end of the user's speech to the first reply audio out) and
``barge-in stop`` (onset of the interrupting speech to the last reply audio out) as p50/p95, the
per-stage breakdown, a baseline measured in the same run (the non-streaming
``Assistant.reply_to`` after the 0.8 s end-of-speech silence the old ``sayso talk`` waited for),
and a check that llama.cpp reuses its KV cache for an unchanged prompt prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator

import numpy as np

import _common
from _common import recordings
from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import FRAME_SAMPLES, speech_in
from sayso.config import Settings
from sayso.mind import embed
from sayso.mind.llm.base import Message
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.realtime.events import State
from sayso.realtime.metrics import breakdown, percentile_line
from sayso.realtime.models import Models
from sayso.realtime.playback import PacedSink, frames_of
from sayso.realtime.turn import Assistant
from sayso.voices.catalog import find_voice

SYNTHESISED = (
    "What is a good way to cook rice so that it does not stick?",
    "How long should I boil an egg for a soft yolk?",
    "Can you suggest a name for a small grey cat?",
    "Why is the sky blue during the day?",
    "What should I pack for a weekend by the sea?",
    "How do I keep basil alive on a windowsill?",
    "What is a quick breakfast I can make in five minutes?",
    "How far is the moon from the earth?",
)
FRAME = FRAME_SAMPLES / SAMPLE_RATE
OLD_END_SILENCE = 0.8
CUT_IN_SECONDS = 1.2
CUT_IN_AFTER = 0.3
PRE_ROLL = 0.1
MISSED_AFTER = 2.0
EARLY = 0.3
"""A pause up to this long before the onset found offline (the file's VAD segment start) is the
engine reacting to the same sound a few frames earlier: counted, as a stop of 0 ms."""


def questions(models: Models, count: int) -> list[Audio]:
    """Real recordings (2-5 s) and synthesised questions, ``count`` in all."""
    real = [
        r for r in recordings("vctk") + recordings("ljspeech") + recordings("librispeech") if 2.0 <= r.duration <= 5.0
    ]
    joe = models.tts(find_voice("joe"))
    synth = [joe.synthesize(text) for text in SYNTHESISED[: count // 3]]
    return [read_audio(r.path) for r in real[: count - len(synth)]] + synth


class Script:
    """Feeds the turns at real-time pace, cutting in on every other reply; records the timings."""

    def __init__(
        self, engine: Engine, sink: PacedSink, turns: list[Audio], cut_ins: list[Audio], vad_onsets: list[float]
    ) -> None:
        self.engine, self.sink, self.turns, self.cut_ins, self.vad_onsets = engine, sink, turns, cut_ins, vad_onsets
        self.onsets: list[float] = []  # wall time each cut-in's speech began
        self.audible: list[bool] = []  # whether reply audio was still playing at that onset
        self.skipped = 0  # cut-ins not made because the reply had already ended
        self._due = 0.0

    async def frames(self) -> AsyncIterator[np.ndarray]:
        self._due = time.perf_counter()
        for index, question in enumerate(self.turns):
            for frame in frames_of(question):
                yield await self._paced(frame)
            async for frame in self._silence_until(lambda: self.engine.state == State.SPEAKING, 20.0):
                yield frame
            if index % 2:
                async for frame in self._cut_in(self.cut_ins[index % len(self.cut_ins)], index % len(self.cut_ins)):
                    yield frame
            async for frame in self._silence_until(lambda: self.engine.state == State.IDLE, 30.0):
                yield frame

    async def _cut_in(self, audio: Audio, which: int) -> AsyncIterator[np.ndarray]:
        async for frame in self._silence_until(lambda: False, CUT_IN_AFTER):
            yield frame
        if self.engine.state != State.SPEAKING:  # a short reply already ended: nothing to cut into
            self.skipped += 1
            return
        for index, frame in enumerate(frames_of(audio)):
            paced = await self._paced(frame)
            if index == int(self.vad_onsets[which] / FRAME):  # when the speech onset actually went in
                self.onsets.append(time.perf_counter())
                self.audible.append(self.sink.busy)
            yield paced

    async def _silence_until(self, done: object, limit: float) -> AsyncIterator[np.ndarray]:
        quiet = np.zeros(FRAME_SAMPLES, np.float32)
        waited = 0.0
        while not done() and waited < limit:  # type: ignore[operator]
            yield await self._paced(quiet)
            waited += FRAME

    async def _paced(self, frame: np.ndarray) -> np.ndarray:
        self._due += FRAME
        await asyncio.sleep(max(0.0, self._due - time.perf_counter()))
        return frame


def cut_in_clips(models: Models, count: int = 4) -> tuple[list[Audio], list[float]]:
    """The first ``CUT_IN_SECONDS`` of speech (after ``PRE_ROLL`` of what came before) of VCTK
    recordings over 5 s, one per speaker (turns are 2-5 s, so none is also a turn); and each onset."""
    clips: list[Audio] = []
    speakers: set[str] = set()
    for rec in recordings("vctk"):
        if rec.speaker in speakers or rec.duration <= 5.0 or len(clips) == count:
            continue
        audio = read_audio(rec.path).resampled()
        onset = min((seg.start for seg in speech_in(models.vad, audio)), default=None)
        if onset is not None:
            start, rate = max(0.0, onset - PRE_ROLL), audio.rate
            clips.append(Audio(audio.samples[int(start * rate) : int((onset + CUT_IN_SECONDS) * rate)], rate))
            speakers.add(rec.speaker)
    return clips, [min((seg.start for seg in speech_in(models.vad, clip)), default=0.0) for clip in clips]


def baseline(models: Models, voice_id: str, turns: list[Audio]) -> list[float]:
    """Voice-to-voice of the non-streaming path: the old end-of-speech silence + reply_to."""
    assistant = Assistant(models, find_voice(voice_id))
    assistant.reply_to(turns[0])  # a first turn loads what a new conversation needs; not counted
    return [OLD_END_SILENCE + assistant.reply_to(audio).timings.first_audio for audio in turns]


def kv_cache_check(models: Models) -> str:
    """LLM time to first token for the same prompt with the cache cleared, then reused."""
    llm = models.llm
    system = Message("system", "You are a helpful voice assistant. Answer in one short sentence. " * 8)
    llama = getattr(llm, "_llama", None)
    if llama is None:
        return "KV cache: not the embedded model, not checked"
    timings = []
    for reset, question in ((True, "Say hello."), (False, "Say goodbye.")):
        if reset:
            llama.reset()
        started = time.perf_counter()
        next(iter(llm.stream([system, Message("user", question)], 4)))
        timings.append(time.perf_counter() - started)
    cold, warm = (t * 1000 for t in timings)
    return (
        f"KV cache prefix reuse: first token {cold:.0f} ms with the cache cleared, "
        f"{warm:.0f} ms for a new question after the same system prompt"
    )


def _print_turns(event: ev.Outbound) -> None:
    if isinstance(event, ev.FinalTranscript):
        print(f"  user: {event.text}")
    elif isinstance(event, ev.ReplyClause):
        print(f"    clause: {event.text}")
    elif isinstance(event, ev.MetricsReady):
        print(f"    {event.metrics.line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20, help="spoken user turns (at least 20 for the report)")
    parser.add_argument("--each", action="store_true", help="also print every turn's stages and words")
    parser.add_argument("--baseline-turns", type=int, default=6, help="turns for the non-streaming baseline")
    parser.add_argument("--local-model", default=Settings().local_model, help="the embedded LLM (local_model)")
    args = parser.parse_args()
    settings = Settings(local_model=args.local_model)
    models = Models(settings)
    voice = find_voice(settings.voice)
    models.warm(voice)
    embed.preload()  # as `sayso talk` does
    turns = questions(models, args.turns)
    cut_ins, vad_onsets = cut_in_clips(models)
    print(
        f"{len(turns)} spoken turns ({sum(a.duration for a in turns):.0f} s of speech), "
        f"{settings.cpu_threads} threads, LLM {settings.local_model}, "
        f"STT {settings.stt_model}; the CPU is shared, so these figures are noisy"
    )
    pauses: list[float] = []
    engine = Engine(Assistant(models, voice))
    engine.listeners.append(lambda e: pauses.append(e.at) if isinstance(e, ev.ReplyPaused) else None)
    if args.each:
        engine.listeners.append(_print_turns)
    sink = PacedSink(time.perf_counter)
    script = Script(engine, sink, turns, cut_ins, vad_onsets)
    asyncio.run(engine.run(script.frames(), sink))
    stops, ended, nearest = [], 0, []
    for onset, audible in zip(script.onsets, script.audible, strict=True):
        stop = min((max(0.0, p - onset) for p in pauses if p >= onset - EARLY), default=None)
        if stop is not None and stop <= MISSED_AFTER:
            stops.append(stop)
        elif not audible:
            ended += 1  # the reply finished playing before the cut-in's speech began: nothing to stop
        else:
            nearest.append(min((p - onset for p in pauses), key=abs, default=float("nan")))
    missed = len(script.onsets) - len(stops) - ended
    v2v = [m.voice_to_voice for m in engine.metrics if m.voice_to_voice is not None]
    print(percentile_line("voice-to-voice", v2v))
    print(
        percentile_line("barge-in stop", stops)
        + f", {missed} of {len(script.onsets)} cut-ins not stopped within {MISSED_AFTER:.0f} s"
        + f" ({ended} came after the reply had finished playing; {script.skipped} not made: the reply had ended)"
        + (f"; nearest pause to each missed one: {', '.join(f'{t:+.2f} s' for t in nearest)}" if nearest else "")
    )
    print("per stage:")
    print("\n".join(breakdown(engine.metrics)))
    base = baseline(models, voice.id, turns[: args.baseline_turns])
    print(percentile_line("baseline voice-to-voice (reply_to after 0.8 s silence)", base))
    print(f"voice-to-voice median ratio streaming / baseline: {statistics.median(v2v) / statistics.median(base):.2f}")
    print(kv_cache_check(models))
    v50, v95 = np.percentile(v2v, 50) * 1000, np.percentile(v2v, 95) * 1000
    b50 = np.percentile(stops, 50) * 1000 if stops else float("nan")
    print(
        f"targets: voice-to-voice p50 <= 800 ms {'met' if v50 <= 800 else 'MISSED'} "
        f"(<= 1200 ms for the 1.5B default: {'met' if v50 <= 1200 else 'MISSED'}), p95 <= 1500 ms "
        f"{'met' if v95 <= 1500 else 'MISSED'}; barge-in stop p50 <= 200 ms {'met' if b50 <= 200 else 'MISSED'}"
    )


_ = _common  # sets up the import path and HF_HUB_OFFLINE

if __name__ == "__main__":
    main()
