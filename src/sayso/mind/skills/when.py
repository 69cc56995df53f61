"""When things happen: durations ("in 20 minutes") and clock times ("at 7:30 am tomorrow") in spoken text.

Works on ``sayso.mind.text.normal`` output, so number words are already digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_UNIT_SECONDS = {
    "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
    "week": 604800, "month": 2_629_800, "year": 31_557_600, "decade": 315_576_000,
}  # fmt: skip
_UNIT = r"(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|decades?)"
_AMOUNT = r"(?P<amount>\d+(?:\.\d+)?|an?|half an?|a couple of|a few)"
# "minus 5 minutes", "-5 minutes": a sign only when it stands apart ("2-3 minutes" is a range, not -3)
_SIGN = r"(?P<sign>\b(?:minus|negative)\s+|(?<![\w-])-\s*)?"
DURATION = re.compile(rf"{_SIGN}\b{_AMOUNT}[\s-]*{_UNIT}\b(?P<half>\s+and a half)?")
_HALF_HOUR = re.compile(r"\bhalf an? hour\b")
CLOCK = re.compile(
    r"\b(?:at|for|by|until|till)\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2})|\s(?P<spoken_min>[0-5]\d)(?=\s*(?:am|pm)))?"
    r"\s*(?P<half>am|pm|o'?clock|in the morning|in the afternoon|in the evening|at night|tonight)?\b"
)
_NAMED = {"noon": 12, "midday": 12, "midnight": 0}
PAST = re.compile(r"\b(yesterday|ago|last (night|week|month|year)|earlier today|in the past)\b")


@dataclass(frozen=True)
class When:
    """A moment found in text, with the span of text it came from (to strip it from a task)."""

    at: float  # unix time
    span: tuple[int, int]


def duration_seconds(text: str) -> tuple[float, tuple[int, int]] | None:
    """The total of every duration in ``text`` ("1 hour and 30 minutes" -> 5400) and its span.

    A duration said with a sign counts below zero ("minus 5 minutes" -> -300): callers ask again
    rather than quietly dropping the sign."""
    total, start, end = 0.0, None, None
    for match in DURATION.finditer(text):
        amount = match["amount"]
        number = {"a": 1.0, "an": 1.0, "half a": 0.5, "half an": 0.5, "a couple of": 2.0, "a few": 3.0}.get(amount)
        value = number if number is not None else float(amount)
        unit = _UNIT_SECONDS[match["unit"].rstrip("s")]
        total += (-1 if match["sign"] else 1) * (value + (0.5 if match["half"] else 0.0)) * unit
        start = match.start() if start is None else start
        end = match.end()
    if (half := _HALF_HOUR.search(text)) and start is None:
        return 1800.0, half.span()
    if start is None or end is None:
        return None
    return total, (start, end)


def clock_time(text: str, now: float) -> When | None:
    """The next moment matching a spoken clock time in ``text`` (with "tomorrow", "tonight" and the like)."""
    base = datetime.fromtimestamp(now)
    tomorrow = re.search(r"\btomorrow\b", text) is not None
    hour, minute, half, span = _clock_parts(text)
    if hour is None:
        if not tomorrow:
            return None
        hour, minute, half = (9, 0, "")  # "tomorrow" alone: the morning
    if hour > 23 or minute > 59:
        return None
    if half in ("pm", "in the afternoon", "in the evening", "at night", "tonight") and hour < 12:
        hour += 12
    elif half in ("am", "in the morning") and hour == 12:
        hour = 0
    moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if tomorrow:
        moment = moment + timedelta(days=1)
    elif moment.timestamp() <= now and not half and hour < 12 and (moment + timedelta(hours=12)).timestamp() > now:
        moment += timedelta(hours=12)  # "at 7" said at 3 pm means 7 pm
    elif moment.timestamp() <= now:
        moment += timedelta(days=1)  # a time already gone today means the next one
    return When(moment.timestamp(), span or _span_of(text, "tomorrow"))


def _clock_parts(text: str) -> tuple[int | None, int, str, tuple[int, int] | None]:
    for name, hour in _NAMED.items():
        if found := re.search(rf"\b(?:at |by )?{name}\b", text):
            return hour, 0, "", found.span()
    match = CLOCK.search(text)
    if not match:
        return None, 0, "", None
    minute = int(match["minute"] or match["spoken_min"] or 0)
    return int(match["hour"]), minute, match["half"] or "", match.span()


def _span_of(text: str, word: str) -> tuple[int, int]:
    found = re.search(rf"\b{word}\b", text)
    return found.span() if found else (len(text), len(text))


def spoken_time(at: float, now: float) -> str:
    """A moment as said aloud relative to now ("7:30 am", "7:30 am tomorrow", "9 am on Monday 4 May")."""
    moment, today = datetime.fromtimestamp(at), datetime.fromtimestamp(now)
    clock = moment.strftime("%I:%M %p").lstrip("0").replace(":00", "").lower()
    days = (moment.date() - today.date()).days
    if days == 0:
        return clock
    if days == 1:
        return f"{clock} tomorrow"
    return f"{clock} on {moment.strftime('%A')} {moment.day} {moment.strftime('%B')}" + (
        f" {moment.year}" if moment.year != today.year else ""
    )


def spoken_duration(seconds: float) -> str:
    """A duration as said aloud ("1 hour and 30 minutes")."""
    seconds = round(seconds)
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    if not parts:
        return "no time at all"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
