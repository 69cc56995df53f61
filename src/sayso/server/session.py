"""A simpler realtime conversation for one client, on the spoken turn (``realtime.turn.Assistant``).

The WebSocket runs the streaming engine (``engine_session``) by default; this adapter is the
alternative (``sayso serve --engine simple``), which also takes typed text. The transport
feeds ``audio`` (16 kHz float frames) and ``control`` events (already validated, see
``protocol``), and receives events and 24 kHz PCM through an ``Outbox``. Server-side VAD ends
the user's turn (hands-free) or the client does (push-to-talk); the reply is streamed clause by
clause; speech or a stop message interrupts it, and the conversation keeps only what the user
heard (the client reports how many samples it has played; a turn's audio is one segment).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import FRAME_SAMPLES
from sayso.errors import EmptyAudio, SaysoError
from sayso.server.backends import OUTPUT_RATE, pcm16
from sayso.server.workspace import Workspace
from sayso.voices.delivery import record_stream

log = logging.getLogger("sayso.server")

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
PREROLL_FRAMES = 10
"""Audio kept from before the speech onset (0.32 s), so the first word is not clipped."""
MAX_UTTERANCE_SECONDS = 30.0
MIN_END_SILENCE = 0.6
"""Hands-free turns end after at least this much silence (this adapter has no transcript-aware rule)."""


class Outbox(Protocol):
    """Where a session's output goes."""

    async def event(self, data: dict[str, Any]) -> None:
        """Send one JSON event."""

    async def audio(self, pcm: bytes) -> None:
        """Send reply audio: 16-bit little-endian mono PCM at OUTPUT_RATE."""


@dataclass
class Endpointer:
    """Utterance edges in a stream of VAD probabilities: speech starts after ``start_frames``
    voiced frames in a row, and ends after ``end_frames`` unvoiced ones."""

    threshold: float = 0.5
    start_frames: int = 8
    end_frames: int = 19
    speaking: bool = False
    _voiced: int = 0
    _silent: int = 0

    def push(self, probability: float) -> str | None:
        """``"start"``, ``"end"`` or None for the next frame's speech probability."""
        if probability >= self.threshold:
            self._voiced, self._silent = self._voiced + 1, 0
            if not self.speaking and self._voiced >= self.start_frames:
                self.speaking = True
                return "start"
            return None
        self._silent += 1
        if not self.speaking:
            self._voiced = 0
        elif self._silent >= self.end_frames:
            self.speaking, self._voiced = False, 0
            return "end"
        return None


@dataclass
class Turn:
    """One reply and what became of it; dropped when it ends or is interrupted."""

    id: int
    user_text: str = ""
    clauses: list[tuple[int, str]] = field(default_factory=list)  # (first sample, text)
    sent: int = 0
    played: int = 0
    produced: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    delivered: list[tuple[Audio, bytes]] = field(default_factory=list)  # pieces and the PCM sent for them

    def heard(self) -> str:
        """The clauses the user heard at least the start of."""
        return " ".join(text for start, text in self.clauses if start < self.played)

    @property
    def text(self) -> str:
        return " ".join(text for _, text in self.clauses)


