from __future__ import annotations

import sqlite3
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
