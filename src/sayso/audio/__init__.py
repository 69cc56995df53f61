"""Audio: frames, resampling, file I/O, voice activity detection and devices."""

from sayso.audio.frames import SAMPLE_RATE, Audio

__all__ = ["SAMPLE_RATE", "Audio"]
