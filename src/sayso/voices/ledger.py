"""The consent ledger: append-only, hash-chained, each entry signed with the installation key.

Entry ``n`` holds ``prev`` (entry ``n-1``'s hash) and ``hash`` = sha256 of its canonical JSON
(seq, time, kind, body, prev); ``signature`` is the Ed25519 signature of that hash. A signed
head (last seq and hash), written in the same transaction as each entry, catches a deleted tail,
which the chain alone cannot. SQLite triggers refuse UPDATE and DELETE on the entries, so only a
deliberate edit of the file can change one, and ``verify`` finds it: an edited entry breaks its
hash, a reordered or deleted one breaks the chain or the numbering, a re-hashed one breaks the
signature. ``export`` writes the same checks' input as JSON; ``verify_export`` needs only that
JSON and the public key.

The key and a checkpoint of the head (``sayso.voices.checkpoint``) live in the trust folder,
apart from the database: whoever can write the data folder can neither re-sign the chain nor
roll it back, truncate it or delete it unnoticed, since ``verify`` holds the ledger to the last
checkpoint (and to any older checkpoint or export it is given).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sayso.errors import LedgerTampered
from sayso.store.db import Database
from sayso.voices import checkpoint as checkpoints
from sayso.voices.keys import public_key_hex, verify_signature

FORMAT = "sayso-ledger/1"
GENESIS = "0" * 64


def m001_ledger(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE ledger_entries (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, "
        "body TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX ledger_entries_kind ON ledger_entries (kind)")
    for action in ("UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TRIGGER ledger_entries_no_{action.lower()} BEFORE {action} ON ledger_entries "
            "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
        )
    conn.execute(
        "CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, "
        "hash TEXT NOT NULL, signature TEXT NOT NULL)"
    )


def m002_audio_index(conn: sqlite3.Connection) -> None:
    # Finds the records of audio by its sample hash without reading every entry. Only an index:
    # what it points at is checked against the signed entry itself.
    conn.execute("CREATE TABLE provenance_audio (audio_sha256 TEXT NOT NULL, seq INTEGER NOT NULL)")
    conn.execute("CREATE INDEX provenance_audio_hash ON provenance_audio (audio_sha256)")
    for row in conn.execute("SELECT seq, body FROM ledger_entries WHERE kind = 'utterance'").fetchall():
        conn.execute(
            "INSERT INTO provenance_audio (audio_sha256, seq) VALUES (?, ?)",
            (json.loads(row["body"]).get("audio_sha256", ""), row["seq"]),
        )


MIGRATIONS = (m001_ledger, m002_audio_index)


@dataclass(frozen=True)
class Entry:
    """One ledger entry; ``body`` is plain JSON data."""

    seq: int
    at: str
    kind: str
    body: Mapping[str, Any]
    prev: str
    hash: str
    signature: str


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        row["seq"], row["at"], row["kind"], json.loads(row["body"]), row["prev"], row["hash"], row["signature"]
    )


def canonical(data: Any) -> bytes:
    """The one byte form that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: str, kind: str, body: Mapping[str, Any], prev: str) -> str:
    """The hash an entry with these fields must carry."""
    return hashlib.sha256(canonical({"seq": seq, "at": at, "kind": kind, "body": body, "prev": prev})).hexdigest()


def _head_message(seq: int, digest: str) -> bytes:
    return f"{FORMAT}:head:{seq}:{digest}".encode()


