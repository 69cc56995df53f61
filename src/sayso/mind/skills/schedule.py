"""Timers, alarms and reminders: kept in SQLite so they survive a restart, announced when due."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sayso.mind.skills import SkillResult
from sayso.mind.skills.when import PAST, clock_time, duration_seconds, spoken_duration, spoken_time
from sayso.mind.text import second_person
from sayso.store.db import Database

MAX_TIMER = 24 * 3600.0
MAX_AHEAD = 366 * 86400.0
LATE = 120.0  # an announcement this late (Sayso was not running) says when it was due


def m001_schedule(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE schedule (id INTEGER PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL, "
        "label TEXT NOT NULL DEFAULT '', fire_at REAL NOT NULL, created_at REAL NOT NULL, "
        "status TEXT NOT NULL DEFAULT 'pending')"
    )
    conn.execute("CREATE INDEX schedule_due ON schedule (status, fire_at)")


MIGRATIONS = (m001_schedule,)


@dataclass(frozen=True)
class Entry:
    """One pending timer, alarm or reminder."""

    id: int
    kind: str  # "timer", "alarm" or "reminder"
    label: str
    fire_at: float
    created_at: float


class Schedule:
    """The user's timers, alarms and reminders."""

    def __init__(self, db: Database, user: str) -> None:
        self.db, self.user = db, user
        db.migrate("schedule", MIGRATIONS)

    def add(self, kind: str, label: str, fire_at: float, now: float) -> Entry:
        """Store a new entry."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO schedule (user, kind, label, fire_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (self.user, kind, label, fire_at, now),
            )
        return Entry(int(cursor.lastrowid or 0), kind, label, fire_at, now)

    def pending(self, kind: str | None = None) -> list[Entry]:
        """Entries still to come, soonest first."""
        rows = self.db.query(
            "SELECT * FROM schedule WHERE user = ? AND status = 'pending' AND (? IS NULL OR kind = ?) ORDER BY fire_at",
            (self.user, kind, kind),
        )
        return [Entry(r["id"], r["kind"], r["label"], r["fire_at"], r["created_at"]) for r in rows]

    def cancel(self, entries: list[Entry]) -> None:
        """Cancel these entries (they will not be announced)."""
        with self.db.transaction() as conn:
            conn.executemany("UPDATE schedule SET status = 'cancelled' WHERE id = ?", [(e.id,) for e in entries])

    def due(self, now: float) -> list[str]:
        """What to say for every entry now due, each marked done so it is said once."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM schedule WHERE user = ? AND status = 'pending' AND fire_at <= ? ORDER BY fire_at",
                (self.user, now),
            ).fetchall()
            conn.executemany("UPDATE schedule SET status = 'done' WHERE id = ?", [(r["id"],) for r in rows])
        entries = [Entry(r["id"], r["kind"], r["label"], r["fire_at"], r["created_at"]) for r in rows]
        return [_announcement(e, now) for e in entries]


def _announcement(entry: Entry, now: float) -> str:
    if entry.kind == "timer":
        label = f"{entry.label} " if entry.label else ""
        text = f"Time's up! Your {label}timer for {spoken_duration(entry.fire_at - entry.created_at)} is done."
    elif entry.kind == "alarm":
        text = "This is your alarm." + (f" {entry.label}." if entry.label else "")
    else:
        text = f"Here's your reminder: {second_person(entry.label)}."
    if now - entry.fire_at > LATE:
        text += f" It was due at {spoken_time(entry.fire_at, entry.fire_at)}."
    return text


_TIMER = re.compile(r"\b(timers?|count ?down)\b")
_ALARM = re.compile(r"\b(alarms?|wake me( up)?)\b")
_REMIND = re.compile(r"\b(remind me|reminders?|don't let me forget|do not let me forget)\b")
_CANCEL = re.compile(
    r"\b(cancel|stop|delete|remove|clear|turn off|switch off|get rid of|never mind)\s+(?:the |my |all |all my |all the "
    r"|that |this |those |these )?(?:\w+ )?(timer|alarm|reminder|countdown)s?\b"
)
_QUERY = re.compile(r"\b(how (long|much time)|time left|what|which|list|any|do i have|are there|read)\b")
_RELATIVE = re.compile(r"\bin\s+(?:an?|half|\d+(?:\.\d+)?|a couple|a few)\b|\bfrom now\b|\blater\b")
_LABEL = re.compile(r"\b(?:for|called|named|labelled|labeled) (?:the |my )?(?P<label>[a-z][a-z ]{1,30})$")


