"""Tampering with an installation by someone who can write its data folder (not its trust folder).

Each ``Attack`` changes a prepared installation the way an intruder could; ``outcome`` reopens
it as Sayso would and says whether the tampering was caught (``sayso ledger verify``, or the
voice refusing to speak). The tests (test_tampering.py) and bench/tamper.py run the same list.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sayso.config import default_trust_dir
from sayso.errors import LedgerTampered, VoiceRevoked
from sayso.voices.catalog import Consent, Provenance, Voice
from sayso.voices.keys import KEY_FILE, load_or_create_key
from sayso.voices.ledger import GENESIS, _head_message, canonical, entry_hash, verify_export
from sayso.voices.speaker import VoiceServices

ANNA, BEN = "anna-1a2b", "ben-3c4d"


def prepare(home: Path) -> VoiceServices:
    """An installation with two lent voices (Anna's revoked by an admin, Ben's expired), a blocked
    preset and a few utterance records; a copy of its database is kept as ``backup.db``."""
    services = VoiceServices(home)
    _lend(services, ANNA, "")
    for n in range(3):
        services.ledger.append("utterance", {"utterance_id": f"u{n}", "voice_id": ANNA, "audio_sha256": f"{n:064x}"})
    with sqlite3.connect(home.parent / "backup.db") as backup:  # a consistent copy, as a backup tool makes
        services.db._conn.backup(backup)
    head = services.db.query("SELECT seq, hash, signature FROM ledger_head")[0]
    (home.parent / "old-head.json").write_text(json.dumps(dict(head)))
    _lend(services, BEN, "2020-01-01")
    services.consents.revoke_as_admin(ANNA, "asked to")
    services.consents.block("espeak-uk", "sounds like a protected person")
    return services


def _lend(services: VoiceServices, voice_id: str, until: str) -> None:
    with services.ledger.transaction() as conn:
        entry = services.ledger.append_in(conn, "lend", {"voice_id": voice_id, "accepted": True, "until": until})
        expires = f"{until}T00:00:00.000+00:00" if until else ""
        services.store.add_in(conn, Voice(voice_id, voice_id, "fake", {}, Provenance("recordings", "lent"),
                                          Consent("agreed", voice_id, "replies", expires, entry.seq)))  # fmt: skip


def _sql(home: Path, *statements: str) -> None:
    conn = sqlite3.connect(home / "sayso.db")
    conn.executescript(";\n".join(statements) + ";")
    conn.commit()
    conn.close()


def _no_triggers(home: Path, *statements: str) -> None:
    _sql(home, "DROP TRIGGER ledger_entries_no_update", "DROP TRIGGER ledger_entries_no_delete", *statements)


def _rewrite(home: Path, key: Ed25519PrivateKey, change: Callable[[list[dict]], list[dict]]) -> None:
    """Rebuild the whole chain after ``change`` and sign it all (entries and head) with ``key``."""
    conn = sqlite3.connect(home / "sayso.db")
    conn.row_factory = sqlite3.Row
    rows = [
        dict(r) | {"body": json.loads(r["body"])} for r in conn.execute("SELECT * FROM ledger_entries ORDER BY seq")
    ]
    conn.executescript("DROP TRIGGER ledger_entries_no_update; DROP TRIGGER ledger_entries_no_delete; "
                       "DELETE FROM ledger_entries; DELETE FROM ledger_head;")  # fmt: skip
    prev = GENESIS
    for seq, row in enumerate(change(rows), start=1):
        digest = entry_hash(seq, row["at"], row["kind"], row["body"], prev)
        conn.execute("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (seq, row["at"], row["kind"], canonical(row["body"]).decode(), prev, digest,
                      key.sign(bytes.fromhex(digest)).hex()))  # fmt: skip
        prev = digest
        conn.execute("INSERT OR REPLACE INTO ledger_head VALUES (1, ?, ?, ?)",
                     (seq, digest, key.sign(_head_message(seq, digest)).hex()))  # fmt: skip
    conn.commit()
    conn.close()


def _stolen_key(home: Path) -> Ed25519PrivateKey:
    """The installation key itself: the worst case, an intruder who also read the trust folder once."""
    return load_or_create_key(default_trust_dir(home))


def _unrevoked(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not (r["kind"] == "revoke" and r["body"]["voice_id"] == ANNA)]


def _own_key_planted(home: Path) -> None:
    key = Ed25519PrivateKey.generate()
    _rewrite(home, key, _unrevoked)
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    (home / KEY_FILE).write_bytes(pem)  # where an older Sayso kept its key


def _restore_old_head(home: Path) -> None:
    head = json.loads((home.parent / "old-head.json").read_text())  # the head row as it was, saved then
    _no_triggers(home, f"DELETE FROM ledger_entries WHERE seq > {head['seq']}",
                 f"UPDATE ledger_head SET seq = {head['seq']}, hash = '{head['hash']}', "
                 f"signature = '{head['signature']}'")  # fmt: skip


def _rehash_revocation(home: Path) -> None:
    """Un-accept the revocation and give the entry the hash its new content has (its signature stays)."""
    conn = sqlite3.connect(home / "sayso.db")
    seq, at, body, prev = conn.execute(
        "SELECT seq, at, body, prev FROM ledger_entries WHERE kind = 'revoke'"
    ).fetchone()
    conn.close()
    edited = json.loads(body) | {"accepted": False}
    digest = entry_hash(seq, at, "revoke", edited, prev)
    _no_triggers(home, f"UPDATE ledger_entries SET body = '{canonical(edited).decode()}', hash = '{digest}' "
                       f"WHERE seq = {seq}")  # fmt: skip


def _restore_backup(home: Path) -> None:
    for extra in ("sayso.db-wal", "sayso.db-shm"):
        (home / extra).unlink(missing_ok=True)
    shutil.copy(home.parent / "backup.db", home / "sayso.db")


def _edit_export(home: Path) -> None:
    data = VoiceServices(home).ledger.export()
    data["entries"] = [e for e in data["entries"] if e["kind"] != "revoke"]
    (home.parent / "edited-export.json").write_text(json.dumps(data))


@dataclass(frozen=True)
class Attack:
    """One tampering; ``in_issue`` marks the six that passed `sayso ledger verify` before (issue 14)."""

    name: str
    run: Callable[[Path], None]
    in_issue: bool = False


ATTACKS: tuple[Attack, ...] = (
    Attack("drop the triggers, delete every entry and the head",
           lambda h: _no_triggers(h, "DELETE FROM ledger_entries", "DELETE FROM ledger_head"), True),
    Attack("delete sayso.db", lambda h: (h / "sayso.db").unlink(), True),
    Attack("rewrite an entry (un-revoke), re-sign the chain with the installation key",
           lambda h: _rewrite(h, _stolen_key(h), lambda rows: [
               r | {"body": r["body"] | {"accepted": False}} if r["kind"] == "revoke" else r for r in rows]), True),
    Attack("delete an entry (the revocation), re-sign the chain with the installation key",
           lambda h: _rewrite(h, _stolen_key(h), _unrevoked), True),
    Attack("delete the newest entries and restore an older head row", _restore_old_head, True),
    Attack("UPDATE voices SET status='active' on a revoked voice",
           lambda h: _sql(h, f"UPDATE voices SET status = 'active', reason = '' WHERE id = '{ANNA}'"), True),
    Attack("edit an entry's body (triggers dropped)",
           lambda h: _no_triggers(h, "UPDATE ledger_entries SET body = replace(body, 'asked to', 'x') "
                                     "WHERE kind = 'revoke'")),
    Attack("edit an entry and recompute its hash", _rehash_revocation),
    Attack("delete an entry in the middle", lambda h: _no_triggers(h, "DELETE FROM ledger_entries WHERE seq = 3")),
    Attack("swap two entries", lambda h: _no_triggers(
        h, "UPDATE ledger_entries SET seq = -1 WHERE seq = 2", "UPDATE ledger_entries SET seq = 2 WHERE seq = 3",
        "UPDATE ledger_entries SET seq = 3 WHERE seq = -1")),
    Attack("delete the newest entry", lambda h: _no_triggers(h, "DELETE FROM ledger_entries WHERE seq = "
                                                             "(SELECT MAX(seq) FROM ledger_entries)")),
    Attack("edit the head row's count", lambda h: _sql(h, "UPDATE ledger_head SET seq = seq - 1")),
    Attack("re-sign everything with a key of one's own, planted in the data folder", _own_key_planted),
    Attack("drop the triggers only", lambda h: _no_triggers(h)),
    Attack("unblock a blocked preset (delete its status row)", lambda h: _sql(h, "DELETE FROM preset_status")),
    Attack("insert a lent voice with no consent on the ledger", lambda h: _sql(
        h, "INSERT INTO voices (id, name, engine, params, source, owner, scope, expires_at, consent_record, status, "
           "created_at) VALUES ('eve-0000', 'Eve', 'fake', '{}', 'x', 'Eve', 'x', '', 1, 'active', '2026')")),
    Attack("extend an expired voice's consent in its table",
           lambda h: _sql(h, f"UPDATE voices SET expires_at = '' WHERE id = '{BEN}'")),
    Attack("restore an older copy of sayso.db", _restore_backup),
    Attack("edit a ledger export (drop the revocation)", _edit_export),
)  # fmt: skip


def outcome(home: Path, attack: Attack) -> tuple[bool, str]:
    """Whether ``attack`` on the prepared ``home`` is caught, and the sentence that caught it."""
    if attack.run is _edit_export:
        data = json.loads((home.parent / "edited-export.json").read_text())
        try:
            verify_export(data, VoiceServices(home).ledger.public_key)
        except LedgerTampered as error:
            return True, str(error)
        return False, "the edited export verifies"
    services = VoiceServices(home)
    refused = _refused_voice(services)
    try:
        services.verify()
    except LedgerTampered as error:
        return True, str(error)
    return (True, refused) if refused else (False, "`sayso ledger verify` passes and every voice speaks as stored")


def _refused_voice(services: VoiceServices) -> str:
    """Why a voice its table calls active may not speak (the ledger says otherwise); empty if none."""
    for voice in (services.store.get(ANNA), services.store.get(BEN), services.store.get("eve-0000")):
        if voice is not None and voice.status == "active":
            try:
                services.check_consent(voice)
            except VoiceRevoked as error:
                return str(error)
    return ""
