"""Microphone and speakers through PortAudio (``sounddevice``): one-shot helpers, and streams
for the realtime engine (``microphone_frames`` in, ``Speakers`` out)."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import FRAME_SAMPLES
from sayso.errors import DeviceError


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as error:  # PortAudio itself is missing
        raise DeviceError("PortAudio is not installed, so Sayso cannot use audio devices.") from error
    return sounddevice


def has_device(kind: str) -> bool:
    """Whether a default ``input`` or ``output`` device exists."""
    try:
        sd = _sounddevice()
    except DeviceError:
        return False
    try:
        sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError):
        return False
    return True


def play(audio: Audio) -> None:
    """Play ``audio`` on the default speakers and wait until it has finished."""
    sd = _sounddevice()
    try:
        sd.play(audio.samples, audio.rate)
        sd.wait()
    except (sd.PortAudioError, ValueError) as error:
        raise DeviceError(f"The speakers could not play audio ({error}).") from error


async def microphone_frames() -> AsyncIterator[np.ndarray]:
    """Stream 512-sample 16 kHz frames from the default microphone, as they are recorded."""
    sd = _sounddevice()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[np.ndarray] = asyncio.Queue()

    def on_block(block: np.ndarray, _frames: int, _time: object, _status: object) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, block[:, 0].copy())

    try:
        stream = sd.InputStream(
            samplerate=SAMPLE_RATE, channels=1, dtype="float32", blocksize=FRAME_SAMPLES, callback=on_block
        )
    except (sd.PortAudioError, ValueError) as error:
        raise DeviceError(f"The microphone could not be opened ({error}).") from error
    with stream:
        while True:
            yield await queue.get()


class Speakers:
    """Reply audio to the default speakers, playing while the microphone listens.

    ``played`` counts the samples the sound card has taken from the queue (the output
    latency of the device comes on top); ``clear`` drops everything not yet taken.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._played = 0
        self._stream: Any = None

    @property
    def played(self) -> int:
        with self._lock:
            return self._played

    def write(self, audio: Audio) -> None:
        if self._stream is None:
            self._open(audio.rate)
        with self._lock:
            self._queue.append(audio.samples.astype(np.float32, copy=False))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def close(self) -> None:
        """Stop the output stream."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _open(self, rate: int) -> None:
        sd = _sounddevice()
        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", callback=self._fill)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise DeviceError(f"The speakers could not be opened ({error}).") from error

    def _fill(self, out: np.ndarray, frames: int, _time: object, _status: object) -> None:
        out.fill(0)
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                out[filled : filled + take, 0] = head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
            self._played += filled
