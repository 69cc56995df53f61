"""The protected registry: people who asked not to be imitated, as voice embeddings.

Only a name, embeddings (the voice and its disguised variants) and a little metadata are kept
(no audio). The database (domain "likeness") is the source of truth, shared by every process
(the CLI, a running server). The vector index is derived from it and kept current through a
change log: triggers record every stored vector added or removed, in one sequence, in the same
transaction as the change. A registry remembers the last change its index reflects; before a
search (at most every ``REFRESH_SECONDS``) it reads the log's head and applies only what changed
since (a protect or a remove by another process, a few rows), never a full rebuild.

The index is saved in ``<data dir>/likeness/`` with the change it reflects; a later start loads
it and replays the log from there. A missing, damaged or foreign file is rebuilt from the
database instead of being trusted.

The log keeps its last ``KEPT_CHANGES`` entries: each writer prunes older ones after its change.
A registry (or a saved index) that has fallen further behind than that cannot replay what it
missed and rebuilds its index from the vectors table, which is always whole.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sayso.errors import AlreadyProtected, UnknownProtectedPerson
from sayso.store.db import Database
from sayso.voices.embedding import RESEMBLYZER, dim_of, part
from sayso.voices.likeness.index import VectorIndex
from sayso.voices.likeness.stored import SavedIndex

DOMAIN = "likeness"
READ_CHUNK = 50_000
"""Rows read at a time when the index is rebuilt from the database."""
REFRESH_SECONDS = 0.2
"""How often a search looks for other processes' changes: a protect elsewhere is seen within this
(well inside the promised second); the look is one indexed read, ~20 us."""
SAVE_AFTER_CHANGES = 600
"""Own changes (vector rows) after which the index file is written again. Between writes a start
replays the log from the saved file, which is cheap; writing 3.6 GB at a million people per
protect is not."""
KEPT_CHANGES = 20_000
"""Logged changes kept (older ones are pruned). Above ``SAVE_AFTER_CHANGES`` x 6 variants, so a
start from the last saved index replays rather than rebuilds; a reader polls every
``REFRESH_SECONDS``, so only a process that slept through thousands of protections falls behind."""


def m001_protected_people(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE likeness_people (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
        "name TEXT NOT NULL UNIQUE, files INTEGER NOT NULL, speech_seconds REAL NOT NULL, "
        "vector BLOB NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    conn.execute("CREATE TABLE likeness_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO likeness_state VALUES ('generation', 0)")


def m002_voice_variants(conn: sqlite3.Connection) -> None:
    # Each person is searched through several vectors: their voice and its disguised variants.
    conn.execute(
        "CREATE TABLE likeness_vectors (key INTEGER PRIMARY KEY, "
        "person INTEGER NOT NULL REFERENCES likeness_people (key) ON DELETE CASCADE, "
        "variant TEXT NOT NULL, vector BLOB NOT NULL)"
    )
    conn.execute("CREATE INDEX likeness_vectors_person ON likeness_vectors (person)")
    conn.execute(
        "INSERT INTO likeness_vectors (person, variant, vector) SELECT key, 'voice', vector FROM likeness_people"
    )
    conn.execute("UPDATE likeness_state SET value = value + 1 WHERE name = 'generation'")


def m003_encoders(conn: sqlite3.Connection) -> None:
    # Each person records the encoder their vectors were made with (older entries: Resemblyzer). The
    # index searches every entry by its Resemblyzer part (``vector``), which every encoder kept
    # here has; ``scored`` holds the whole vector when it is more than that part.
    conn.execute(f"ALTER TABLE likeness_people ADD COLUMN encoder TEXT NOT NULL DEFAULT '{RESEMBLYZER}'")
    conn.execute("ALTER TABLE likeness_vectors ADD COLUMN scored BLOB")


def m004_change_log(conn: sqlite3.Connection) -> None:
    # Triggers, not the registry's code, write the log: a cascaded delete or any other writer is
    # logged too, in the transaction that made the change. Vector keys are never reused (the
    # registry numbers them from 'last_vector'), so a key's last logged change is its state.
    conn.execute(
        "CREATE TABLE likeness_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "vector INTEGER NOT NULL, added INTEGER NOT NULL)"
    )
    conn.execute(
        "INSERT INTO likeness_state VALUES ('last_vector', (SELECT COALESCE(MAX(key), 0) FROM likeness_vectors))"
    )
    conn.execute("INSERT INTO likeness_state VALUES ('people', (SELECT COUNT(*) FROM likeness_people))")
    conn.execute(
        "CREATE TRIGGER likeness_vector_added AFTER INSERT ON likeness_vectors BEGIN "
        "INSERT INTO likeness_changes (vector, added) VALUES (NEW.key, 1); "
        "UPDATE likeness_state SET value = MAX(value, NEW.key) WHERE name = 'last_vector'; END"
    )
    conn.execute(
        "CREATE TRIGGER likeness_vector_removed AFTER DELETE ON likeness_vectors BEGIN "
        "INSERT INTO likeness_changes (vector, added) VALUES (OLD.key, 0); END"
    )
    # Counting a million rows that hold their vectors reads ~1 GB; the count is kept instead.
    conn.execute(
        "CREATE TRIGGER likeness_person_added AFTER INSERT ON likeness_people BEGIN "
        "UPDATE likeness_state SET value = value + 1 WHERE name = 'people'; END"
    )
    conn.execute(
        "CREATE TRIGGER likeness_person_removed AFTER DELETE ON likeness_people BEGIN "
        "UPDATE likeness_state SET value = value - 1 WHERE name = 'people'; END"
    )


MIGRATIONS = (m001_protected_people, m002_voice_variants, m003_encoders, m004_change_log)


@dataclass(frozen=True)
class ProtectedPerson:
    """One entry of the registry."""

    id: str
    name: str
    files: int
    speech_seconds: float
    created_at: str
    key: int = 0
    encoder: str = RESEMBLYZER
    """The speaker encoder that made the stored vectors (``sayso.voices.embedding.ENCODERS``)."""


class Registry:
    """Protected people in the database, searchable through a vector index kept current across processes.

    Safe to share between threads: index changes and searches hold one lock.
    """

    def __init__(self, db: Database, folder: Path, dim: int = 256) -> None:
        self.db = db
        self.dim = dim
        db.migrate(DOMAIN, MIGRATIONS)
        self._saved = SavedIndex(folder, dim)
        self._lock = threading.RLock()
        self._seq = 0
        """The last logged change the index reflects."""
        self._saved_seq = 0
        self._checked = 0.0
        self._count = 0
        self.index = self._open_index()

    def protect(
        self,
        name: str,
        vectors: Mapping[str, np.ndarray],
        files: int,
        speech_seconds: float,
        encoder: str = RESEMBLYZER,
    ) -> ProtectedPerson:
        """Add a person from their vectors by variant (``"voice"`` first), made by ``encoder``;
        AlreadyProtected if the name is taken."""
        name = " ".join(name.split())
        full = {label: np.asarray(v, dtype=np.float32).reshape(dim_of(encoder)) for label, v in vectors.items()}
        rows = {label: part(vector, encoder, RESEMBLYZER).reshape(self.dim) for label, vector in full.items()}
        try:
            with self.db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO likeness_people (id, name, files, speech_seconds, vector, encoder) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (uuid.uuid4().hex[:12], name, files, speech_seconds, full["voice"].tobytes(), encoder),
                )
                person = int(cursor.lastrowid or 0)
                for label, vector in rows.items():
                    conn.execute(
                        "INSERT INTO likeness_vectors (key, person, variant, vector, scored) VALUES "
                        "((SELECT value + 1 FROM likeness_state WHERE name = 'last_vector'), ?, ?, ?, ?)",
                        (person, label, vector.tobytes(), _scored(full[label], encoder)),
                    )
        except sqlite3.IntegrityError as error:
            raise AlreadyProtected(
                f"{name!r} is already protected; remove them first (`sayso likeness remove`) or use another name."
            ) from error
        self._after_own_change()
        return self.person(name)

    def remove(self, name: str) -> ProtectedPerson:
        """Remove a person by name or id; UnknownProtectedPerson if there is none."""
        person = self.person(name)
        with self.db.transaction() as conn:
            # Cascades to their vectors; the log's triggers record each. Gone already (another
            # process removed them since the look-up) is the same as never there.
            if not conn.execute("DELETE FROM likeness_people WHERE key = ?", (person.key,)).rowcount:
                raise UnknownProtectedPerson(f"No one called {name!r} is protected (any more).")
        self._after_own_change()
        return person

    def person(self, name_or_id: str) -> ProtectedPerson:
        """The entry called ``name_or_id`` (a name or an id)."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM likeness_people WHERE name = ? OR id = ?", (name_or_id,) * 2)
        if not rows:
            raise UnknownProtectedPerson(
                f"No one called {name_or_id!r} is protected; see `sayso likeness list` for the names."
            )
        return _person(rows[0])

    def people(self) -> list[ProtectedPerson]:
        """Everyone protected, oldest first."""
        return [_person(row) for row in self.db.query(f"SELECT {_COLUMNS} FROM likeness_people ORDER BY key")]

    def __len__(self) -> int:
        """How many people are protected (as of the last refresh, at most ``REFRESH_SECONDS`` old)."""
        self.refresh()
        return self._count

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[ProtectedPerson, np.ndarray]]:
        """The ``k`` people most like ``vector`` (a Resemblyzer vector, or the Resemblyzer part of one), each
        with their closest stored vector (whole, as their encoder made it), best first."""
        self.refresh()
        with self._lock:
            keys, _ = self.index.search(vector, k * VARIANTS_PER_PERSON)
        if len(keys) == 0:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.query(
            f"SELECT v.key AS vkey, v.vector, v.scored, {_PEOPLE_COLUMNS} FROM likeness_vectors v "
            f"JOIN likeness_people p ON p.key = v.person WHERE v.key IN ({marks})",
            [int(key) for key in keys],
        )
        found = {row["vkey"]: row for row in rows}
        best: dict[int, tuple[ProtectedPerson, np.ndarray]] = {}
        for key in keys:  # best first, so a person's first hit is their closest variant
            row = found.get(int(key))
            if row is not None and row["key"] not in best:
                best[row["key"]] = (_person(row), np.frombuffer(row["scored"] or row["vector"], dtype=np.float32))
        return list(best.values())[:k]

    def sample_voices(self, count: int, encoder: str, seed: int = 0) -> list[tuple[int, np.ndarray]]:
        """About ``count`` protected people's voices (not variants) made by ``encoder``, at random:
        (person key, whole vector)."""
        top = int(self.db.query("SELECT COALESCE(MAX(key), 0) AS top FROM likeness_vectors")[0]["top"])
        # Random keys, as many as should hit ``count`` voices among the variants (rowid look-ups, no scan).
        keys = np.unique(np.random.default_rng(seed).integers(1, top + 1, 2 * VARIANTS_PER_PERSON * count))
        found: dict[int, np.ndarray] = {}
        for start in range(0, len(keys), 10_000):
            chunk = [int(k) for k in keys[start : start + 10_000]]
            for row in self.db.query(
                "SELECT v.person, v.vector, v.scored FROM likeness_vectors v JOIN likeness_people p "
                f"ON p.key = v.person WHERE v.variant = 'voice' AND p.encoder = ? AND v.key IN "
                f"({','.join('?' * len(chunk))})",
                [encoder, *chunk],
            ):
                whole = np.frombuffer(row["scored"] or row["vector"], dtype=np.float32)
                found.setdefault(int(row["person"]), whole)
        return list(found.items())[:count]

    def refresh(self, force: bool = False) -> None:
        """Bring the index up to date with changes made by other processes (rate-limited unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_SECONDS:
            return
        with self._lock:
            self._checked = now
            if self._head() != self._seq:
                self._catch_up()

    @property
    def synced_change(self) -> int:
        """The last logged change the index reflects (for tests and reports)."""
        return self._seq

    def _after_own_change(self) -> None:
        with self._lock:
            self._catch_up()
            if self.index.kind == "ivf" and self._seq - self._saved_seq >= SAVE_AFTER_CHANGES:
                self._save()
        self.prune_changes()

    def prune_changes(self) -> int:
        """Drop logged changes older than the last ``KEPT_CHANGES``, in one transaction; how many went."""
        with self.db.transaction() as conn:
            # seq is the table's rowid, so this is a range delete; the newest rows (the head) always stay.
            return conn.execute(
                "DELETE FROM likeness_changes WHERE seq <= (SELECT MAX(seq) FROM likeness_changes) - ?",
                (KEPT_CHANGES,),
            ).rowcount

    def _missed(self, seq: int) -> bool:
        """Whether changes after ``seq`` have been pruned from the log (so they cannot be replayed)."""
        oldest = self.db.query("SELECT MIN(seq) AS seq FROM likeness_changes")[0]["seq"]
        return oldest is not None and seq + 1 < int(oldest)

    def _head(self) -> int:
        return int(self.db.query("SELECT COALESCE(MAX(seq), 0) AS seq FROM likeness_changes")[0]["seq"])

    def _catch_up(self, present: np.ndarray | None = None) -> None:
        """Apply the logged changes after ``self._seq``. ``present``: keys the index already holds
        (a rebuild reads vectors while others may write, so an add may be in it already)."""
        if present is None and self._missed(self._seq):
            self._rebuild()  # fell behind the pruned log: the vectors table is the truth
            return
        changes = self.db.query(
            "SELECT seq, vector, added FROM likeness_changes WHERE seq > ? ORDER BY seq", (self._seq,)
        )
        self._count = int(self.db.query("SELECT value FROM likeness_state WHERE name = 'people'")[0]["value"])
        if not changes:
            return
        last = {int(row["vector"]): bool(row["added"]) for row in changes}  # a key's last change is its state
        removed = np.array([key for key, added in last.items() if not added], dtype=np.int64)
        added = np.array([key for key, added in last.items() if added], dtype=np.int64)
        if present is not None:
            added = added[~np.isin(added, present)]
        if len(removed):
            self.index.remove(removed)
        if len(added):
            # A vector added then removed after the log was read is skipped here; its removal is the next change.
            keys, vectors = self._vectors(added)
            self.index.add(keys, vectors)
        self._seq = int(changes[-1]["seq"])

    def _vectors(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows: list[sqlite3.Row] = []
        for start in range(0, len(keys), 10_000):  # SQLite's bound-parameter limit
            chunk = [int(k) for k in keys[start : start + 10_000]]
            rows += self.db.query(
                f"SELECT key, vector FROM likeness_vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
        found = np.array([r["key"] for r in rows], dtype=np.int64)
        vectors = np.frombuffer(b"".join(r["vector"] for r in rows), dtype=np.float32).reshape(-1, self.dim)
        return found, vectors

    def _open_index(self) -> VectorIndex:
        loaded = self._saved.load()
        if loaded is not None and loaded[1] <= self._head() and not self._missed(loaded[1]):
            self.index, self._seq = loaded
            self._saved_seq = self._seq
            self._catch_up()
            return self.index
        return self._rebuild()

    def _rebuild(self) -> VectorIndex:
        # The log's head first, then the vectors (read in chunks while others may write), then the
        # changes since that head, skipping adds the read already saw.
        head = self._head()
        keys, vectors = self._all_vectors()
        self.index, self._seq = VectorIndex(self.dim, keys, vectors), head
        self._catch_up(present=keys)
        self._save()
        return self.index

    def _save(self) -> None:
        if self._saved.save(self.index, self._seq):
            self._saved_seq = self._seq

    def _all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every stored vector and its key, read ``READ_CHUNK`` rows at a time into one array (at a
        million people, 6M rows as Python objects would need several times the vectors' 6 GB)."""
        count = int(self.db.query("SELECT COUNT(*) AS n FROM likeness_vectors")[0]["n"])
        keys = np.zeros(count, dtype=np.int64)
        vectors = np.zeros((count, self.dim), dtype=np.float32)
        filled, last = 0, -1
        while rows := self.db.query(
            "SELECT key, vector FROM likeness_vectors WHERE key > ? ORDER BY key LIMIT ?", (last, READ_CHUNK)
        ):
            if filled + len(rows) > len(keys):  # added since the count: grow (rare)
                keys = np.resize(keys, filled + len(rows))
                vectors = np.resize(vectors, (filled + len(rows), self.dim))
            keys[filled : filled + len(rows)] = [r["key"] for r in rows]
            vectors[filled : filled + len(rows)] = np.frombuffer(
                b"".join(r["vector"] for r in rows), dtype=np.float32
            ).reshape(-1, self.dim)
            filled, last = filled + len(rows), int(rows[-1]["key"])
        return keys[:filled], vectors[:filled]


_COLUMNS = "key, id, name, files, speech_seconds, created_at, encoder"
_PEOPLE_COLUMNS = "p.key, p.id, p.name, p.files, p.speech_seconds, p.created_at, p.encoder"
VARIANTS_PER_PERSON = 6
"""Index hits fetched per person wanted: each person is stored as up to this many vectors."""


def _person(row: sqlite3.Row) -> ProtectedPerson:
    return ProtectedPerson(
        row["id"],
        row["name"],
        row["files"],
        float(row["speech_seconds"]),
        row["created_at"],
        int(row["key"]),
        row["encoder"],
    )


def _scored(vector: np.ndarray, encoder: str) -> bytes | None:
    # A Resemblyzer vector is its own index part: not stored twice.
    return None if encoder == RESEMBLYZER else vector.tobytes()
