"""A realtime conversation for one client on the streaming engine (``realtime.engine``), the
same engine as ``sayso talk``: its VAD endpointing, partial transcripts, barge-in with
pause/resume, echo handling and per-turn metrics.

The client's microphone audio becomes the engine's frame source; the engine's sink sends reply
audio to the client in playback segments and takes the client's "played up to sample N"
reports; the engine's events become protocol events (docs/realtime-protocol.md).
Push-to-talk gates the microphone: audio outside a press is fed to the engine as silence, and
so is the microphone for a moment once the user has spoken for ``MAX_UTTERANCE_SECONDS`` without
a pause: the engine then ends the turn and answers what it heard (an ``input.cut`` event says so).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import FRAME_SAMPLES
from sayso.errors import SaysoError
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.server.backends import OUTPUT_RATE, pcm16
from sayso.server.responses import status_of
from sayso.server.session import MAX_UTTERANCE_SECONDS, Outbox
from sayso.server.workspace import Workspace
from sayso.voices.delivery import record_stream

Payload = dict[str, Any] | bytes


class SocketSink:
    """The engine's AudioSink for a remote client: audio goes out in segments; ``played`` comes
    back from the client's reports (converted to the rate of the audio written)."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self.segment = 0
        self.open = False
        self._base = 0  # samples played in closed segments
        self._written = 0  # samples written to the open segment (at the rate of the audio written)
        self._sent = 0  # the same, as sent to the client (at OUTPUT_RATE)
        self._reported = 0  # samples of the open segment the client played (at OUTPUT_RATE)
        self.sent: list[tuple[Audio, bytes]] = []  # this reply's pieces and the bytes sent for them

    def write(self, audio: Audio) -> None:
        if not self.open:
            self.segment, self.open, self._written, self._sent, self._reported = self.segment + 1, True, 0, 0, 0
            self._send({"type": "audio.start", "segment": self.segment, "rate": OUTPUT_RATE})
        pcm = pcm16(audio)
        self._written += len(audio.samples)
        self._sent += len(pcm) // 2
        self.sent.append((audio, pcm))
        self._send(pcm)

    def clear(self) -> None:
        if self.open:
            self._base += self._segment_played()
            self.open = False
            self._send({"type": "audio.clear", "segment": self.segment})

    @property
    def played(self) -> int:
        return self._base + (self._segment_played() if self.open else 0)

    def report(self, segment: int, played: int) -> None:
        """The client played ``played`` samples (OUTPUT_RATE) of ``segment``."""
        if self.open and segment == self.segment:
            self._reported = max(self._reported, played)

    def _segment_played(self) -> int:
        # in proportion to what was sent, not by the rate ratio: resampling each piece rounds its
        # length, and a reply reported played in full must count as played in full (it was one
        # sample short with Piper's 22.05 kHz, and the engine waited for that sample for ever)
        if self._reported >= self._sent:
            return self._written
        return self._reported * self._written // self._sent


