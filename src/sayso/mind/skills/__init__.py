"""Local skills: answers computed on the machine, without the LLM, when the intent is clear.

A skill handler takes the normalised utterance (``sayso.mind.text.normal``) and returns a
``SkillResult`` when the utterance is for it, else None. Skills that change how Sayso speaks
return an ``Action`` that the caller applies; they keep no hidden state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sayso.voices.catalog import Voice


@dataclass(frozen=True)
class Action:
    """A change to how Sayso speaks, for the caller (``Assistant``) to apply."""

    voice: Voice | None = None
    rate: float | None = None  # new speaking-rate multiplier (1.0 is normal)
    repeat: bool = False  # the reply is the previous reply, said again


@dataclass(frozen=True)
class SkillResult:
    """What a skill answers: the spoken text, the route (e.g. "skill:timer"), maybe an action."""

    route: str
    text: str
    action: Action | None = None
