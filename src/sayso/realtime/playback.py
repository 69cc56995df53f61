"""The engine's abstract I/O: an async source of input frames and a sink for output audio.

Input is any ``AsyncIterator[np.ndarray]`` of 512-sample 16 kHz float32 frames. Output is an
``AudioSink``: it queues audio, drops what is queued on ``clear()``, and reports ``played``,
the count of output samples that have actually been played (the "played up to sample N"
report that lets barge-in cut the history at what the user heard). ``sayso talk`` uses the
sound devices (``sayso.audio.devices``); a server uses its client's reports; tests and the
benchmark use ``PacedSink``, which plays in real time on any clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import FRAME_SAMPLES
from sayso.realtime.reply import Reply


class AudioSink(Protocol):
    """Where reply audio goes (see the module docstring)."""

    def write(self, audio: Audio) -> None:
        """Queue ``audio`` to play after what is queued."""
        ...

    def clear(self) -> None:
        """Stop at once: drop everything queued and not yet played."""
        ...

    @property
    def played(self) -> int:
        """Output samples played since the sink was made (cleared samples never count)."""
        ...


class Playout:
    """A reply's audio on its way to the sink, and the echo reference: the audio played so far."""

    REFERENCE_FRAMES = 4
    """Reference audio kept ahead when the output runs ahead of the input, to bound misalignment."""

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._reference = np.zeros(0, np.float32)

    def start(self, reply: Reply) -> None:
        """Play ``reply`` from what the user has heard of it (its start, or where it paused)."""
        reply.written = reply.played
        reply.sink_base = self.sink.played - reply.played
        self.write(reply)

    def write(self, reply: Reply) -> None:
        """Queue the audio of ``reply`` not yet written."""
        fresh = reply.unwritten()
        if len(fresh):
            self.sink.write(Audio(fresh, reply.rate))
            reply.written += len(fresh)

    def take_report(self, reply: Reply) -> None:
        """Take in the sink's "played up to" report; queue what was played as echo reference."""
        before = reply.played
        reply.played = min(reply.written, self.sink.played - reply.sink_base)
        self._reference = np.concatenate([self._reference, reply.reference_between(before, reply.played)])

    def reference_frame(self) -> np.ndarray:
        """The 16 kHz audio played since the last input frame, as one frame's worth of samples."""
        frame = self._reference[:FRAME_SAMPLES]
        self._reference = self._reference[FRAME_SAMPLES:]
        if len(self._reference) > FRAME_SAMPLES * self.REFERENCE_FRAMES:
            self._reference = self._reference[-FRAME_SAMPLES * self.REFERENCE_FRAMES :]
        return np.pad(frame, (0, FRAME_SAMPLES - len(frame)))


class PacedSink:
    """A sink that plays at ``rate`` samples per second of ``clock``, with no device.

    ``log`` records ``(clock time, samples)`` for each stretch played, for loopback and for
    measuring when the last audio went out.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.rate = 0
        self._queue: list[np.ndarray] = []
        self._played = 0
        self._cursor = clock()
        self.log: list[tuple[float, np.ndarray]] = []

    def write(self, audio: Audio) -> None:
        self._advance()
        if not self._queue:
            self._cursor = self.clock()  # playback (re)starts now, not in the past
        self.rate = audio.rate
        self._queue.append(audio.samples)

    def clear(self) -> None:
        self._advance()
        self._queue.clear()

    @property
    def played(self) -> int:
        self._advance()
        return self._played

    @property
    def busy(self) -> bool:
        """Whether audio is queued and not yet played."""
        self._advance()
        return bool(self._queue)

    def _advance(self) -> None:
        now = self.clock()
        budget = int((now - self._cursor) * self.rate) if self._queue else 0
        start = self._cursor
        while budget > 0 and self._queue:
            head = self._queue[0]
            take = min(budget, len(head))
            self.log.append((start, head[:take]))
            start += take / self.rate
            self._queue[0] = head[take:]
            if not len(self._queue[0]):
                self._queue.pop(0)
            self._played += take
            budget -= take
            self._cursor = start
        if not self._queue:
            self._cursor = now


def frames_of(audio: Audio) -> list[np.ndarray]:
    """``audio`` at 16 kHz cut into whole 512-sample frames (the tail is zero-padded)."""
    samples = audio.resampled(SAMPLE_RATE).samples
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME_SAMPLES, np.float32)])
    return list(padded.reshape(-1, FRAME_SAMPLES))


async def realtime_frames(
    audio: Audio, on_frame: Callable[[int, np.ndarray], np.ndarray] | None = None
) -> AsyncIterator[np.ndarray]:
    """Yield ``audio``'s frames paced at real time (each when it would have been recorded).

    ``on_frame(index, frame)`` may replace a frame just before it is yielded (e.g. to mix in
    the echo of what was played).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, frame in enumerate(frames_of(audio)):
        due = started + (index + 1) * FRAME_SAMPLES / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - loop.time()))
        yield on_frame(index, frame) if on_frame else frame
