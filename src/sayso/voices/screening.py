"""When someone is newly protected, the voices Sayso already speaks in are checked against them.

A voice modelled on a person can sound like someone who only later asks not to be imitated:
the Piper preset (a volunteer's recorded voice) as much as a lent one. Each active such voice is
checked as an enrolment would be (``LikenessGuard.check_enrolment``): a lent voice from the
recordings it was lent with (kept while its consent stands), a preset from speech it synthesises
now. A voice the guard refuses is blocked for good (status ``blocked`` with a ledger entry, as
when the guard refuses an utterance); conversations in it fall back to another voice. Synthetic
presets (eSpeak) are modelled on no one, so they are not screened: they stay the safe fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.voices.catalog import Voice, all_voices
from sayso.voices.guard import LikenessGuard, LikenessVerdict
from sayso.voices.speaker import VoiceServices

SCREEN_TEXT = (
    "Good morning. Here is the weather for today: a little rain early on, then sunshine by the afternoon. "
    "Remember to take your umbrella, and do not forget that the library closes at six this evening."
)
"""What a preset says to be screened: about ten seconds of ordinary speech."""

Speak = Callable[[Voice], Audio]


@dataclass(frozen=True)
class Blocked:
    """A voice the screening blocked, and the verdict that blocked it."""

    voice: Voice
    verdict: LikenessVerdict


def speak_preset(voice: Voice) -> Audio:
    """``voice`` saying ``SCREEN_TEXT``, from its own TTS engine."""
    from sayso.speech.tts import make_tts

    return make_tts(voice.engine, voice.params).synthesize(SCREEN_TEXT)


def screen_voices(services: VoiceServices, guard: LikenessGuard, speak: Speak = speak_preset) -> list[Blocked]:
    """Check every active voice modelled on a person against the registry; block and return those refused."""
    blocked = []
    for voice in all_voices(services.store):
        if voice.status != "active" or voice.imitates_no_one:
            continue
        verdict = guard.check_enrolment([_speech(voice, speak)])
        if not verdict.allowed:
            services.consents.block(voice.id, f"checked when a person was protected: {verdict.reason}")
            blocked.append(Blocked(voice, verdict))
    return blocked


def _speech(voice: Voice, speak: Speak) -> Audio:
    reference = voice.params.get("reference")
    if voice.lent and reference and Path(str(reference)).is_file():
        return read_audio(str(reference))
    return speak(voice)