class EngineSession:
    """One client's conversation on the streaming engine (see the module docstring)."""

    def __init__(self, workspace: Workspace, user: str, outbox: Outbox) -> None:
        self.workspace, self.user, self.outbox = workspace, user, outbox
        self.assistant = workspace.assistant(user, workspace.models.with_vad(workspace.new_vad()))
        self.mode = "hands-free"
        self.held = False
        self._frames: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self._pending = np.zeros(0, dtype=np.float32)
        self._out: asyncio.Queue[Payload] = asyncio.Queue()
        self.sink = SocketSink(self._out.put_nowait)
        self.engine = self._new_engine()
        self._turn = 0
        self._last_audio = float("-inf")  # loop time of the latest microphone audio
        self._tasks: list[asyncio.Task[None]] = []
        self._speech: int | None = None  # samples fed since the engine heard speech start
        self._muted = 0  # samples still to feed as silence, to end an over-long turn

    async def start(self) -> None:
        """Start the engine and the sender, then tell the client the session is ready."""
        self._tasks = [asyncio.create_task(t) for t in (self._send_loop(), self._run(), self._keep_time())]
        self._out.put_nowait(
            {"type": "session.ready", "user": self.user, "voice": self.assistant.voice.id, "mode": self.mode,
             "input_rate": SAMPLE_RATE, "output_rate": OUTPUT_RATE}
        )  # fmt: skip

    async def audio(self, samples: np.ndarray) -> None:
        """Microphone audio (16 kHz floats); outside a push-to-talk press it counts as silence."""
        self._last_audio = asyncio.get_running_loop().time()
        if (self.mode == "push-to-talk" and not self.held) or self._cut(len(samples)):
            samples = np.zeros_like(samples)
        samples = np.concatenate([self._pending, samples])
        whole = len(samples) - len(samples) % FRAME_SAMPLES
        for frame in samples[:whole].reshape(-1, FRAME_SAMPLES):
            self._frames.put_nowait(frame)
        self._pending = samples[whole:]

    async def control(self, message: dict[str, Any]) -> None:
        """A validated client event (see ``protocol.CLIENT_EVENTS``)."""
        match message["type"]:
            case "session.update":
                if "voice" in message:
                    self.assistant.voice = self.workspace.voice(self.user, str(message["voice"]))
                self.mode = str(message.get("mode", self.mode))
                self._out.put_nowait({"type": "session.updated", "voice": self.assistant.voice.id, "mode": self.mode})
            case "input.start" | "input.end" if self.mode != "push-to-talk":
                self._error("wrong_mode", "input.start and input.end are for push-to-talk; set that mode first.")
            case "input.start":
                self.stop_reply()
                self.held = True
            case "input.end":
                self.held = False
            case "reply.stop":
                self.stop_reply()
            case "text":
                self.engine.type_text(str(message["text"]))
            case "playback":
                self.sink.report(int(message["segment"]), int(message["played"]))

    def stop_reply(self) -> None:
        """Stop the reply now (the stop button): playback, LLM and TTS; history keeps what was heard."""
        self.engine.interrupt()

    async def close(self) -> None:
        """The client went away: stop the engine (an unfinished reply is dropped) and the sender.
        Frames not yet read are dropped: nothing is heard for a client who left."""
        while not self._frames.empty():
            self._frames.get_nowait()
        self._frames.put_nowait(None)
        self.engine.stop()
        await asyncio.sleep(0)
        for task in self._tasks:
            task.cancel()

    async def _keep_time(self, every: int = 4) -> None:
        """Feed silence in real time while no microphone audio comes (a client that only types):
        the engine moves on by its frames, so replies finish and timers are announced."""
        period = every * FRAME_SAMPLES / SAMPLE_RATE
        silence = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            if loop.time() - self._last_audio > 1.0:  # a second: not a late packet of a live microphone
                for _ in range(every):
                    self._frames.put_nowait(silence)

    def _cut(self, samples: int) -> bool:
        """Whether these samples go to the engine as silence, to end a turn over the longest one."""
        if self._muted > 0:
            self._muted -= samples
            return True
        if self._speech is None:
            return False
        self._speech += samples
        if self._speech < MAX_UTTERANCE_SECONDS * SAMPLE_RATE:
            return False
        # long enough of silence for the engine's slowest endpoint (after an unfinished phrase)
        pause = self.workspace.settings.endpoint_unfinished_silence + 0.5
        self._speech, self._muted = None, round(pause * SAMPLE_RATE) - samples
        self._out.put_nowait({"type": "input.cut", "seconds": MAX_UTTERANCE_SECONDS})
        return True

    def _new_engine(self) -> Engine:
        return Engine(self.assistant, listeners=[self._on_event])

    async def _source(self) -> AsyncIterator[np.ndarray]:
        while (frame := await self._frames.get()) is not None:
            yield frame

    async def _run(self) -> None:
        """Run the engine; a failed turn is reported and the conversation goes on."""
        while True:
            try:
                await self.engine.run(self._source(), self.sink)
                return
            except SaysoError as error:
                _, code = status_of(error)
                self._error(code, str(error))
                self.engine = self._new_engine()

    async def _send_loop(self) -> None:
        while True:
            payload = await self._out.get()
            if isinstance(payload, bytes):
                await self.outbox.audio(payload)
            else:
                await self.outbox.event(payload)

    def _error(self, code: str, message: str) -> None:
        self._out.put_nowait({"type": "error", "code": code, "message": message})

    def _record_delivery(self) -> None:
        """The reply's audio as sent is on record (what a client saving the stream keeps)."""
        sent, self.sink.sent = self.sink.sent, []
        record_stream(self.workspace.models.voice_services, sent, "the realtime WebSocket", OUTPUT_RATE)

    def _on_event(self, event: ev.Outbound) -> None:
        """The engine's events as protocol events, in order."""
        out: dict[str, Any]
        match event:
            case ev.StateChanged(state=state):
                out = {"type": "state", "state": state.value}
            case ev.SpeechStarted():
                self._speech = 0
                out = {"type": "speech.started"}
            case ev.PartialTranscript(text=text):
                out = {"type": "transcript.partial", "turn": self._turn + 1, "text": text}
            case ev.FinalTranscript(text=text):
                self._speech = None
                self._turn += 1
                out = {"type": "transcript.final", "turn": self._turn, "text": text}
            case ev.ReplyClause(text=text):
                out = {"type": "reply.text", "turn": self._turn, "text": text}
            case ev.ReplyPaused():
                out = {"type": "reply.paused", "turn": self._turn}
            case ev.ReplyResumed():
                out = {"type": "reply.resumed", "turn": self._turn}
            case ev.Interrupted(heard=heard):
                self._record_delivery()
                out = {"type": "reply.interrupted", "turn": self._turn, "heard": heard}
            case ev.ReplyFinished(text=text):
                self._record_delivery()
                out = {"type": "reply.done", "turn": self._turn, "text": text}
            case ev.MetricsReady(metrics=metrics):
                out = {"type": "metrics", "turn": self._turn, **dataclasses.asdict(metrics)}
            case _:
                return
        self._out.put_nowait(out)
