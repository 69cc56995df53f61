"""Companion safeguards over time: the AI disclosure, break reminders, and counters for reporting.

The disclosure is spoken at the start of every conversation and again whenever ``disclosure_hours``
(at most 3) have passed in a continuing one; a silence of ``NEW_CONVERSATION`` starts a new
conversation. The counters hold event names and daily counts only, never what was said.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from sayso.store.db import Database

NEW_CONVERSATION = 30 * 60.0
MAX_DISCLOSURE_HOURS = 3.0
EVENTS = (
    "disclosure",
    "human_question",
    "human_claim_blocked",
    "crisis_referral",
    "identify_refused",
    "minor_mode_on",
    "minor_content_blocked",
    "break_reminder",
    "voice_refused",
)


def m001_safeguard_events(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE safeguard_events (day TEXT NOT NULL, event TEXT NOT NULL, count INTEGER NOT NULL, "
        "PRIMARY KEY (day, event))"
    )


MIGRATIONS = (m001_safeguard_events,)


class SafeguardLog:
    """Daily counts of safeguard events (no content, no user), for `sayso safeguards report`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("safeguards", MIGRATIONS)

    def count(self, event: str, now: float) -> None:
        """Add one ``event`` to the count of the (UTC) day of ``now``."""
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO safeguard_events (day, event, count) VALUES (?, ?, 1) "
                "ON CONFLICT(day, event) DO UPDATE SET count = count + 1",
                (day, event),
            )

    def totals(self, since_day: str = "") -> dict[str, int]:
        """Event -> count over every day from ``since_day`` (YYYY-MM-DD; empty: all days)."""
        rows = self.db.query(
            "SELECT event, SUM(count) AS n FROM safeguard_events WHERE day >= ? GROUP BY event", (since_day,)
        )
        return {r["event"]: int(r["n"]) for r in rows}

    def by_day(self) -> list[tuple[str, str, int]]:
        """(day, event, count) rows, oldest day first."""
        rows = self.db.query("SELECT day, event, count FROM safeguard_events ORDER BY day, event")
        return [(r["day"], r["event"], int(r["count"])) for r in rows]


@dataclass
class Session:
    """When this conversation started, when the AI disclosure and the last break reminder were given."""

    disclosure_seconds: float
    break_seconds: float
    started: float | None = None
    last_turn: float | None = None
    disclosed_at: float | None = None
    break_at: float | None = None

    def begin_turn(self, now: float) -> tuple[bool, bool]:
        """(disclose now?, remind to take a break now?) for a turn at ``now``."""
        if self.last_turn is None or now - self.last_turn >= NEW_CONVERSATION:
            self.started, self.disclosed_at, self.break_at = now, None, None
        self.last_turn = now
        disclose = self.disclosed_at is None or now - self.disclosed_at >= self.disclosure_seconds
        if disclose:
            self.disclosed_at = now
        since = self.break_at if self.break_at is not None else self.started
        rest = self.break_seconds > 0 and since is not None and now - since >= self.break_seconds
        if rest:
            self.break_at = now
        return disclose, rest