def now() -> str:
    """The current UTC time as ISO 8601 (what the ledger records)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """The installation's ledger in its database (domain ``ledger``)."""

    def __init__(self, db: Database, key: Ed25519PrivateKey, trust_dir: Path | None = None) -> None:
        self.db = db
        self._key = key
        self.public_key = public_key_hex(key)
        db.migrate("ledger", MIGRATIONS)
        self.checkpoint_path = trust_dir / checkpoints.FILE if trust_dir else None
        if self.checkpoint_path and not self.checkpoint_path.exists():  # first use: trust the ledger as found
            head = db.query("SELECT seq, hash FROM ledger_head WHERE id = 1")
            seq, digest = (head[0]["seq"], head[0]["hash"]) if head else (0, GENESIS)
            checkpoints.write(self.checkpoint_path, checkpoints.make(key, seq, digest, now()))

    def append(self, kind: str, body: Mapping[str, Any]) -> Entry:
        """Record one entry in its own transaction."""
        with self.transaction() as conn:
            return self.append_in(conn, kind, body)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A database transaction whose ledger entries are checkpointed once it has committed."""
        with self.db.transaction() as conn:
            yield conn
        self._checkpoint_head()

    def _checkpoint_head(self) -> None:
        # the head as committed now (a later writer's, if one came in between: never an uncommitted one)
        if self.checkpoint_path is None:
            return
        head = self.db.query("SELECT seq, hash FROM ledger_head WHERE id = 1")
        if head:
            checkpoints.write(self.checkpoint_path, checkpoints.make(self._key, head[0]["seq"], head[0]["hash"], now()))

    def append_in(self, conn: sqlite3.Connection, kind: str, body: Mapping[str, Any]) -> Entry:
        """Record one entry inside the caller's transaction (so it commits with the caller's writes);
        the caller opens it with ``transaction()`` so that the entry is checkpointed."""
        last = conn.execute("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
        at = now()
        body = json.loads(canonical(body))  # exactly what will be read back
        digest = entry_hash(seq, at, kind, body, prev)
        signature = self._key.sign(bytes.fromhex(digest)).hex()
        conn.execute(
            "INSERT INTO ledger_entries (seq, at, kind, body, prev, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, at, kind, canonical(body).decode(), prev, digest, signature),
        )
        head_signature = self._key.sign(_head_message(seq, digest)).hex()
        conn.execute(
            "INSERT OR REPLACE INTO ledger_head (id, seq, hash, signature) VALUES (1, ?, ?, ?)",
            (seq, digest, head_signature),
        )
        return Entry(seq, at, kind, body, prev, digest, signature)

    def sign(self, message: bytes) -> str:
        """``message`` signed with the installation key (hex), for documents that cite the ledger."""
        return self._key.sign(message).hex()

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Entries in order (of one ``kind`` if given)."""
        sql = "SELECT * FROM ledger_entries" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq"
        rows = self.db.query(sql, (kind,) if kind else ())
        return [_entry(r) for r in rows]

    def entry(self, seq: int) -> Entry | None:
        """Entry ``seq``, or None."""
        rows = self.db.query("SELECT * FROM ledger_entries WHERE seq = ?", (seq,))
        return _entry(rows[0]) if rows else None

    def export(self) -> dict[str, Any]:
        """The whole ledger as JSON data that ``verify_export`` checks with the public key alone."""
        head = self.db.query("SELECT seq, hash, signature FROM ledger_head WHERE id = 1")
        return {
            "format": FORMAT,
            "public_key": self.public_key,
            "entries": [asdict(e) | {"body": dict(e.body)} for e in self.entries()],
            "head": dict(head[0]) if head else None,
            "checkpoint": checkpoints.as_data(self.checkpoint()),
        }

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """The latest checkpoint in the trust folder (None without a trust folder)."""
        return checkpoints.read(self.checkpoint_path) if self.checkpoint_path else None

    def verify(self, against: checkpoints.Checkpoint | None = None) -> int:
        """The number of entries, all intact and extending the trust folder's checkpoint (and ``against``,
        an older one); LedgerTampered naming the first problem otherwise."""
        data = self.export()
        if self.checkpoint_path and data["checkpoint"] is None:
            raise LedgerTampered(f"The ledger's checkpoint {self.checkpoint_path} is missing; restore it.")
        count = verify_export(data, self.public_key)
        if against is not None:
            checkpoints.check(data["entries"], against, self.public_key)
        triggers = self.db.query(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries'"
        )
        if len(triggers) < 2:
            raise LedgerTampered("The ledger's append-only triggers were removed: someone edited the database.")
        return count


def verify_export(data: Mapping[str, Any], public_key: str) -> int:
    """Check an exported ledger with ``public_key`` (hex); the entry count, or LedgerTampered.

    Needs nothing of Sayso's but this module: an auditor can run it on the exported JSON.
    """
    if data.get("format") != FORMAT:
        raise LedgerTampered(f"This is not a Sayso ledger export (format {data.get('format')!r}).")
    entries: Sequence[Mapping[str, Any]] = data.get("entries") or []
    prev = GENESIS
    for position, entry in enumerate(entries, start=1):
        _check_entry(entry, position, prev, public_key)
        prev = entry["hash"]
    head = data.get("head")
    if entries or head:
        if not head or head["seq"] != len(entries) or head["hash"] != prev:
            raise LedgerTampered(
                f"The ledger ends at entry {len(entries)} but its signed head says {head and head['seq']}: "
                "entries were deleted from the end; restore the database from a backup."
            )
        if not verify_signature(public_key, head["signature"], _head_message(head["seq"], head["hash"])):
            raise LedgerTampered("The ledger's head is not signed by this installation's key; restore from a backup.")
    held = checkpoints.from_data(data.get("checkpoint"))
    if held is not None:
        checkpoints.check(entries, held, public_key)
    return len(entries)


def _check_entry(entry: Mapping[str, Any], position: int, prev: str, public_key: str) -> None:
    seq = entry.get("seq")
    where = f"Ledger entry {seq}"
    if seq != position:
        raise LedgerTampered(f"{where} is at position {position}: entries were deleted or reordered.")
    if entry["prev"] != prev:
        raise LedgerTampered(f"{where} does not follow entry {position - 1}: entries were deleted or reordered.")
    if entry_hash(seq, entry["at"], entry["kind"], entry["body"], entry["prev"]) != entry["hash"]:
        raise LedgerTampered(f"{where} was edited after it was written (its hash does not match).")
    if not verify_signature(public_key, entry["signature"], bytes.fromhex(entry["hash"])):
        raise LedgerTampered(f"{where} is not signed by this installation's key: it was forged or rewritten.")
