"""Speech-to-text."""

from sayso.speech.stt.base import STT, Transcript

__all__ = ["STT", "Transcript"]
