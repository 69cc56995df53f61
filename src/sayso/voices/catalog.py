"""The voice catalog: every voice Sayso may speak in, with where it came from and its consent.

A voice is a record: id, display name, engine and parameters, provenance (whose voice, which
dataset, under which licence), consent (for a lent voice, the ledger entry that accepted it) and
status (active, revoked, expired, blocked). Presets ship here; lent voices live in the database
(domain ``voices``), changed only together with a ledger entry. Only ``active`` voices speak.

A lent voice keeps its reference voiceprint (the speaker embedding of the recordings it was lent
with) beside it: the likeness guard checks each of its utterances against it, so a cloning backend
drifting into someone else is caught. Revocation erases it with the same transaction. A preset
blocked by the likeness guard (someone who asked not to be imitated sounds like it) is stored
too, so the block outlives the process; a conversation then falls back to ``fallback_voice``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from sayso.errors import UnknownVoice, VoiceRevoked
from sayso.store.db import Database
from sayso.voices.ledger import now

STATUSES = ("active", "revoked", "expired", "blocked")
DEFAULT_VOICE = "joe"
"""The preset a conversation falls back to when its voice may no longer speak."""
SYNTHETIC_FALLBACK = "espeak-us"
"""The fallback when the default voice is blocked: eSpeak's formant synthesis imitates no one."""


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
    voiceprint: np.ndarray | None = field(default=None, compare=False, repr=False)
    """A lent voice's reference speaker embedding (unit vector), while its consent stands."""

    @property
    def lent(self) -> bool:
        """Whether a person lent this voice (rather than it shipping as a preset)."""
        return self.consent.record is not None

    @property
    def imitates_no_one(self) -> bool:
        """Whether the voice is modelled on no person (rule-based synthesis), so it cannot sound like one."""
        return self.consent == _NOT_A_PERSON


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


def m002_voiceprints(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE voices ADD COLUMN voiceprint BLOB")


def m003_preset_status(conn: sqlite3.Connection) -> None:
    # Presets live in code; only a change of their status (a block) is stored.
    conn.execute(
        "CREATE TABLE preset_status (id TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT NOT NULL, "
        "changed_at TEXT NOT NULL)"
    )


MIGRATIONS = (m001_voices, m002_voiceprints, m003_preset_status)


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

    def presets(self) -> tuple[Voice, ...]:
        """The presets, each with its stored status (a preset the likeness guard blocked stays blocked)."""
        stored = {row["id"]: row for row in self.db.query("SELECT id, status, reason FROM preset_status")}
        return tuple(
            replace(v, status=stored[v.id]["status"], reason=stored[v.id]["reason"]) if v.id in stored else v
            for v in PRESETS
        )

    def add_in(self, conn: sqlite3.Connection, voice: Voice) -> None:
        """Store a newly lent voice (inside the transaction that records its consent)."""
        c = voice.consent
        voiceprint = None if voice.voiceprint is None else np.asarray(voice.voiceprint, np.float32).tobytes()
        conn.execute(
            "INSERT INTO voices (id, name, engine, params, source, owner, scope, expires_at, consent_record, "
            "status, created_at, voiceprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (voice.id, voice.name, voice.engine, json.dumps(dict(voice.params)), voice.provenance.source,
             c.owner, c.scope, c.expires_at, c.record, voice.status, now(), voiceprint),
        )  # fmt: skip

    def set_voiceprint_in(self, conn: sqlite3.Connection, voice_id: str, voiceprint: np.ndarray) -> None:
        """Replace a lent voice's reference voiceprint (re-embedded from its kept reference recording)."""
        conn.execute(
            "UPDATE voices SET voiceprint = ? WHERE id = ? AND voiceprint IS NOT NULL",
            (np.asarray(voiceprint, np.float32).tobytes(), voice_id),
        )

    def set_status_in(self, conn: sqlite3.Connection, voice_id: str, status: str, reason: str) -> None:
        """Change a voice's status, lent or preset (inside the transaction that records why).

        A revoked voice's reference voiceprint is erased with it: consent to keep it is gone.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if voice_id in {v.id for v in PRESETS}:
            conn.execute(
                "INSERT INTO preset_status (id, status, reason, changed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, reason = excluded.reason, "
                "changed_at = excluded.changed_at",
                (voice_id, status, reason, now()),
            )
            return
        conn.execute("UPDATE voices SET status = ?, reason = ? WHERE id = ?", (status, reason, voice_id))
        if status == "revoked":
            conn.execute("UPDATE voices SET voiceprint = NULL WHERE id = ?", (voice_id,))


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
        voiceprint=np.frombuffer(row["voiceprint"], dtype=np.float32) if row["voiceprint"] else None,
    )  # fmt: skip


def all_voices(store: VoiceStore | None = None) -> tuple[Voice, ...]:
    """Every voice in the catalog: the presets, then (given the store) the lent voices, any status."""
    return store.presets() + tuple(store.lent()) if store else PRESETS


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
    """``voice`` as it stands now (re-read from the store: a lent voice's consent, a preset's block)."""
    if store is None:
        return voice
    if not voice.lent:
        return next((v for v in store.presets() if v.id == voice.id), voice)
    fresh = store.get(voice.id)
    return fresh if fresh is not None else replace(voice, status="revoked", reason="it was removed")


def fallback_voice(store: VoiceStore | None) -> Voice:
    """The voice a conversation carries on in when its own may no longer speak.

    The default voice, unless it is blocked (it is a real person's voice, so someone may sound
    like it); then a synthetic preset, which imitates no one.
    """
    presets = {v.id: v for v in (store.presets() if store else PRESETS)}
    default = presets[DEFAULT_VOICE]
    return default if default.status == "active" else presets[SYNTHETIC_FALLBACK]


def check_active(voice: Voice) -> None:
    """VoiceRevoked, with the reason, unless ``voice`` is active."""
    if voice.status != "active":
        why = f" ({voice.reason})" if voice.reason else ""
        raise VoiceRevoked(
            f"The voice {voice.id!r} is {voice.status}{why} and cannot be used; pick another (see `sayso voices`).",
            voice.id,
        )
