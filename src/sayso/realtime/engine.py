"""The streaming turn engine: microphone frames in, spoken reply out, interruptible.

One asyncio task reads input frames into the inbox; every other piece of work (speech-to-text,
the LLM, text-to-speech) runs in a thread and posts its result to the same inbox. The engine
handles one inbox event at a time (``_dispatch``), so all state changes happen in one place.

Per frame: echo cancellation against what was just played (``echo``), the VAD, then
turn-taking (``turn_taking``): speech onset, partial and speculative transcripts, the end of
turn, or, while Sayso speaks, pause / resume / interrupt. At the end of a turn the reply is
produced by ``Assistant.think`` (LLM, in a thread), cut into clauses, each spoken by the voice's
TTS (in a thread) and written to the sink as soon as its first audio exists, while the LLM
goes on. When the reply ends, or is interrupted, ``Assistant.remember`` records only what the
user heard (see ``reply``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.realtime import events as ev
from sayso.realtime.echo import EchoCanceller
from sayso.realtime.events import State
from sayso.realtime.metrics import TurnMetrics, log
from sayso.realtime.playback import AudioSink, Playout
from sayso.realtime.production import produce
from sayso.realtime.read_ahead import ReadAhead
from sayso.realtime.reply import Reply
from sayso.realtime.turn import Assistant
from sayso.realtime.turn_taking import (
    FRAME_SECONDS,
    ONSET_FRAMES,
    PARTIAL_EVERY,
    SPECULATE_AFTER,
    OnsetWatch,
    TurnRules,
    Utterance,
    words,
)

Listener = Callable[[ev.Outbound], None]


class Engine:
    """Runs spoken turns between a frame source and an audio sink (see the module docstring)."""

    def __init__(
        self,
        assistant: Assistant,
        clock: Callable[[], float] = time.perf_counter,
        listeners: list[Listener] | None = None,
    ) -> None:
        settings = assistant.models.settings
        self.assistant = assistant
        self.clock = clock
        self.rules = TurnRules.from_settings(settings)
        self.barge_in = settings.barge_in == "on"
        self.echo = EchoCanceller() if settings.echo_cancel == "on" else None
        self.listeners: list[Listener] = list(listeners or [])
        self.state = State.IDLE
        self.metrics: list[TurnMetrics] = []
        self._inbox: asyncio.Queue[ev.Inbound] = asyncio.Queue()
        self._workers: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._input = OnsetWatch()
        self._utterance: Utterance | None = None
        self._reply: Reply | None = None
        self._answered: Utterance | None = None  # the utterance the current reply answers
        self._playout: Playout  # made by ``run``; only used in states reached while it runs
        self._announcements: list[str] = []
        self._read_ahead = ReadAhead(assistant.mind)

    # --- running ----------------------------------------------------------------------------

    async def run(self, source: AsyncIterator[np.ndarray], sink: AudioSink) -> None:
        """Converse until ``source`` ends or ``stop()`` is called."""
        self._playout = Playout(sink)
        reader = asyncio.create_task(self._read(source))
        poller = asyncio.create_task(self._poll_due())
        try:
            while True:
                event = await self._inbox.get()
                try:
                    if isinstance(event, ev.InputEnded):
                        return
                    self._dispatch(event)
                finally:
                    self._inbox.task_done()
        finally:
            reader.cancel()
            poller.cancel()
            self._drop_reply()
            for task in list(self._workers):
                task.cancel()

    def type_text(self, text: str) -> None:
        """Answer typed ``text`` as a turn of its own, in the same conversation as spoken turns; a
        reply under way is cut off as by a barge-in (the history keeps what was heard of it)."""
        self._inbox.put_nowait(ev.Typed(text))

    def announce(self, text: str) -> None:
        """Say ``text`` unprompted, as soon as neither side is talking."""
        self._inbox.put_nowait(ev.Announce(text))

    async def _poll_due(self, every: float = 1.0) -> None:
        """Announce the mind's timers, alarms and reminders when they fall due."""
        while True:
            for text in self.assistant.mind.due_announcements():
                self.announce(text)
            await asyncio.sleep(every)

    def interrupt(self) -> None:
        """Stop the current reply now (a stop button): playback, LLM and TTS work; the history
        keeps what was heard, counted from the sink's latest report of samples played."""
        if self._reply is not None and self.state in (State.THINKING, State.SPEAKING, State.PAUSED):
            self._update_played()
            self._interrupt()

    def stop(self) -> None:
        """End ``run`` after the events already queued."""
        self._inbox.put_nowait(ev.InputEnded())

    async def settle(self) -> None:
        """Wait until every queued event is handled and no work is running (virtual-clock tests)."""
        while True:
            await self._inbox.join()
            pending = {t for t in self._workers if not t.done()}
            if not pending and self._inbox.empty():
                return
            if pending:
                await asyncio.wait(pending)

    async def _read(self, source: AsyncIterator[np.ndarray]) -> None:
        async for samples in source:
            self._inbox.put_nowait(ev.Frame(samples, self.clock()))
        self._inbox.put_nowait(ev.InputEnded())

    def _emit(self, event: ev.Outbound) -> None:
        for listener in self.listeners:
            listener(event)

    def _set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            self._emit(ev.StateChanged(state, self.clock()))

    def _spawn(self, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # re-raised by the engine, in order
                self._inbox.put_nowait(ev.WorkFailed(error))

        task = asyncio.create_task(guarded())
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)
        return task

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, event: ev.Inbound) -> None:
        reply = self._reply
        match event:
            case ev.Frame(samples=samples, at=at):
                self._on_frame(samples, at)
            case ev.Typed(text=text):
                self._on_typed(text)
            case ev.Announce(text=text):
                self._announcements.append(text)
                self._start_announcement()
            case ev.Transcribed():
                self._on_transcribed(event)
            case ev.ClauseReady(reply=rid, text=text) if reply and reply.id == rid:
                reply.clauses.append(text)
                self._emit(ev.ReplyClause(text))
            case ev.AudioReady(reply=rid, clause=clause, audio=audio) if reply and reply.id == rid:
                reply.add_audio(clause, audio)
                self._on_audio(reply)
            case ev.ReplyProduced(reply=rid) if reply and reply.id == rid:
                reply.produced = True
                while len(reply.clause_ends) < len(reply.clauses):
                    reply.clause_ends.append(reply.length)
                self._check_finished()
            case ev.WorkFailed(error=error):
                raise error
            case _:
                pass  # a late result of work that was cancelled

    def _on_frame(self, samples: np.ndarray, at: float) -> None:
        self._start_announcement()
        reference = self._played_reference()
        heard = samples
        gate_open = True
        if self.echo is not None:
            user = self._utterance is not None or any(self._input.voiced)
            result = self.echo.process(samples, reference, user)
            heard, gate_open = result.residual, result.gate_open
        probability = self.assistant.models.vad.probability(heard)
        voiced = gate_open and probability >= self.rules.threshold
        if self._utterance is None:
            self._watch_for_onset(heard, voiced, at)
        else:
            self._continue_utterance(self._utterance, heard, voiced, at)
        self._check_finished()

    # --- the user speaking ------------------------------------------------------------------

    def _watch_for_onset(self, frame: np.ndarray, voiced: bool, at: float) -> None:
        self._input.recent.append(frame)
        self._input.voiced.append(voiced)
        if sum(self._input.voiced) < ONSET_FRAMES:
            return
        if self.state in (State.SPEAKING, State.PAUSED) and not self.barge_in:
            return
        frames = list(self._input.recent)
        self._input = OnsetWatch()
        utterance = Utterance(next(self._ids), frames, voiced=ONSET_FRAMES, last_voiced_at=at)
        utterance.voiced_end = utterance.samples
        self._emit(ev.SpeechStarted(at))
        if self.state == State.THINKING and self._answered is not None:
            # the user was not finished: drop the reply, keep listening to the same thought
            utterance.frames = self._answered.frames + utterance.frames
            utterance.voiced_end = utterance.samples
            self._drop_reply()
        self._utterance = utterance
        if self.state == State.SPEAKING:
            self._pause()
        elif self.state != State.PAUSED:
            self._set_state(State.LISTENING)

    def _continue_utterance(self, u: Utterance, frame: np.ndarray, voiced: bool, at: float) -> None:
        u.frames.append(frame)
        if voiced:
            u.voiced += 1
            u.silent = 0
            u.voiced_end = u.samples
            u.last_voiced_at = at
        else:
            u.silent += 1
        if not u.stt_busy:
            if u.silence >= SPECULATE_AFTER and not u.current:
                self._transcribe(u, "final")
            elif voiced and u.samples - u.partial_at >= PARTIAL_EVERY * SAMPLE_RATE:
                u.partial_at = u.samples
                self._transcribe(u, "partial")
        self._decide(u, at)

    def _transcribe(self, u: Utterance, purpose: str) -> None:
        u.stt_busy = True
        if purpose == "final":
            self._read_ahead.stop()  # the user waits for this transcript, not for the read-ahead
        audio = Audio(np.concatenate(u.frames), SAMPLE_RATE)
        stt = self.assistant.models.stt
        run = stt.transcribe if purpose == "final" else stt.preview  # a partial only shows progress

        async def work() -> None:
            started = self.clock()
            text = (await asyncio.to_thread(run, audio)).text
            if purpose == "final":
                u.stt_seconds = self.clock() - started
            self._inbox.put_nowait(ev.Transcribed(purpose, u.id, len(audio.samples), text))

        self._spawn(work)

    def _on_transcribed(self, event: ev.Transcribed) -> None:
        u = self._utterance
        if u is None or u.id != event.utterance:
            return
        u.stt_busy = False
        if event.purpose == "final":  # a preview never decides the end of a turn or a barge-in
            u.transcript, u.covered = event.text, event.samples
        if event.text:
            self._emit(ev.PartialTranscript(event.text))
        if u.silence >= SPECULATE_AFTER and not u.current:
            self._transcribe(u, "final")  # the user spoke again meanwhile
        self._decide(u, self.clock())
        if event.text and self._utterance is u and self._reply is None:  # the turn goes on
            self._spawn_read_ahead(event.text)

    def _decide(self, u: Utterance, now: float) -> None:
        """End the turn, or judge a barge-in, once the rules allow."""
        transcript = u.transcript if u.current else None
        if self.state == State.PAUSED:
            verdict = self.rules.barge_in_verdict(u.voiced * FRAME_SECONDS, u.silence, transcript)
            if verdict == "resume":
                self._utterance = None
                self._resume()
            elif verdict == "interrupt":
                self._interrupt()
            return
        if transcript is None or u.silence < self.rules.endpoint_silence:
            return
        if not words(transcript):
            self._utterance = None  # a noise, not words
            self._set_state(State.IDLE)
        elif u.silence >= self.rules.silence_needed(transcript):
            self._end_turn(u, transcript, now)

    def _spawn_read_ahead(self, text: str) -> None:
        if (work := self._read_ahead.work(text)) is not None:
            self._spawn(work)

    def _end_turn(self, u: Utterance, text: str, now: float) -> None:
        self._utterance = None
        self._answered = u
        self._emit(ev.FinalTranscript(text))
        metrics = TurnMetrics(end_of_turn=now - u.last_voiced_at, stt_final=u.stt_seconds)
        reply = Reply(next(self._ids), text, metrics, speech_end=u.last_voiced_at)
        self._start_reply(reply)

    def _on_typed(self, text: str) -> None:
        text = " ".join(text.split())
        if not words(text):
            return
        if self._reply is not None and self.state in (State.THINKING, State.SPEAKING, State.PAUSED):
            self._update_played()
            self._interrupt()
        self._utterance = None  # typing overrides a spoken turn still being heard
        self._answered = None
        self._emit(ev.FinalTranscript(text))
        self._start_reply(Reply(next(self._ids), text, TurnMetrics(), speech_end=self.clock()))

    def _start_reply(self, reply: Reply) -> None:
        self._reply = reply
        self._set_state(State.THINKING)
        reply.task = self._spawn(lambda: produce(reply, self.assistant, self._inbox.put_nowait, self.clock))

    def _start_announcement(self) -> None:
        """Speak the oldest waiting announcement if the engine is idle."""
        if self._announcements and self.state == State.IDLE and self._utterance is None and self._reply is None:
            text = self._announcements.pop(0)
            now = self.clock()
            self._start_reply(Reply(next(self._ids), "", TurnMetrics(), speech_end=now, announcement=text))

    # --- Sayso speaking ---------------------------------------------------------------------

    def _on_audio(self, reply: Reply) -> None:
        if self.state == State.THINKING:
            reply.metrics.voice_to_voice = self.clock() - reply.speech_end
            self._playout.start(reply)
            self._set_state(State.SPEAKING)
        elif self.state == State.SPEAKING:
            self._playout.write(reply)

    def _update_played(self) -> None:
        """Take in the output's "played up to" report while Sayso speaks (see ``Playout``)."""
        if self._reply is not None and self.state == State.SPEAKING:
            self._playout.take_report(self._reply)

    def _played_reference(self) -> np.ndarray:
        """The audio played since the last frame, for the echo canceller."""
        self._update_played()
        return self._playout.reference_frame()

    def _check_finished(self) -> None:
        reply = self._reply
        if reply is None or not reply.produced:
            return
        if (self.state == State.SPEAKING and reply.finished) or (self.state == State.THINKING and not reply.length):
            if not reply.announcement:
                self.assistant.remember(reply.user_text, reply.heard())
            self._emit(ev.ReplyFinished(reply.heard()))
            self._close_reply(reply)
            self._set_state(State.IDLE)
            self._spawn_read_ahead("")

    def _pause(self) -> None:
        assert self._reply is not None
        self._update_played()
        self._playout.sink.clear()
        self._set_state(State.PAUSED)
        self._emit(ev.ReplyPaused(self.clock()))

    def _resume(self) -> None:
        assert self._reply is not None
        self._playout.start(self._reply)
        self._set_state(State.SPEAKING)
        self._emit(ev.ReplyResumed(self.clock()))

    def _interrupt(self) -> None:
        reply = self._reply
        assert reply is not None
        heard = reply.heard()
        if not reply.announcement:
            self.assistant.remember(reply.user_text, heard, interrupted=True)
        self._emit(ev.Interrupted(heard, self.clock()))
        self._close_reply(reply)
        self._set_state(State.LISTENING)

    def _close_reply(self, reply: Reply) -> None:
        if not reply.announcement:  # announcements answer no one: no turn metrics
            self.metrics.append(reply.metrics)
            log.info("turn metrics: %s", reply.metrics.line())
            self._emit(ev.MetricsReady(reply.metrics))
        self._drop_reply()

    def _drop_reply(self) -> None:
        """Cancel the reply's LLM and TTS work and forget it (its audio is no longer played)."""
        if self._reply is not None:
            self._reply.cancel.set()
            if self._reply.task is not None:
                self._reply.task.cancel()
            if self.state in (State.SPEAKING, State.PAUSED):
                self._playout.sink.clear()
        self._reply = None
        self._answered = None


__all__ = ["Engine", "Listener", "Utterance"]
