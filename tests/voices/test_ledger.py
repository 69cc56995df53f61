"""The ledger: hash-chained, signed, append-only; tampering of every kind is found, exports verify alone."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from sayso.errors import LedgerTampered
from sayso.store.db import Database
from sayso.testing import kill_after_ready
from sayso.voices.keys import key_path, load_or_create_key, public_key_hex
from sayso.voices.ledger import Ledger, verify_export


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    found = Ledger(Database.in_data_dir(tmp_path), load_or_create_key(tmp_path))
    for n in range(5):
        found.append("note", {"n": n, "text": f"entry {n}"})
    return found


def raw(path: Path, *statements: str) -> None:
    """Edit the database file behind Sayso's back, as an attacker would (triggers dropped first)."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_an_intact_ledger_verifies(ledger: Ledger) -> None:
    assert ledger.verify() == 5
    assert [e.body["n"] for e in ledger.entries("note")] == [0, 1, 2, 3, 4]


def test_the_database_refuses_updates_and_deletes(ledger: Ledger) -> None:
    for statement in (
        "UPDATE ledger_entries SET body = '{}' WHERE seq = 2",
        "DELETE FROM ledger_entries WHERE seq = 5",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"), ledger.db.transaction() as conn:
            conn.execute(statement)
    assert ledger.verify() == 5


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (["UPDATE ledger_entries SET body = '{\"n\":2,\"text\":\"forged\"}' WHERE seq = 3"], "was edited"),
        (["DELETE FROM ledger_entries WHERE seq = 2"], "deleted or reordered"),
        (["UPDATE ledger_entries SET seq = 99 WHERE seq = 2", "UPDATE ledger_entries SET seq = 2 WHERE seq = 4",
          "UPDATE ledger_entries SET seq = 4 WHERE seq = 99"], "deleted or reordered"),
        (["DELETE FROM ledger_entries WHERE seq = 5"], "deleted from the end"),
    ],
    ids=["edited", "deleted", "reordered", "tail-deleted"],
)  # fmt: skip
def test_tampering_is_detected(ledger: Ledger, statements: list[str], message: str) -> None:
    ledger.db.close()
    raw(ledger.db.path, *statements)
    reopened = Ledger(Database(ledger.db.path), load_or_create_key(ledger.db.path.parent))
    with pytest.raises(LedgerTampered, match=message):
        reopened.verify()


def test_a_rehashed_entry_fails_its_signature(ledger: Ledger) -> None:
    data = ledger.export()
    from sayso.voices.ledger import entry_hash

    forged = data["entries"][-1]
    forged["body"] = {"n": 4, "text": "rewritten"}
    forged["hash"] = entry_hash(forged["seq"], forged["at"], forged["kind"], forged["body"], forged["prev"])
    data["head"]["hash"] = forged["hash"]
    with pytest.raises(LedgerTampered, match="not signed"):
        verify_export(data, ledger.public_key)


def test_an_export_verifies_with_the_public_key_alone(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger.export()))
    data = json.loads(path.read_text())
    assert verify_export(data, data["public_key"]) == 5
    other = public_key_hex(load_or_create_key(tmp_path / "elsewhere"))
    with pytest.raises(LedgerTampered, match="not signed"):
        verify_export(data, other)
    data["entries"][1]["body"]["text"] = "changed"
    with pytest.raises(LedgerTampered, match="entry 2 was edited"):
        verify_export(data, data["public_key"])


def test_the_key_is_private_and_kept(tmp_path: Path) -> None:
    first = public_key_hex(load_or_create_key(tmp_path))
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert public_key_hex(load_or_create_key(tmp_path)) == first


def test_a_killed_writer_loses_no_entry(tmp_path: Path) -> None:
    Ledger(Database.in_data_dir(tmp_path), load_or_create_key(tmp_path))
    writer = (
        "import sys\nfrom pathlib import Path\n"
        "from sayso.store.db import Database\n"
        "from sayso.voices.keys import load_or_create_key\n"
        "from sayso.voices.ledger import Ledger\n"
        "home = Path(sys.argv[1])\n"
        "ledger = Ledger(Database.in_data_dir(home), load_or_create_key(home))\n"
        "for i in range(100000):\n"
        "    ledger.append('note', {'n': i})\n"
        "    if i == 30: print('ready', flush=True)\n"
    )
    kill_after_ready(writer, str(tmp_path))
    ledger = Ledger(Database.in_data_dir(tmp_path), load_or_create_key(tmp_path))
    count = ledger.verify()
    assert count > 30
    assert [e.body["n"] for e in ledger.entries()] == list(range(count))
