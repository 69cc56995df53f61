"""Sayso: a private, voice-first assistant that only speaks in voices people said yes to."""

__version__ = "0.1.0"
