"""Every error Sayso raises on purpose, as one tree.

Library code raises the most specific class; only the CLI and the server turn an error into
a message for people (``str(error)`` is that message: what was wrong, then what to do).

    SaysoError
    ├── ConfigError                  a bad setting, config file or flag value
    ├── InputError                   bad input from the user
    │   ├── AudioError               audio that cannot be used
    │   │   ├── AudioNotFound        no such file
    │   │   ├── NotAudio             the file is not audio, or its header is corrupt
    │   │   ├── EmptyAudio           no samples, or no speech in them
    │   │   └── AudioTooLong         longer than the configured limit
    │   └── UnknownVoice             no voice by that name
    ├── DeviceError                  no usable microphone or speaker
    ├── StorageError                 the database cannot be opened or is damaged
    └── BackendError                 a model or service failed
        ├── ModelMissing             an embedded model's package is not installed
        └── ServiceUnavailable       a remote service (LLM URL) cannot be reached or failed
"""

from __future__ import annotations


class SaysoError(Exception):
    """Base of every error Sayso raises on purpose; its text is fit to show a person."""


class ConfigError(SaysoError):
    """A setting, config file or flag has a value Sayso cannot use."""


class InputError(SaysoError):
    """The user gave input that cannot be used."""


class AudioError(InputError):
    """Audio that cannot be used."""


class AudioNotFound(AudioError):
    """The audio file does not exist."""


class NotAudio(AudioError):
    """The file is not audio in a format Sayso reads, or its header is corrupt."""


class EmptyAudio(AudioError):
    """The audio holds no samples, or no speech."""


class AudioTooLong(AudioError):
    """The audio is longer than the configured limit."""


class UnknownVoice(InputError):
    """No voice by that name exists (or it may not be used)."""


class DeviceError(SaysoError):
    """No usable audio device."""


class StorageError(SaysoError):
    """The database cannot be opened or is damaged."""


class BackendError(SaysoError):
    """A model or a service failed."""


class ModelMissing(BackendError):
    """An embedded model's package is not installed."""


class ServiceUnavailable(BackendError):
    """A remote service cannot be reached or answered with an error."""
