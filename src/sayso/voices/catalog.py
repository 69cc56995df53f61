"""The voice catalog: every voice Sayso may speak in, with where it came from.

Each preset is a record with its engine, parameters and provenance (whose voice, which dataset,
under which licence). Only voices listed here, in the ``active`` status, can be spoken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sayso.errors import UnknownVoice


@dataclass(frozen=True)
class Provenance:
    """Where a voice came from and on what terms."""

    source: str
    licence: str
    consent: str


@dataclass(frozen=True)
class Voice:
    """One voice in the catalog."""

    id: str
    description: str
    engine: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    provenance: Provenance = Provenance("", "", "")
    status: str = "active"


_ESPEAK = Provenance(
    source="eSpeak NG rule-based formant synthesis; no recording of any person",
    licence="GPL-3.0-or-later (espeak-ng)",
    consent="not applicable: the voice is not modelled on a person",
)

PRESETS: tuple[Voice, ...] = (
    Voice(
        id="joe",
        description="Piper en_US joe (medium), a natural US English male voice",
        engine="piper",
        provenance=Provenance(
            source="Piper voice en_US-joe-medium, trained on the NabuCasa voice-datasets recordings "
            "of a volunteer speaker, fine-tuned from the lessac voice (model card)",
            licence="CC0-1.0 (dataset, per the voice's model card)",
            consent="speaker recorded for and released in a public-domain TTS dataset",
        ),
    ),
    Voice(
        id="espeak-us",
        description="eSpeak NG US English, robotic male",
        engine="espeak",
        params=MappingProxyType({"voice": "en-us"}),
        provenance=_ESPEAK,
    ),
    Voice(
        id="espeak-uk",
        description="eSpeak NG British English, robotic male",
        engine="espeak",
        params=MappingProxyType({"voice": "en-gb"}),
        provenance=_ESPEAK,
    ),
    Voice(
        id="espeak-us-f",
        description="eSpeak NG US English, robotic female",
        engine="espeak",
        params=MappingProxyType({"voice": "en-us+f3"}),
        provenance=_ESPEAK,
    ),
)


def all_voices() -> tuple[Voice, ...]:
    """Every voice in the catalog."""
    return PRESETS


def find_voice(voice_id: str) -> Voice:
    """The active voice called ``voice_id``; UnknownVoice if there is none."""
    for voice in all_voices():
        if voice.id == voice_id:
            if voice.status != "active":
                raise UnknownVoice(f"The voice {voice_id!r} is {voice.status} and cannot be used; pick another.")
            return voice
    names = ", ".join(v.id for v in all_voices())
    raise UnknownVoice(f"There is no voice called {voice_id!r}; the voices are: {names} (see `sayso voices`).")