class ScheduleSkill:
    """Understands timer, alarm and reminder requests."""

    def __init__(self, schedule: Schedule, clock: Callable[[], float]) -> None:
        self.schedule, self.clock = schedule, clock

    def __call__(self, text: str) -> SkillResult | None:
        kind = "timer" if _TIMER.search(text) else "alarm" if _ALARM.search(text) else None
        kind = kind or ("reminder" if _REMIND.search(text) else None)
        if kind is None:
            return None
        now = self.clock()
        if _CANCEL.search(text):
            return self._cancel(kind, text)
        if (found := duration_seconds(text)) is not None and found[0] <= 0:
            # "minus five minutes" would otherwise read as five: ask rather than guess
            what = "below zero" if found[0] < 0 else "of no time at all"
            return _ask(f"I can't set a {kind} for a time {what}. How long from now should it be?")
        if kind == "timer":
            return self._timer(text, now)
        if kind == "alarm":
            return self._alarm(text, now)
        return self._reminder(text, now)

    def _timer(self, text: str, now: float) -> SkillResult:
        found = duration_seconds(text)
        if found is None:
            return self._listing("timer", now) if _QUERY.search(text) else _ask("For how long should the timer run?")
        seconds, span = found
        if seconds > MAX_TIMER:
            return _too_far("Timers can run for up to a day; for anything longer, ask me for a reminder instead.")
        label_match = _LABEL.search(text[span[1] :])
        label = label_match["label"].strip() if label_match and not duration_seconds(label_match["label"]) else ""
        self.schedule.add("timer", label, now + seconds, now)
        return SkillResult("skill:timer", f"Okay, a timer for {spoken_duration(seconds)}, starting now.")

    def _alarm(self, text: str, now: float) -> SkillResult:
        if PAST.search(text):
            return _past()
        found = duration_seconds(text)
        at = now + found[0] if found and _RELATIVE.search(text) else None
        if at is None:
            when = clock_time(text, now)
            if when is None:
                return (
                    self._listing("alarm", now) if _QUERY.search(text) else _ask("What time should the alarm go off?")
                )
            at = when.at
        if at - now > MAX_AHEAD:
            return _too_far("I can only set alarms up to a year ahead.")
        self.schedule.add("alarm", "", at, now)
        return SkillResult("skill:alarm", f"Alarm set for {spoken_time(at, now)}.")

    def _reminder(self, text: str, now: float) -> SkillResult:
        if PAST.search(text):
            return _past()
        at, span = self._moment(text, now)
        task = _task(text, span)
        if at is None:
            if _QUERY.search(text) and not task:
                return self._listing("reminder", now)
            return _ask("When should I remind you? For example, say: remind me to call Sam at 5 pm.")
        if at - now > MAX_AHEAD:
            return _too_far("That's further ahead than I can keep track of: reminders go up to a year ahead.")
        if not task:
            return _ask("What should I remind you about?")
        self.schedule.add("reminder", task, at, now)
        return SkillResult(
            "skill:reminder", f"Okay, I'll remind you to {second_person(task)} at {spoken_time(at, now)}."
        )

    def _moment(self, text: str, now: float) -> tuple[float | None, tuple[int, int]]:
        found = duration_seconds(text)
        if found and _RELATIVE.search(text):
            start, end = found[1]
            start -= 3 if text[:start].endswith("in ") else 0
            end += len(" from now") if text[end:].startswith(" from now") else 0
            return now + found[0], (start, end)
        when = clock_time(text, now)
        return (when.at, when.span) if when else (None, (0, 0))

    def _cancel(self, kind: str, text: str) -> SkillResult:
        entries = self.schedule.pending(kind)
        if not entries:
            return SkillResult(f"skill:{kind}", f"You don't have any {kind}s set.")
        chosen = entries if re.search(r"\ball\b|\bevery\b", text) else entries[:1]
        self.schedule.cancel(chosen)
        what = f"all {len(chosen)} {kind}s" if len(chosen) > 1 else f"the {kind}"
        return SkillResult(f"skill:{kind}", f"Okay, I've cancelled {what}.")

    def _listing(self, kind: str, now: float) -> SkillResult:
        entries = self.schedule.pending(kind)
        if not entries:
            return SkillResult(f"skill:{kind}", f"You don't have any {kind}s set.")
        parts = []
        for entry in entries[:5]:
            if kind == "timer":
                parts.append(f"{spoken_duration(entry.fire_at - now)} left")
            else:
                parts.append(
                    (f"{second_person(entry.label)} " if entry.label else "") + f"at {spoken_time(entry.fire_at, now)}"
                )
        count = f"{len(entries)} {kind}{'s' if len(entries) > 1 else ''}"
        return SkillResult(f"skill:{kind}", f"You have {count}: " + "; ".join(parts) + ".")


def _task(text: str, span: tuple[int, int]) -> str:
    """What to be reminded of: the words after "to"/"that"/"about", without the time words."""
    rest = (text[: span[0]] + " " + text[span[1] :]) if span != (0, 0) else text
    match = re.search(r"\b(?:remind me|reminder|forget)\b\s*(?:(?:to|that|about|of)\s+)?(?P<task>.*)$", rest)
    task = match["task"] if match else ""
    task = re.sub(r"\b(tomorrow|today|tonight|please|in the (morning|evening|afternoon))\b", " ", task)
    task = re.sub(r"^\s*(?:to|that|about|of)\s+", "", " ".join(task.split()))
    return task.strip()


def _ask(text: str) -> SkillResult:
    return SkillResult("skill:ask", text)


def _past() -> SkillResult:
    return SkillResult(
        "skill:past", "That time has already passed, so I can't remind you then. Give me a time still to come."
    )


def _too_far(text: str) -> SkillResult:
    return SkillResult("skill:too_far", text)
