"""The realtime WebSocket protocol's client side, checked (docs/realtime-protocol.md says it all).

Client to server: binary messages are microphone audio (16-bit little-endian mono PCM at
16 kHz); text messages are JSON events, each with a ``type`` from ``CLIENT_EVENTS``.
Anything else is answered with an ``error`` event, and the connection stays open.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sayso.errors import BadRequest, TooFast, TooLarge
from sayso.server.backends import from_pcm16
from sayso.server.fields import check_text

BURST_SECONDS = 8.0
"""Audio a client may send ahead of real time (network jitter, a paused tab catching up); beyond
it audio is dropped with an error event, so a flood cannot queue minutes of work."""
MAX_AUDIO_BYTES = 64_000
"""At most 2 s of audio per message (clients send about 0.1 s at a time)."""
MAX_TEXT_BYTES = 8_192
MAX_TYPED_CHARS = 2_000
MODES = ("hands-free", "push-to-talk")

# Each event's fields: name -> (type, required).
CLIENT_EVENTS: dict[str, dict[str, tuple[type, bool]]] = {
    "session.update": {"voice": (str, False), "mode": (str, False)},
    "input.start": {},
    "input.end": {},
    "reply.stop": {},
    "text": {"text": (str, True)},
    "playback": {"segment": (int, True), "played": (int, True)},
}


def parse_event(text: str) -> dict[str, Any]:
    """A client's JSON event, checked against ``CLIENT_EVENTS``; BadRequest saying what is wrong."""
    if len(text.encode()) > MAX_TEXT_BYTES:
        raise TooLarge(f"Event messages are limited to {MAX_TEXT_BYTES} bytes; send a shorter one.")
    try:
        event = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"The message is not valid JSON ({error.msg}); send a JSON object with a 'type'.") from error
    except RecursionError as error:  # "[[[[...]]]]" deeper than Python's parser recurses
        raise BadRequest("The message nests too deeply; send a flat JSON object with a 'type'.") from error
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise BadRequest("Each text message must be a JSON object with a 'type' string.")
    fields = CLIENT_EVENTS.get(event["type"])
    if fields is None:
        raise BadRequest(f"Unknown event type {event['type']!r}; the types are: {', '.join(CLIENT_EVENTS)}.")
    for name, (kind, required) in fields.items():
        _check_field(event, name, kind, required)
    extra = sorted(set(event) - set(fields) - {"type"})
    if extra:
        raise BadRequest(f"The {event['type']} event has unknown fields: {', '.join(extra)}.")
    _check_values(event)
    return event


def decode_audio(data: bytes) -> np.ndarray:
    """Float samples from a binary audio message; BadRequest or TooLarge when it cannot be PCM16."""
    if len(data) > MAX_AUDIO_BYTES:
        raise TooLarge(f"Audio messages are limited to {MAX_AUDIO_BYTES} bytes (2 s); send smaller pieces.")
    if len(data) % 2:
        raise BadRequest("Audio messages are 16-bit PCM, so they hold an even number of bytes; check the format.")
    return from_pcm16(data)


class Pace:
    """Audio allowed at the pace it is recorded: a bucket of ``burst`` seconds that refills at one
    second a second. ``admit`` takes a message's seconds out of it, or drops them when they are not
    there (TooFast says so once per ``burst`` of dropped audio, not once per message)."""

    def __init__(self, burst: float = BURST_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.clock = burst, clock
        self._credit, self._at = burst, clock()
        self.dropped = 0.0
        self._told = -burst  # seconds dropped when the client was last told

    def admit(self, seconds: float) -> bool:
        """Whether ``seconds`` of audio may be used; when not, TooFast if the client is to be told."""
        now = self.clock()
        self._credit = min(self.burst, self._credit + now - self._at)
        self._at = now
        if seconds <= self._credit:
            self._credit -= seconds
            return True
        self.dropped += seconds
        if self.dropped - self._told >= self.burst:
            self._told = self.dropped
            raise TooFast(
                f"Audio is arriving faster than real time; {self.dropped:.1f} s of it was dropped. "
                "Send the microphone's audio as it is recorded."
            )
        return False


def _check_field(event: dict[str, Any], name: str, kind: type, required: bool) -> None:
    if name not in event:
        if required:
            raise BadRequest(f"The {event['type']} event needs a {name!r} field.")
        return
    value = event[name]
    # bool is an int in Python, but not a count of samples.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest(f"The {name!r} field of {event['type']} must be a {kind.__name__}.")
    if isinstance(value, str):
        check_text(value)


def _check_values(event: dict[str, Any]) -> None:
    if event.get("mode") is not None and event["mode"] not in MODES:
        raise BadRequest(f"The mode must be one of {', '.join(MODES)}, not {event['mode']!r}.")
    if event["type"] == "text" and not 0 < len(event["text"].strip()) <= MAX_TYPED_CHARS:
        raise BadRequest(f"The text must hold 1 to {MAX_TYPED_CHARS} characters.")
    if event["type"] == "playback" and (event["segment"] < 0 or event["played"] < 0):
        raise BadRequest("segment and played must not be negative.")
