"""The protected registry: people who asked not to be imitated, as voice embeddings.

Only a name, embeddings (the voice and its disguised variants) and a little metadata are kept
(no audio). The database (domain
"likeness") is the source of truth; the vector index in ``<data dir>/likeness/`` is derived
from it and carries the database's generation number, so an index left stale by a crash, or
damaged, is rebuilt on the next start instead of being trusted.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sayso.errors import AlreadyProtected, UnknownProtectedPerson
from sayso.store.db import Database
from sayso.voices.embedding import RESEMBLYZER, dim_of, part
from sayso.voices.likeness.index import VectorIndex

DOMAIN = "likeness"
READ_CHUNK = 50_000
"""Rows read at a time when the index is rebuilt from the database."""


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


MIGRATIONS = (m001_protected_people, m002_voice_variants, m003_encoders)


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
    """Protected people in the database, searchable through a vector index."""

    def __init__(self, db: Database, folder: Path, dim: int = 256) -> None:
        self.db = db
        self.dim = dim
        db.migrate(DOMAIN, MIGRATIONS)
        folder.mkdir(parents=True, exist_ok=True)
        self._index_path = folder / "index.faiss"
        self._generation_path = folder / "index.generation"
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
                keys = [
                    int(
                        conn.execute(
                            "INSERT INTO likeness_vectors (person, variant, vector, scored) VALUES (?, ?, ?, ?)",
                            (person, label, vector.tobytes(), _scored(full[label], encoder)),
                        ).lastrowid
                        or 0
                    )
                    for label, vector in rows.items()
                ]
                self._bump(conn)
        except sqlite3.IntegrityError as error:
            raise AlreadyProtected(
                f"{name!r} is already protected; remove them first (`sayso likeness remove`) or use another name."
            ) from error
        self.index.add(np.array(keys), np.stack(list(rows.values())))
        self._save_index()
        return self.person(name)

    def remove(self, name: str) -> ProtectedPerson:
        """Remove a person by name or id; UnknownProtectedPerson if there is none."""
        person = self.person(name)
        keys = [r["key"] for r in self.db.query("SELECT key FROM likeness_vectors WHERE person = ?", (person.key,))]
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM likeness_people WHERE key = ?", (person.key,))
            self._bump(conn)
        self.index.remove(np.array(keys, dtype=np.int64))
        self._save_index()
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
        """How many people are protected."""
        return int(self.db.query("SELECT COUNT(*) AS n FROM likeness_people")[0]["n"])

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[ProtectedPerson, np.ndarray]]:
        """The ``k`` people most like ``vector`` (a Resemblyzer vector, or the Resemblyzer part of one), each
        with their closest stored vector (whole, as their encoder made it), best first."""
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

    def _bump(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE likeness_state SET value = value + 1 WHERE name = 'generation'")

    def _generation(self) -> int:
        return int(self.db.query("SELECT value FROM likeness_state WHERE name = 'generation'")[0]["value"])

    def _open_index(self) -> VectorIndex:
        saved = self._generation_path.read_text().strip() if self._generation_path.exists() else ""
        if saved == str(self._generation()):
            loaded = VectorIndex.load(self._index_path, self.dim)
            if loaded is not None:
                return loaded
        keys, vectors = self._all_vectors()
        self.index = VectorIndex(self.dim, keys, vectors)
        self._save_index()
        return self.index

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

    def _save_index(self) -> None:
        self.index.save(self._index_path)
        self._generation_path.write_text(str(self._generation()))


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
