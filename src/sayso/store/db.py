"""SQLite storage shared by every domain (voices, ledger, likeness, memory, skills).

One file, ``sayso.db`` in the data directory, in WAL mode with ``synchronous=FULL``: a write that
returned is on disk, and a process killed mid-write leaves the last committed state. Every write
goes through ``transaction()``. Each domain owns an ordered list of small migration functions,
applied once each and recorded in ``migrations`` under the domain's name; two processes starting
together on a new data folder each check, inside the write lock, that a migration is still to do.
The database holds a user's memories: its files are readable by their owner only (0600), and a
folder created for it is 0700.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sayso.errors import StorageError

Migration = Callable[[sqlite3.Connection], None]


class Database:
    """A SQLite database; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            private_dir(self.path.parent)
            private_files(self.path)
        try:
            self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (domain TEXT NOT NULL, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (domain, name))"
            )
        except sqlite3.DatabaseError as error:
            raise StorageError(
                f"The database {self.path} cannot be opened ({error}); restore it from a backup or move it aside."
            ) from error
        self._lock = threading.RLock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Database:
        """The installation's database."""
        return cls(data_dir / "sayso.db")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together, or none do."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only statement."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def migrate(self, domain: str, migrations: Sequence[Migration]) -> None:
        """Apply, in order, each of ``domain``'s migrations not yet applied (each in its own transaction)."""
        done = {row["name"] for row in self.query("SELECT name FROM migrations WHERE domain = ?", (domain,))}
        for migration in migrations:
            if migration.__name__ in done:
                continue
            with self.transaction() as conn:
                # Another process may have applied it while this one waited for the write lock.
                again = "SELECT 1 FROM migrations WHERE domain = ? AND name = ?"
                if conn.execute(again, (domain, migration.__name__)).fetchone() is not None:
                    continue
                migration(conn)
                conn.execute("INSERT INTO migrations (domain, name) VALUES (?, ?)", (domain, migration.__name__))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if missing, the folder itself readable by its owner only."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_files(database: Path) -> None:
    """Create ``database`` empty with mode 0600 if missing (SQLite gives its -wal and -shm files the
    database's mode), and take group and other access off an existing one and its companions."""
    os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue  # not there yet, or someone else's file (a shared database): not ours to change
