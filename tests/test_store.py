from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from sayso.errors import StorageError
from sayso.store.db import Database
from sayso.testing import kill_after_ready


def m001_notes(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def m002_notes_tag(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE notes ADD COLUMN tag TEXT")


def test_migrations_apply_once_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "a.db")
    db.migrate("notes", [m001_notes])
    db.migrate("notes", [m001_notes, m002_notes_tag])
    db.migrate("notes", [m001_notes, m002_notes_tag])
    names = [r["name"] for r in db.query("SELECT name FROM migrations WHERE domain='notes' ORDER BY rowid")]
    assert names == ["m001_notes", "m002_notes_tag"]
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes (text, tag) VALUES ('x', 'y')")
    assert db.query("SELECT tag FROM notes")[0]["tag"] == "y"


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "a.db")
    db.migrate("notes", [m001_notes])
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        conn.execute("INSERT INTO notes (text) VALUES ('kept?')")
        conn.execute("INSERT INTO notes (text) VALUES (NULL)")
    assert db.query("SELECT COUNT(*) AS n FROM notes")[0]["n"] == 0


def test_a_killed_writer_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Database(path).migrate("notes", [m001_notes])
    writer = (
        "import sys, os\n"
        "from sayso.store.db import Database\n"
        "db = Database(sys.argv[1])\n"
        "for i in range(100000):\n"
        "    with db.transaction() as c:\n"
        "        c.execute('INSERT INTO notes (text) VALUES (?)', (str(i),))\n"
        "    if i == 50: print('ready', flush=True)\n"
    )
    kill_after_ready(writer, str(path))
    rows = Database(path).query("SELECT text FROM notes ORDER BY id")
    assert len(rows) > 50
    assert [r["text"] for r in rows] == [str(i) for i in range(len(rows))]  # no gaps, no torn rows


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot be opened"):
        Database(path)


class ReadsTogether(Database):
    """A Database whose look-up of applied migrations waits for a second connection's: both then
    find nothing applied, as two processes starting at once on a new data folder do."""

    def __init__(self, path: Path, barrier: threading.Barrier) -> None:
        super().__init__(path)
        self.barrier = barrier

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        rows = super().query(sql, params)
        if sql.startswith("SELECT name FROM migrations"):
            self.barrier.wait(timeout=10)
        return rows


def test_two_first_runs_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    barrier = threading.Barrier(2)
    databases = [ReadsTogether(tmp_path / "a.db", barrier) for _ in range(2)]
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            db.migrate("notes", [m001_notes, m002_notes_tag])
        except BaseException as error:  # collected: the test fails on any
            errors.append(error)

    threads = [threading.Thread(target=run, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    names = [r["name"] for r in databases[0].query("SELECT domain, name FROM migrations WHERE domain='notes'")]
    assert sorted(names) == ["m001_notes", "m002_notes_tag"]


def test_the_database_and_a_folder_made_for_it_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, under which files default to world-readable
    try:
        db = Database(tmp_path / "new" / "sayso.db")
        db.migrate("notes", [m001_notes])
        with db.transaction() as conn:
            conn.execute("INSERT INTO notes (text) VALUES ('my secret')")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    for name in ("sayso.db", "sayso.db-wal", "sayso.db-shm"):
        assert stat.S_IMODE((tmp_path / "new" / name).stat().st_mode) == 0o600, name


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "sayso.db"
    Database(path).close()
    path.chmod(0o644)
    Database(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
