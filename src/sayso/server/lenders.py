"""Which server user started each consent session and lent each voice (domain ``server``).

The consent statement names the person (``Consent.owner``, what they read aloud); a server user
is a token's user id, which is not a name anyone says. This table ties the two together, so a
lending or revocation session is finished only by the user who started it, and a voice lent
through the API belongs to the user who lent it (see ``Workspace.voices``).
"""

from __future__ import annotations

import sqlite3

from sayso.errors import TooFast, UnknownSession
from sayso.store.db import Database
from sayso.voices.consent import SESSION_MINUTES

MAX_SESSIONS = 5
"""Consent sessions (lending or revocation) one user may start within ``SESSION_MINUTES``."""

DOMAIN = "server"


def m001_lenders(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE server_sessions (id TEXT PRIMARY KEY, purpose TEXT NOT NULL, user TEXT NOT NULL, "
        "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    conn.execute("CREATE TABLE server_lenders (voice_id TEXT PRIMARY KEY, user TEXT NOT NULL)")


MIGRATIONS = (m001_lenders,)


class Lenders:
    """Session starters and voice lenders, by server user."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate(DOMAIN, MIGRATIONS)

    def started(self, session_id: str, purpose: str, user: str) -> None:
        """Record that ``user`` started consent session ``session_id`` (``lend`` or ``revoke``)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO server_sessions (id, purpose, user) VALUES (?, ?, ?)", (session_id, purpose, user)
            )

    def check_quota(self, user: str) -> None:
        """TooFast if ``user`` started ``MAX_SESSIONS`` consent sessions in the last ``SESSION_MINUTES``."""
        recent = self.db.query(
            "SELECT COUNT(*) AS n FROM server_sessions WHERE user = ? AND created_at > datetime('now', ?)",
            (user, f"-{SESSION_MINUTES} minutes"),
        )[0]["n"]
        if recent >= MAX_SESSIONS:
            raise TooFast(
                f"You started {recent} consent sessions in the last {SESSION_MINUTES} minutes; "
                "finish one, or try again later."
            )

    def check_session(self, session_id: str, purpose: str, user: str) -> None:
        """UnknownSession unless ``user`` started the ``purpose`` session ``session_id``.

        Another user's session gets the same answer as none at all: its existence is not revealed.
        """
        rows = self.db.query(
            "SELECT 1 FROM server_sessions WHERE id = ? AND purpose = ? AND user = ?", (session_id, purpose, user)
        )
        if not rows:
            start = "POST /api/voices/lend" if purpose == "lend" else "POST /api/voices/{id}/revoke"
            raise UnknownSession(f"There is no {purpose} session {session_id!r} of yours; start one with {start}.")

    def lent(self, voice_id: str, user: str) -> None:
        """Record that ``user`` lent ``voice_id``."""
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO server_lenders (voice_id, user) VALUES (?, ?)", (voice_id, user))

    def all(self) -> dict[str, str]:
        """Every voice lent through the server, with its lender."""
        return {row["voice_id"]: row["user"] for row in self.db.query("SELECT voice_id, user FROM server_lenders")}
