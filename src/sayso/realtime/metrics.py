"""Per-turn latency metrics: logged, printed by ``sayso talk --metrics``, and plain data for a server.

All values are seconds on the engine's clock (wall time, or a virtual clock in tests):

- ``end_of_turn``: end of the user's speech (last voiced frame) to the end of turn being decided.
- ``stt_final``: how long the transcription that became the final transcript took. It starts
  after a short silence, before the endpoint is confirmed, so it overlaps ``end_of_turn``.
- ``llm_first_token``: the mind asked for a reply to its first clause (the screen, skills, memory
  lookup, the new prompt tokens and the clause's own; the name is kept for the server's clients).
- ``tts_first_audio``: the first clause handed to TTS to its first audio.
- ``voice_to_voice``: end of the user's speech to the first reply audio handed to the output.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger("sayso.realtime")

STAGES = ("end_of_turn", "stt_final", "llm_first_token", "tts_first_audio", "voice_to_voice")


@dataclass
class TurnMetrics:
    """The latency of one answered turn (see the module docstring); ``None`` until measured."""

    end_of_turn: float | None = None
    stt_final: float | None = None
    llm_first_token: float | None = None
    tts_first_audio: float | None = None
    voice_to_voice: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """Plain data (seconds), e.g. for a JSON message."""
        return asdict(self)

    def line(self) -> str:
        """One line for people: each stage in milliseconds."""
        return "  ".join(f"{name} {_ms(value)}" for name, value in self.as_dict().items())


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def percentile_line(name: str, seconds: list[float]) -> str:
    """``name p50 N ms p95 N ms (n=K)`` over ``seconds``."""
    if not seconds:
        return f"{name} p50 - ms p95 - ms (n=0)"
    values = np.asarray(seconds) * 1000
    return f"{name} p50 {np.percentile(values, 50):.0f} ms p95 {np.percentile(values, 95):.0f} ms (n={len(values)})"


def breakdown(turns: list[TurnMetrics]) -> list[str]:
    """One percentile line per stage over ``turns`` (stages never measured are skipped)."""
    lines = []
    for stage in STAGES:
        values = [v for t in turns if (v := getattr(t, stage)) is not None]
        lines.append(percentile_line(f"  {stage}", values))
    return lines
