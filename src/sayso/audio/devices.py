"""Microphone and speakers through PortAudio (``sounddevice``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import FRAME_SAMPLES, VAD
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


def record_utterance(vad: VAD, end_silence: float = 0.8, max_seconds: float = 30.0) -> Audio:
    """Record from the microphone until one utterance has been spoken and followed by silence."""
    sd = _sounddevice()
    frames: list[np.ndarray] = []
    heard_speech, quiet_frames = False, 0
    quiet_limit = int(end_silence * SAMPLE_RATE / FRAME_SAMPLES)
    vad.reset()
    try:
        with sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", blocksize=FRAME_SAMPLES) as stream:
            while len(frames) * FRAME_SAMPLES < max_seconds * SAMPLE_RATE:
                block, _overflow = stream.read(FRAME_SAMPLES)
                frame = block[:, 0].copy()
                speaking = vad.probability(frame) >= 0.5
                heard_speech = heard_speech or speaking
                quiet_frames = 0 if speaking else quiet_frames + 1
                if heard_speech:
                    frames.append(frame)
                    if quiet_frames >= quiet_limit:
                        break
    except sd.PortAudioError as error:
        raise DeviceError(f"The microphone could not be read ({error}).") from error
    return Audio(np.concatenate(frames) if frames else np.zeros(0, np.float32), SAMPLE_RATE)
