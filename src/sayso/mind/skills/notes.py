"""Notes and lists ("add milk to my shopping list", "take a note", "what's on my to do list")."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from sayso.mind.skills import SkillResult
from sayso.mind.text import second_person
from sayso.store.db import Database

NOTES = "notes"
_ALIASES = {"grocery": "shopping", "groceries": "shopping", "todo": "to do", "to-do": "to do", "note": NOTES}


def m001_notes(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE list_items (id INTEGER PRIMARY KEY, user TEXT NOT NULL, list TEXT NOT NULL, "
        "item TEXT NOT NULL, created_at REAL NOT NULL)"
    )
    conn.execute("CREATE INDEX list_items_user ON list_items (user, list)")


MIGRATIONS = (m001_notes,)


class Lists:
    """The user's named lists; notes are the list called "notes"."""

    def __init__(self, db: Database, user: str) -> None:
        self.db, self.user = db, user
        db.migrate("notes", MIGRATIONS)

    def add(self, name: str, items: list[str], now: float) -> None:
        """Append ``items`` to the list called ``name``."""
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO list_items (user, list, item, created_at) VALUES (?, ?, ?, ?)",
                [(self.user, name, item, now) for item in items],
            )

    def items(self, name: str) -> list[str]:
        """The items of the list called ``name``, oldest first."""
        rows = self.db.query("SELECT item FROM list_items WHERE user = ? AND list = ? ORDER BY id", (self.user, name))
        return [r["item"] for r in rows]

    def remove(self, name: str, item: str | None) -> int:
        """Remove ``item`` (every item when None); returns how many went."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM list_items WHERE user = ? AND list = ? AND (? IS NULL OR item = ?)",
                (self.user, name, item, item),
            )
        return cursor.rowcount


_LIST = r"(?:my |the |our )?(?P<list>to do|to-do|[a-z]+) list"
_ADD = re.compile(rf"\b(?:add|put|write|stick|include)\s+(?P<items>.+?)\s+(?:to|on|onto|in|into)\s+{_LIST}\b")
_READ = re.compile(rf"\b(?:what's|what is|what are|whats|read|tell me|check|show)\b.*?\b(?:on|in)?\s*{_LIST}\b")
_REMOVE = re.compile(rf"\b(?:remove|take|delete|cross|strike)\s+(?P<items>.+?)\s+(?:off|from|out of)\s+{_LIST}\b")
_CLEAR = re.compile(rf"\b(?:clear|empty|delete|erase)\s+{_LIST}\b")
_NOTE = re.compile(
    r"^(?:please |can you |could you )?(?:take|make|write|jot) (?:down )?(?:a )?note(?: down)?(?: that"
    r"| saying| of)?\s*(?P<text>.*)$"
    r"|^(?:note|write down|jot down)(?: that)?\s+(?P<text2>.+)$"
)
_READ_NOTES = re.compile(r"\b(?:read|what are|what's in|tell me|show)\b.*\bmy notes\b|^my notes$")


def _name(raw: str) -> str:
    raw = raw.strip()
    return _ALIASES.get(raw, raw)


def _split(items: str) -> list[str]:
    parts = re.split(r",\s*|\s+and\s+|\s+&\s+", items)
    return [re.sub(r"^(?:some|a|an|the)\s+", "", p.strip()) for p in parts if p.strip()]


class NotesSkill:
    """Understands list and note requests."""

    def __init__(self, lists: Lists, clock: Callable[[], float]) -> None:
        self.lists, self.clock = lists, clock

    def __call__(self, text: str) -> SkillResult | None:
        if match := _ADD.search(text):
            items = _split(match["items"])
            self.lists.add(_name(match["list"]), items, self.clock())
            what = " and ".join(items)
            return SkillResult("skill:list", f"Added {what} to your {_name(match['list'])} list.")
        if match := _REMOVE.search(text):
            return self._remove(_name(match["list"]), _split(match["items"]))
        if match := _CLEAR.search(text):
            count = self.lists.remove(_name(match["list"]), None)
            return SkillResult("skill:list", f"Cleared your {_name(match['list'])} list ({count} items).")
        if match := _NOTE.search(text):
            note = (match["text"] or match["text2"] or "").strip()
            if not note:
                return SkillResult("skill:ask", "What should the note say?")
            self.lists.add(NOTES, [note], self.clock())
            return SkillResult("skill:note", "Noted.")
        if _READ_NOTES.search(text):
            return self._read(NOTES)
        if match := _READ.search(text):
            return self._read(_name(match["list"]))
        return None

    def _remove(self, name: str, items: list[str]) -> SkillResult:
        gone = [item for item in items if self.lists.remove(name, item)]
        if not gone:
            return SkillResult("skill:list", f"I couldn't find {' or '.join(items)} on your {name} list.")
        return SkillResult("skill:list", f"Removed {' and '.join(gone)} from your {name} list.")

    def _read(self, name: str) -> SkillResult:
        items = self.lists.items(name)
        what = "You have no notes." if name == NOTES else f"Your {name} list is empty."
        if items:
            shown = [second_person(i) for i in items[:10]]
            more = f", and {len(items) - 10} more" if len(items) > 10 else ""
            head = "Your notes say: " if name == NOTES else f"On your {name} list: "
            what = head + ("; " if name == NOTES else ", ").join(shown) + more + "."
        return SkillResult("skill:list" if name != NOTES else "skill:note", what)
