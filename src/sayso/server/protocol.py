"""The realtime WebSocket protocol's client side, checked (docs/realtime-protocol.md says it all).

Client to server: binary messages are microphone audio (16-bit little-endian mono PCM at
16 kHz); text messages are JSON events, each with a ``type`` from ``CLIENT_EVENTS``.
Anything else is answered with an ``error`` event, and the connection stays open.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from sayso.errors import BadRequest, TooLarge
from sayso.server.backends import from_pcm16
from sayso.server.fields import check_text

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
