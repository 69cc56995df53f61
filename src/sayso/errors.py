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
    │   │   ├── AudioTooLong         longer than the configured limit
    │   │   ├── SpeechTooShort       too little speech to tell who is speaking
    │   │   └── SeveralSpeakers      a reference recording holds more than one voice
    │   ├── UnknownVoice             no voice by that name
    │   │   └── VoiceRevoked         the voice's consent is revoked or expired, or it is blocked
    │   ├── ConsentRefused           a voice lending (or owner revocation) failed its checks
    │   ├── AlreadyProtected         that name is already on the protected registry
    │   ├── UnknownProtectedPerson   no one by that name is on the protected registry
    │   ├── UnknownSession           no lending or revocation session by that id (for that user)
    │   ├── MemoryNotFound           no remembered fact with that number, for that user
    │   ├── PromptTooLong            one message too long for the language model's context
    │   └── BadRequest               a malformed request or message sent to the server
    │       ├── TooLarge             an upload or message over the server's size limit
    │       └── WrongContentType     a request body of a type the endpoint does not take
    ├── DeviceError                  no usable microphone or speaker
    ├── AccessDenied                 a missing or wrong server token, or a foreign origin
    │   └── AdminOnly                a valid user asking for what only the server's admins may do
    ├── TooFast                      a client over a rate or quota (failed tokens, sessions, audio)
    ├── StorageError                 the database cannot be opened or is damaged
    │   └── LedgerTampered           a ledger entry was edited, reordered or deleted
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


class VoiceRevoked(UnknownVoice):
    """The voice exists but may not speak: consent revoked or expired, or blocked (by the likeness guard).

    Raised by ``find_voice`` and at the next utterance of a voice in use; a conversation catches
    it to switch to the default voice.
    """

    def __init__(self, message: str, voice_id: str = "") -> None:
        super().__init__(message)
        self.voice_id = voice_id


class ConsentRefused(InputError):
    """A voice lending or an owner's revocation failed its checks; the message gives every reason."""


class LedgerTampered(StorageError):
    """A ledger entry was edited, reordered or deleted, or its signature does not verify."""


class BadRequest(InputError):
    """A request or message sent to the server is malformed."""


class UnknownModel(BadRequest):
    """A client asked for a model this server does not answer as."""


class TooLarge(BadRequest):
    """An upload or message is over the server's size limit."""


class AccessDenied(SaysoError):
    """The server refused a request: a missing or wrong token, or a page from a foreign origin."""


class SpeechTooShort(AudioError):
    """There is too little speech in the audio to tell who is speaking."""


class SeveralSpeakers(AudioError):
    """A reference recording (or set of them) holds more than one person's voice."""


class AlreadyProtected(InputError):
    """That name is already on the protected registry."""


class UnknownProtectedPerson(InputError):
    """No one by that name or id is on the protected registry."""


class MemoryNotFound(InputError):
    """No remembered fact with that number exists for the user."""


class PromptTooLong(InputError):
    """A message (with the instructions that must come with it) does not fit the language model's context."""


class UnknownSession(InputError):
    """No lending or revocation session has that id (or it was started by another user)."""


class WrongContentType(BadRequest):
    """The request body is of a type the endpoint does not take (e.g. JSON where files are expected)."""


class AdminOnly(AccessDenied):
    """The caller is a valid user, but the operation is for the server's admins only."""


class TooFast(SaysoError):
    """A client asked too often or too much: failed tokens, open sessions, audio faster than real time."""