class AssistantSession:
    """One client's conversation: its voice, mode (hands-free or push-to-talk) and current turn."""

    def __init__(self, workspace: Workspace, user: str, outbox: Outbox) -> None:
        self.workspace, self.user, self.outbox = workspace, user, outbox
        settings = workspace.settings
        models = workspace.models.with_vad(workspace.new_vad())
        self.vad = models.vad
        self.assistant = workspace.assistant(user, models)
        self.mode = "hands-free"
        self.endpointer = Endpointer(
            threshold=settings.vad_threshold,
            end_frames=round(max(MIN_END_SILENCE, settings.endpoint_silence) / FRAME_SECONDS),
        )
        self.turn: Turn | None = None
        self._turns = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._preroll: collections.deque[np.ndarray] = collections.deque(maxlen=PREROLL_FRAMES)
        self._utterance: list[np.ndarray] | None = None

    async def start(self) -> None:
        """Tell the client the session is ready, and in which formats."""
        await self.outbox.event(
            {"type": "session.ready", "user": self.user, "voice": self.assistant.voice.id, "mode": self.mode,
             "input_rate": SAMPLE_RATE, "output_rate": OUTPUT_RATE}
        )  # fmt: skip

    async def audio(self, samples: np.ndarray) -> None:
        """Microphone audio: 16 kHz mono float samples, any number of them."""
        if self.mode == "push-to-talk":
            if self._utterance is not None:
                self._utterance.append(samples)
            return
        samples = np.concatenate([self._pending, samples])
        whole = len(samples) - len(samples) % FRAME_SAMPLES
        frames, self._pending = samples[:whole].reshape(-1, FRAME_SAMPLES), samples[whole:]
        if len(frames):
            probabilities = await asyncio.to_thread(lambda: [self.vad.probability(f) for f in frames])
            for frame, probability in zip(frames, probabilities, strict=True):
                await self._frame(frame, probability)

    async def control(self, message: dict[str, Any]) -> None:
        """A validated client event (see ``protocol.CLIENT_EVENTS``)."""
        match message["type"]:
            case "session.update":
                await self._update(message)
            case "input.start" | "input.end" if self.mode != "push-to-talk":
                await self.outbox.event(
                    {"type": "error", "code": "wrong_mode", "message": "input.start and input.end are for "
                     "push-to-talk; send session.update with mode push-to-talk first."}
                )  # fmt: skip
            case "input.start":
                await self.interrupt("input")
                self._utterance = []
            case "input.end":
                await self._end_utterance()
            case "reply.stop":
                await self.interrupt("stop")
            case "text":
                await self._begin(None, message["text"])
            case "playback":
                self._played(int(message["segment"]), int(message["played"]))

    async def interrupt(self, reason: str) -> None:
        """Stop the current reply; the conversation keeps only what was heard."""
        turn = self.turn
        if turn is None:
            return
        turn.cancel.set()
        if turn.task is not None and turn.task is not asyncio.current_task():
            turn.task.cancel()
        self._close(turn, heard=turn.heard(), interrupted=True)
        await self.outbox.event({"type": "audio.clear", "segment": turn.id})
        await self.outbox.event({"type": "reply.interrupted", "turn": turn.id, "reason": reason, "heard": turn.heard()})

    async def close(self) -> None:
        """The client went away: stop work, keep what was heard."""
        if self.turn is not None:
            self.turn.cancel.set()
            if self.turn.task is not None:
                self.turn.task.cancel()
            self._close(self.turn, heard=self.turn.heard(), interrupted=True)

    async def _update(self, message: dict[str, Any]) -> None:
        if "voice" in message:
            self.assistant.voice = self.workspace.voice(self.user, str(message["voice"]))
        if "mode" in message:
            self.mode = str(message["mode"])
            self._utterance, self.endpointer.speaking = None, False
        await self.outbox.event({"type": "session.updated", "voice": self.assistant.voice.id, "mode": self.mode})

    async def _frame(self, frame: np.ndarray, probability: float) -> None:
        edge = self.endpointer.push(probability)
        if edge == "start":
            self._utterance = [*self._preroll, frame]
            await self.outbox.event({"type": "speech.started"})
            await self.interrupt("speech")
        elif self._utterance is not None:
            self._utterance.append(frame)
            if edge == "end" or len(self._utterance) * FRAME_SECONDS >= MAX_UTTERANCE_SECONDS:
                self.endpointer.speaking = False
                await self.outbox.event({"type": "speech.stopped"})
                await self._end_utterance()
        self._preroll.append(frame)

    async def _end_utterance(self) -> None:
        parts, self._utterance = self._utterance, None
        if parts:
            await self._begin(Audio(np.concatenate(parts), SAMPLE_RATE), None)

    async def _begin(self, audio: Audio | None, text: str | None) -> None:
        await self.interrupt("input")
        self._turns += 1
        turn = Turn(self._turns)
        self.turn = turn
        turn.task = asyncio.create_task(self._run(turn, audio, text))

    async def _run(self, turn: Turn, audio: Audio | None, text: str | None) -> None:
        try:
            if audio is not None:
                text = await asyncio.to_thread(self.assistant.listen, audio)
            turn.user_text = text or ""
            await self.outbox.event({"type": "transcript.final", "turn": turn.id, "text": turn.user_text})
            await self._reply(turn)
        except EmptyAudio:
            self._close(turn, heard="", record=False)
            await self.outbox.event({"type": "transcript.empty", "turn": turn.id})
        except SaysoError as error:
            self._close(turn, heard="", record=False)
            await self.outbox.event({"type": "error", "code": "turn_failed", "message": str(error)})

    async def _reply(self, turn: Turn) -> None:
        await self.outbox.event({"type": "reply.started", "turn": turn.id, "voice": self.assistant.voice.id})
        await self.outbox.event({"type": "audio.start", "segment": turn.id, "rate": OUTPUT_RATE})
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        producer = loop.run_in_executor(
            None, self._produce, turn, lambda item: loop.call_soon_threadsafe(queue.put_nowait, item)
        )
        producer.add_done_callback(_retrieve)
        try:
            while (item := await queue.get())[0] != "done":
                await self._forward(turn, *item)
        finally:
            turn.cancel.set()  # an interrupted turn's producer stops at its next piece
        turn.produced = True
        services = self.workspace.models.voice_services
        await asyncio.to_thread(record_stream, services, turn.delivered, "the realtime WebSocket", OUTPUT_RATE)
        await self.outbox.event({"type": "reply.done", "turn": turn.id, "text": turn.text, "samples": turn.sent})
        self._played(turn.id, turn.played)

    async def _forward(self, turn: Turn, kind: str, item: Any) -> None:
        if kind == "clause":
            turn.clauses.append((turn.sent, item))
            await self.outbox.event({"type": "reply.text", "turn": turn.id, "text": item, "at_sample": turn.sent})
        elif kind == "audio":
            pcm = pcm16(item)
            turn.sent += len(pcm) // 2
            turn.delivered.append((item, pcm))
            await self.outbox.audio(pcm)
        elif kind == "error":
            raise item

    def _produce(self, turn: Turn, put: Callable[[tuple[str, Any]], object]) -> None:
        """Runs in a worker thread: the reply clause by clause, each synthesised as it comes."""
        pieces = self.assistant.think(turn.user_text, cancel=turn.cancel)
        try:
            for clause in pieces:
                if turn.cancel.is_set():
                    return
                said = None
                for text, audio in self.assistant.spoken(clause):
                    if turn.cancel.is_set():
                        return
                    if text != said:
                        said = text
                        put(("clause", text))
                    put(("audio", audio))
        except SaysoError as error:
            put(("error", error))
        finally:
            if isinstance(pieces, Generator):
                pieces.close()  # releases the LLM for the next user at once
            put(("done", None))

    def _played(self, turn_id: int, played: int) -> None:
        turn = self.turn
        if turn is None or turn.id != turn_id:
            return
        turn.played = max(turn.played, played)
        if turn.produced and turn.played >= turn.sent:
            self._close(turn, heard=turn.text)

    def _close(self, turn: Turn, heard: str, record: bool = True, interrupted: bool = False) -> None:
        if self.turn is not turn:
            return
        self.turn = None
        if record and turn.user_text:
            self.assistant.remember(turn.user_text, heard, interrupted)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Collect a finished producer's outcome so an unexpected error is logged, not lost."""
    if not future.cancelled() and future.exception() is not None:
        log.error("reply producer failed", exc_info=future.exception())
