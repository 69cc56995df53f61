"""What Sayso remembers about each user: short facts in SQLite, found again by meaning.

Facts come from what the user shares ("my sister is Clara", "I'm vegetarian") or asks to be
remembered. Each is stored with its all-MiniLM-L6-v2 embedding; retrieval is a dot product over
the user's facts (a person has hundreds, not millions, so no index is needed).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from sayso.errors import MemoryNotFound
from sayso.mind.embed import Embedder
from sayso.mind.text import normal
from sayso.store.db import Database

DUPLICATE = 0.92  # a new fact this close to a stored one replaces it instead of piling up


def m001_memories(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE memories (id INTEGER PRIMARY KEY, user TEXT NOT NULL, text TEXT NOT NULL, "
        "embedding BLOB NOT NULL, created_at REAL NOT NULL)"
    )
    conn.execute("CREATE INDEX memories_user ON memories (user)")
    conn.execute("CREATE TABLE memory_prefs (user TEXT PRIMARY KEY, enabled INTEGER NOT NULL DEFAULT 1)")


MIGRATIONS = (m001_memories,)


@dataclass(frozen=True)
class Memory:
    """One remembered fact, in the user's own words."""

    id: int
    text: str
    created_at: float


class MemoryStore:
    """One user's memories. The embedder is only loaded when a fact is stored or searched."""

    def __init__(self, db: Database, user: str, embedder: Callable[[], Embedder]) -> None:
        self.db, self.user, self._embedder = db, user, embedder
        db.migrate("memory", MIGRATIONS)

    @property
    def enabled(self) -> bool:
        """False when the user turned memory off."""
        rows = self.db.query("SELECT enabled FROM memory_prefs WHERE user = ?", (self.user,))
        return bool(rows[0]["enabled"]) if rows else True

    def set_enabled(self, on: bool) -> None:
        """Turn memory on or off for this user (kept across conversations)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO memory_prefs (user, enabled) VALUES (?, ?) "
                "ON CONFLICT(user) DO UPDATE SET enabled = excluded.enabled",
                (self.user, int(on)),
            )

    def add(self, text: str, now: float) -> Memory:
        """Store a fact (replacing a near-identical one); returns it."""
        text = " ".join(text.split())
        vector = self._embedder().encode([text])[0]
        close = [(m, s) for m, s in self._scored(vector) if s >= DUPLICATE]
        with self.db.transaction() as conn:
            for memory, _ in close:
                conn.execute("DELETE FROM memories WHERE id = ?", (memory.id,))
            cursor = conn.execute(
                "INSERT INTO memories (user, text, embedding, created_at) VALUES (?, ?, ?, ?)",
                (self.user, text, vector.astype(np.float32).tobytes(), now),
            )
        return Memory(int(cursor.lastrowid or 0), text, now)

    def all(self) -> list[Memory]:
        """Every fact, oldest first."""
        rows = self.db.query("SELECT id, text, created_at FROM memories WHERE user = ? ORDER BY id", (self.user,))
        return [Memory(r["id"], r["text"], r["created_at"]) for r in rows]

    def count(self) -> int:
        """How many facts this user has."""
        return int(self.db.query("SELECT COUNT(*) AS n FROM memories WHERE user = ?", (self.user,))[0]["n"])

    def search(self, query: str, k: int = 3, min_score: float = 0.0) -> list[tuple[Memory, float]]:
        """The ``k`` facts closest in meaning to ``query`` (best first), each with its cosine score."""
        if not self.count():
            return []  # no facts: do not load the model for nothing
        vector = self._embedder().encode([query])[0]
        return [(m, s) for m, s in self._scored(vector)[:k] if s >= min_score]

    def _scored(self, vector: np.ndarray) -> list[tuple[Memory, float]]:
        rows = self.db.query("SELECT * FROM memories WHERE user = ?", (self.user,))
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(r["embedding"], dtype=np.float32) for r in rows])
        scores = matrix @ vector
        order = np.argsort(-scores)
        return [(Memory(rows[i]["id"], rows[i]["text"], rows[i]["created_at"]), float(scores[i])) for i in order]

    def update(self, memory_id: int, text: str) -> Memory:
        """Replace a fact's words (and its embedding); MemoryNotFound if there is no such fact."""
        old = self._get(memory_id)
        text = " ".join(text.split())
        vector = self._embedder().encode([text])[0]
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE memories SET text = ?, embedding = ? WHERE id = ? AND user = ?",
                (text, vector.astype(np.float32).tobytes(), memory_id, self.user),
            )
        return Memory(memory_id, text, old.created_at)

    def delete(self, memory_ids: list[int]) -> int:
        """Delete these facts (MemoryNotFound if any is not this user's); returns how many went."""
        for memory_id in memory_ids:
            self._get(memory_id)
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM memories WHERE id = ? AND user = ?", [(i, self.user) for i in memory_ids])
        return len(memory_ids)

    def delete_all(self) -> int:
        """Forget every fact of this user; returns how many went."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM memories WHERE user = ?", (self.user,)).rowcount

    def export(self) -> str:
        """Every fact as JSON (id, text, created_at), for the user to keep or inspect."""
        return json.dumps({"user": self.user, "memories": [asdict(m) for m in self.all()]}, indent=2)

    def _get(self, memory_id: int) -> Memory:
        rows = self.db.query(
            "SELECT id, text, created_at FROM memories WHERE id = ? AND user = ?", (memory_id, self.user)
        )
        if not rows:
            raise MemoryNotFound(f"There is no memory number {memory_id}; list them with `sayso memory list`.")
        return Memory(rows[0]["id"], rows[0]["text"], rows[0]["created_at"])


_KIN = (
    r"sister|brother|mom|mum|mother|dad|father|wife|husband|partner|son|daughter|kids?|children|boyfriend|girlfriend"
    r"|friend|boss|dog|cat|pet|doctor|dentist|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|niece"
    r"|nephew|neighbou?r|roommate|flatmate|baby|fiancee?|manager"
)
KIN = re.compile(rf"\b(?:{_KIN})\b")
"""The people, pets and personal things a fact can be about: a question about one is not answered
with a fact about another, however close their embeddings ("my mom's name" is not "my sister is Clara")."""
_SAME = {
    "mum": "mom", "mother": "mom", "father": "dad", "kid": "children", "kids": "children", "grandma": "grandmother",
    "grandpa": "grandfather", "fiancee": "fiance", "neighbour": "neighbor",
}  # fmt: skip


def kin_in(text: str) -> set[str]:
    """The people, pets and personal things named in ``text`` (synonyms made one)."""
    return {_SAME.get(word, word) for word in KIN.findall(text.lower())}


_PEOPLE = (
    r"name|sister|brother|mom|mum|mother|dad|father|wife|husband|partner|son|daughter|kids?|children|boyfriend"
    r"|girlfriend|friend|boss|dog|cat|pet|birthday|address|email|phone number|job|hometown|anniversary|doctor"
    r"|dentist|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|niece|nephew|car|allergy|allergies"
    r"|blood type|middle name|nickname|favou?rite \w+|neighbou?r|roommate|flatmate|baby|fiance|fiancee|team|manager"
)
_JOBS = (
    r"teacher|nurse|doctor|student|engineer|developer|programmer|designer|lawyer|chef|writer|artist|musician|farmer"
    r"|pilot|scientist|accountant|mechanic|cook|baker|architect|electrician|plumber|carpenter|firefighter|officer"
    r"|paramedic|pharmacist|dentist|therapist|librarian|journalist|photographer|translator|consultant|manager"
    r"|cashier|waiter|waitress|driver|cleaner|carer|caregiver|worker|vet|veterinarian|researcher|professor|lecturer"
    r"|secretary|receptionist|analyst|economist|editor|actor|actress|dancer|singer|painter|retiree|pensioner"
    r"|surgeon|psychologist|biologist|chemist|physicist|mathematician|student|intern|freelancer|entrepreneur"
)
_FACTS = (
    re.compile(
        rf"^my (?:best |older |younger |little |big |eldest |youngest |new |old )?(?:{_PEOPLE})(?:'s name)?"
        r"(?:'s| is| are| was| lives| works| likes| loves| hates| can't| cannot| doesn't)\b"
    ),
    re.compile(
        r"^(?:i'm|i am|im) (?:a |an )?(?:vegetarian|vegan|pescatarian|allergic to|lactose intolerant|gluten"
        r"|diabetic|coeliac|celiac|\d+ years old|married|divorced|engaged|pregnant|retired|left handed|from "
        rf"|originally from|(?:a |an )?(?:\w+ ){{0,2}}(?:{_JOBS})\b)"
    ),
    re.compile(
        r"^i (?:really |also |absolutely )?(?:like|love|hate|prefer|enjoy|can't stand|don't like|do not like"
        r"|don't eat|do not eat|can't eat|never eat|don't drink|live|work|grew up|was born|study|play|speak"
        r"|have (?:a|an|\d+) (?!headache|cold|question|problem|meeting|idea|feeling|bad|lot|few|bit|couple))\b"
        r"(?! (?:you|it|this|that|myself|my life|everything|everyone|being alive|to die)\b)"
    ),
    re.compile(r"^(?:call me|my name is|my name's|people call me) "),
    re.compile(
        r"^(?:i've got|i have got|i've) (?:a|an|\d+) (?:dog|cat|pet|son|daughter|brother|sister|kids?"
        r"|children|\w+ named)"
    ),
)
_PREAMBLE = re.compile(
    r"^(?:(?:so|well|oh|and|also|by the way|actually|just so you know|fyi|um|uh|okay|ok|hey|hi"
    r"|you know|anyway|btw)\s+)+"
)
_EXPLICIT = re.compile(
    r"^(?:please |okay |ok )?(?:remember|don't forget|do not forget|keep in mind|note) (?:that )?"
    r"(?!to |when |how |what |why |where |who |me |this$|that$|it$)(?P<fact>.+)$"
)


def fact_in(text: str) -> tuple[str, bool] | None:
    """The fact worth remembering in an utterance, and whether the user asked for it explicitly."""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = _PREAMBLE.sub("", normal(sentence))
        if match := _EXPLICIT.match(words):
            start = len(sentence) - len(match["fact"]) if sentence.lower().endswith(match["fact"]) else None
            return (sentence[start:] if start else match["fact"]).strip(" .!?"), True
        if any(pattern.match(words) for pattern in _FACTS):
            return sentence.strip(" .!?"), False
    return None
