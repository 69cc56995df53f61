"""The voice catalog: every voice Sayso may speak in, with where it came from and its consent.

A voice is a record: id, display name, engine and parameters, provenance (whose voice, which
dataset, under which licence), consent (for a lent voice, the ledger entry that accepted it) and
status (active, revoked, expired, blocked). Presets ship here; lent voices live in the database
(domain ``voices``), changed only together with a ledger entry. Only ``active`` voices speak.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from sayso.errors import UnknownVoice, VoiceRevoked
from sayso.store.db import Database
from sayso.voices.ledger import now

STATUSES = ("active", "revoked", "expired", "blocked")
DEFAULT_VOICE = "joe"
"""The preset a conversation falls back to when its voice may no longer speak."""


@dataclass(frozen=True)
class Provenance:
    """Where a voice came from and on what terms."""

    source: str
    licence: str


@dataclass(frozen=True)
class Consent:
    """Who agreed to the voice's use, for what and until when; ``record`` is the ledger entry (lent voices)."""

    summary: str
    owner: str = ""
    scope: str = ""
    expires_at: str = ""
    record: int | None = None


@dataclass(frozen=True)
class Voice:
    """One voice in the catalog."""

    id: str
    name: str
    engine: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    provenance: Provenance = Provenance("", "")
    consent: Consent = Consent("")
    status: str = "active"
    reason: str = ""

    @property
    def lent(self) -> bool:
        """Whether a person lent this voice (rather than it shipping as a preset)."""
        return self.consent.record is not None


_ESPEAK = Provenance(
    source="eSpeak NG rule-based formant synthesis; no recording of any person",
    licence="GPL-3.0-or-later (espeak-ng)",
)
_NOT_A_PERSON = Consent("not applicable: the voice is not modelled on a person")

PRESETS: tuple[Voice, ...] = (
    Voice(
        id="joe",
        name="Piper en_US joe (medium), a natural US English male voice",
        engine="piper",
        provenance=Provenance(
            source="Piper voice en_US-joe-medium, trained on the NabuCasa voice-datasets recordings "
            "of a volunteer speaker, fine-tuned from the lessac voice (model card)",
            licence="CC0-1.0 (dataset, per the voice's model card)",
        ),
        consent=Consent("speaker recorded for and released in a public-domain TTS dataset"),
    ),
    Voice("espeak-us", "eSpeak NG US English, robotic male", "espeak", MappingProxyType({"voice": "en-us"}),
          _ESPEAK, _NOT_A_PERSON),
    Voice("espeak-uk", "eSpeak NG British English, robotic male", "espeak", MappingProxyType({"voice": "en-gb"}),
          _ESPEAK, _NOT_A_PERSON),
    Voice("espeak-us-f", "eSpeak NG US English, robotic female", "espeak",
          MappingProxyType({"voice": "en-us+f3"}), _ESPEAK, _NOT_A_PERSON),
)  # fmt: skip


def m001_voices(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE voices (id TEXT PRIMARY KEY, name TEXT NOT NULL, engine TEXT NOT NULL, "
        "params TEXT NOT NULL, source TEXT NOT NULL, owner TEXT NOT NULL, scope TEXT NOT NULL, "
        "expires_at TEXT NOT NULL, consent_record INTEGER NOT NULL, status TEXT NOT NULL, "
        "reason TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)"
    )


MIGRATIONS = (m001_voices,)


class VoiceStore:
    """Lent voices in the installation's database. Writes happen inside a caller's transaction,
    beside the ledger entry that justifies them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("voices", MIGRATIONS)

    def lent(self) -> list[Voice]:
        """Every lent voice, with its current status (expiry applied)."""
        return [_voice(row) for row in self.db.query("SELECT * FROM voices ORDER BY created_at")]

    def get(self, voice_id: str) -> Voice | None:
        """The lent voice ``voice_id`` as stored now, or None."""
        rows = self.db.query("SELECT * FROM voices WHERE id = ?", (voice_id,))
        return _voice(rows[0]) if rows else None

    def add_in(self, conn: sqlite3.Connection, voice: Voice) -> None:
        """Store a newly lent voice (inside the transaction that records its consent)."""
        c = voice.consent
        conn.execute(
            "INSERT INTO voices (id, name, engine, params, source, owner, scope, expires_at, consent_record, "
            "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (voice.id, voice.name, voice.engine, json.dumps(dict(voice.params)), voice.provenance.source,
             c.owner, c.scope, c.expires_at, c.record, voice.status, now()),
        )  # fmt: skip

    def set_status_in(self, conn: sqlite3.Connection, voice_id: str, status: str, reason: str) -> None:
        """Change a lent voice's status (inside the transaction that records why)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        conn.execute("UPDATE voices SET status = ?, reason = ? WHERE id = ?", (status, reason, voice_id))


def _voice(row: sqlite3.Row) -> Voice:
    status, reason = row["status"], row["reason"]
    if status == "active" and row["expires_at"] and row["expires_at"] <= now():
        status, reason = "expired", f"its consent ran until {row['expires_at']}"
    return Voice(
        id=row["id"],
        name=row["name"],
        engine=row["engine"],
        params=MappingProxyType(json.loads(row["params"])),
        provenance=Provenance(row["source"], "lent by its owner under the recorded consent"),
        consent=Consent(
            f"{row['owner']} agreed: {row['scope']}", row["owner"], row["scope"], row["expires_at"],
            row["consent_record"],
        ),
        status=status,
        reason=reason,
    )  # fmt: skip


def all_voices(store: VoiceStore | None = None) -> tuple[Voice, ...]:
    """Every voice in the catalog: the presets, then (given the store) the lent voices, any status."""
    return PRESETS + tuple(store.lent() if store else ())


def find_voice(voice_id: str, store: VoiceStore | None = None) -> Voice:
    """The active voice called ``voice_id``.

    UnknownVoice if there is none; VoiceRevoked, saying why, if it is revoked, expired or blocked.
    """
    for voice in all_voices(store):
        if voice.id == voice_id:
            check_active(voice)
            return voice
    names = ", ".join(v.id for v in all_voices(store))
    raise UnknownVoice(f"There is no voice called {voice_id!r}; the voices are: {names} (see `sayso voices`).")


def current(voice: Voice, store: VoiceStore | None) -> Voice:
    """``voice`` as it stands now (a lent voice is re-read from the store)."""
    if not voice.lent or store is None:
        return voice
    fresh = store.get(voice.id)
    return fresh if fresh is not None else replace(voice, status="revoked", reason="it was removed")


def check_active(voice: Voice) -> None:
    """VoiceRevoked, with the reason, unless ``voice`` is active."""
    if voice.status != "active":
        why = f" ({voice.reason})" if voice.reason else ""
        raise VoiceRevoked(
            f"The voice {voice.id!r} is {voice.status}{why} and cannot be used; pick another (see `sayso voices`).",
            voice.id,
        )
