"""The clock and how Sayso speaks: date and time, "slower" / "faster", "use voice X", "repeat that"."""

from __future__ import annotations

import re
from datetime import datetime

from sayso.errors import UnknownVoice
from sayso.mind.skills import Action, SkillResult
from sayso.mind.skills.when import spoken_time
from sayso.voices.catalog import all_voices, find_voice

RATE_STEP = 1.25
RATE_LIMITS = (0.5, 2.0)

_TIME = re.compile(r"\bwhat(?:'s| is)? the time\b|\bwhat time is it\b|\btell me the time\b|\bgot the time\b|^time$")
_DATE = re.compile(
    r"\bwhat(?:'s| is)? (?:the |today's )?date\b|\bwhat day is (?:it|today)\b|\bwhat(?:'s| is) today\b"
    r"|\bwhat year is it\b|\bwhat month is it\b|\btoday's date\b"
)
_SLOWER = re.compile(r"\b(slow(?:er)? down|slower|(?:speak|talk|read) (?:more )?slow(?:ly|er)?|too fast|so fast)\b")
_FASTER = re.compile(
    r"\b(speed (?:it )?up|faster|(?:speak|talk|read) (?:more )?quick(?:ly|er)?|too slow(?:ly)?|so slow(?:ly)?)\b"
)
_NORMAL = re.compile(r"\b(normal|regular|usual|default) (speed|pace|rate)\b")
_ABOUT_SPEECH = re.compile(r"\b(speak|talk|say|said|read|you|your|voice|speech|pace)\b")
_VOICE = re.compile(
    r"\b(?:use|switch to|change to|swap to|try|speak (?:in|with|as|using)|talk (?:in|with|as|using)|sound like"
    r"|change your voice to|switch your voice to|switch voices? to|change voices? to|do|imitate|impersonate|mimic"
    r"|clone|copy)\s+(?:the\s+|a\s+|an\s+)?"
    r"(?:voice\s+(?:of\s+|called\s+|named\s+)?)?(?P<name>.+?)(?:'s)?(?:\s+voice)?(?:\s+please)?$"
)
_IMITATE = re.compile(r"\b(?:imitate|impersonate|mimic|clone)\b")
_REPEAT = re.compile(
    r"^(?:sorry |pardon |can you |could you |would you |please |what )*(?:repeat(?: that| it| yourself"
    r"| what you (?:just )?said| the last (?:part|bit|thing))?"
    r"|say (?:that|it) again|what did you (?:just )?say|come again|pardon(?: me)?|i didn't (?:catch"
    r"|hear) (?:that|you|it)|what|excuse me)"
    r"(?: please| again)?$"
)


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower()).replace("female", "f")


def clock(text: str, now: float) -> SkillResult | None:
    """The time or the date, from the machine's clock."""
    moment = datetime.fromtimestamp(now)
    if _TIME.search(text):
        return SkillResult("skill:time", f"It's {spoken_time(now, now)}.")
    if _DATE.search(text):
        return SkillResult("skill:date", f"Today is {moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')}.")
    return None


def speaking_rate(text: str, rate: float) -> SkillResult | None:
    """ "Slower" / "faster" / "normal speed": a new rate for the caller to apply."""
    if _NORMAL.search(text):
        return SkillResult("skill:rate", "Okay, back to my normal pace.", Action(rate=1.0))
    short = len(text.split()) <= 4
    for pattern, factor, word in ((_SLOWER, 1 / RATE_STEP, "slower"), (_FASTER, RATE_STEP, "faster")):
        if pattern.search(text) and (short or _ABOUT_SPEECH.search(text)):
            new = min(max(rate * factor, RATE_LIMITS[0]), RATE_LIMITS[1])
            if abs(new - rate) < 1e-6:
                return SkillResult("skill:rate", f"I can't speak any {word} than this.", Action(rate=new))
            return SkillResult("skill:rate", f"Okay, I'll speak {word}.", Action(rate=new))
    return None


def voice_change(text: str) -> SkillResult | None:
    """ "Use voice X": consented catalog voices only; anyone else's voice is refused with the reason."""
    match = _VOICE.search(text)
    if not match or not ("voice" in text or _IMITATE.search(text)):
        return None
    spoken = match["name"].strip()
    catalog = {_squash(v.id): v.id for v in all_voices()}
    voice_id = catalog.get(_squash(spoken), spoken)
    try:
        voice = find_voice(voice_id)
    except UnknownVoice as error:
        reason = re.sub(r"\s*\(see `[^`]*`\)", "", str(error)).replace("'", "")
        return SkillResult(
            "skill:voice_refused", f"I only speak in voices whose owners said yes. {reason.rstrip('.')}."
        )
    return SkillResult("skill:voice", f"Okay, I'll use the {voice.id} voice from now on.", Action(voice=voice))


def repeat(text: str, last_reply: str) -> SkillResult | None:
    """ "Repeat that": the previous reply again (the caller knows it is a repeat from the action)."""
    if not _REPEAT.search(text):
        return None
    if not last_reply:
        return SkillResult("skill:repeat", "I haven't said anything yet.")
    return SkillResult("skill:repeat", last_reply, Action(repeat=True))
