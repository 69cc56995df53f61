"""The protected registry and its vector index (no speech model needed: vectors are made up)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from sayso.errors import AlreadyProtected, UnknownProtectedPerson
from sayso.store.db import Database
from sayso.voices.embedding import FUSED, RESEMBLYZER, joined, part, unit
from sayso.voices.likeness.registry import DOMAIN, MIGRATIONS, Registry


def voices(n: int, seed: int = 0, dim: int = 256) -> np.ndarray:
    return unit(np.abs(np.random.default_rng(seed).normal(size=(n, dim))))


def open_registry(home: Path) -> Registry:
    return Registry(Database(home / "sayso.db"), home / "likeness")


def test_protect_list_find_and_remove(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    vectors = voices(3)
    for name, vector in zip(("Ada", "Bo", "Cy"), vectors, strict=True):
        registry.protect(name, {"voice": vector}, files=2, speech_seconds=9.5)
    assert [p.name for p in registry.people()] == ["Ada", "Bo", "Cy"]
    (best, stored), *_ = registry.nearest(vectors[1], 3)
    assert best.name == "Bo" and np.allclose(stored, vectors[1])
    removed = registry.remove(best.id)  # by id works as well as by name
    assert removed.name == "Bo"
    assert "Bo" not in [p.name for p, _ in registry.nearest(vectors[1], 3)]
    with pytest.raises(UnknownProtectedPerson, match="sayso likeness list"):
        registry.remove("Bo")


def test_a_taken_name_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    registry.protect("Ada", {"voice": voices(1)[0]}, 1, 5.0)
    with pytest.raises(AlreadyProtected, match="already protected"):
        registry.protect(" Ada ", {"voice": voices(1, seed=1)[0]}, 1, 5.0)
    assert len(registry.people()) == 1 and len(registry.index) == 1


def test_a_person_is_found_through_any_of_their_variants(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    voice, disguised, other = voices(3, seed=5)
    registry.protect("Ada", {"voice": voice, "pitch +2 st": disguised}, 1, 5.0)
    registry.protect("Bo", {"voice": other}, 1, 5.0)
    found = registry.nearest(disguised, 2)
    assert [p.name for p, _ in found] == ["Ada", "Bo"]  # each person once, however many variants match
    assert np.allclose(found[0][1], disguised)  # with the variant that matched best
    registry.remove("Ada")
    assert [p.name for p, _ in registry.nearest(disguised, 2)] == ["Bo"]


def test_the_registry_survives_a_restart_and_a_damaged_index(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    vectors = voices(5)
    for i, vector in enumerate(vectors):
        registry.protect(f"p{i}", {"voice": vector}, 1, 3.0)
    registry.db.close()
    assert open_registry(tmp_path).nearest(vectors[3], 1)[0][0].name == "p3"
    (tmp_path / "likeness" / "index.changes").write_text("garbage")
    assert open_registry(tmp_path).nearest(vectors[4], 1)[0][0].name == "p4"


def test_a_rebuilt_index_reads_every_stored_vector_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = open_registry(tmp_path)
    vectors = voices(7, seed=3)
    for i, vector in enumerate(vectors):
        registry.protect(f"p{i}", {"voice": vector, "pitch+2": vectors[(i + 1) % 7] * 0.5 + vector}, 1, 3.0)
    registry.db.close()
    (tmp_path / "likeness" / "index.changes").write_text("stale")
    monkeypatch.setattr("sayso.voices.likeness.registry.READ_CHUNK", 3)  # 14 rows: five reads
    reopened = open_registry(tmp_path)
    assert len(reopened.index) == 14
    assert [reopened.nearest(v, 1)[0][0].name for v in vectors] == [f"p{i}" for i in range(7)]


def test_a_large_registry_uses_the_faiss_index_and_persists_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sayso.voices.likeness.index.EXACT_BELOW", 100)
    db = Database(tmp_path / "sayso.db")
    Registry(db, tmp_path / "likeness")  # creates the tables
    vectors = voices(150, seed=2)
    with db.transaction() as conn:  # bulk insert, as an import would
        for i, vector in enumerate(vectors):
            conn.execute(
                "INSERT INTO likeness_people (id, name, files, speech_seconds, vector) VALUES (?, ?, 1, 3.0, ?)",
                (f"id{i}", f"p{i}", vector.tobytes()),
            )
        conn.execute(
            "INSERT INTO likeness_vectors (person, variant, vector) SELECT key, 'voice', vector FROM likeness_people"
        )
    reopened = Registry(db, tmp_path / "likeness")
    assert reopened.index.kind == "ivf"
    assert (tmp_path / "likeness" / "index.faiss").exists()
    assert reopened.nearest(vectors[42], 1)[0][0].name == "p42"
    reopened.remove("p42")  # a tombstone: filtered now; the index is not written with it
    assert reopened.nearest(vectors[42], 1)[0][0].name != "p42"
    assert (tmp_path / "likeness" / "index.changes").read_text().strip() == "150"  # the file from before the removal
    later = Registry(db, tmp_path / "likeness")  # loads that file and replays the removal from the log
    assert later.index.kind == "ivf" and later.index.tombstones == 1
    assert later.nearest(vectors[42], 1)[0][0].name != "p42"


def _protect_and_remove(registry: Registry, worker: str, rounds: int, seed: int) -> list[str]:
    """A writer: protects ``rounds`` people, removes every third again, searches between; returns
    the names it left protected."""
    vectors = voices(rounds, seed=seed)
    kept = []
    for i, vector in enumerate(vectors):
        name = f"{worker}-{i}"
        registry.protect(name, {"voice": vector, "pitch +2 st": unit(vector + 0.1)}, 1, 5.0)
        registry.nearest(vector, 3)
        if i % 3 == 2:
            registry.remove(name)
        else:
            kept.append(name)
    return kept


def _protect_and_remove_in_process(home: str, worker: str, rounds: int, seed: int) -> list[str]:
    return _protect_and_remove(open_registry(Path(home)), worker, rounds, seed)


def _protect_in_another_process(home: Path, name: str, vector: np.ndarray) -> None:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as the CLI would be
    process = context.Process(target=_protect_one, args=(str(home), name, vector))
    process.start()
    process.join(60)
    assert process.exitcode == 0


def _protect_one(home: str, name: str, vector: np.ndarray) -> None:
    open_registry(Path(home)).protect(name, {"voice": vector}, 1, 5.0)


def _seen_within(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_running_registry_sees_another_process_protect_and_remove(tmp_path: Path) -> None:
    running = open_registry(tmp_path)
    running.protect("Ada", {"voice": voices(1, seed=8)[0]}, 1, 5.0)
    zed = voices(1, seed=9)[0]
    assert running.nearest(zed, 1)[0][0].name == "Ada"
    _protect_in_another_process(tmp_path, "Zed", zed)
    # The other process has committed: the running registry must see Zed within a second, unrestarted.
    assert _seen_within(lambda: running.nearest(zed, 1)[0][0].name == "Zed" and len(running) == 2, 1.0)
    open_registry(tmp_path).remove("Zed")  # another connection, as the CLI's
    # The index itself follows, not only the rows read through it.
    assert _seen_within(lambda: len(running) == 1 and len(running.index) == 1, 1.0)
    assert running.nearest(zed, 1)[0][0].name == "Ada"


def test_concurrent_protect_remove_and_check_lose_nothing(tmp_path: Path) -> None:
    shared = open_registry(tmp_path)  # one registry for the threads, as a server's; the tables exist before the race
    context = multiprocessing.get_context("spawn")
    rounds = 12
    with context.Pool(2) as processes, ThreadPoolExecutor(2) as threads:
        work = _protect_and_remove_in_process
        jobs = [processes.apply_async(work, (str(tmp_path), f"proc{i}", rounds, 10 + i)) for i in range(2)]
        local = [threads.submit(_protect_and_remove, shared, f"thread{i}", rounds, 20 + i) for i in range(2)]
        kept = {name for job in jobs for name in job.get(120)} | {name for job in local for name in job.result()}
    assert len(kept) == 4 * rounds * 2 // 3
    shared.refresh(force=True)
    assert {p.name for p, _ in shared.nearest(voices(1, seed=10)[0], 1)} == {"proc0-0"}  # the processes' work seen
    registry = open_registry(tmp_path)  # loads whatever index was saved and replays the log
    assert {p.name for p in registry.people()} == kept and len(registry) == len(kept)
    stored = registry.db.query(
        "SELECT v.vector, p.name FROM likeness_vectors v JOIN likeness_people p ON p.key = v.person"
    )
    assert len(stored) == 2 * len(kept)  # each person's voice and variant, nothing more, nothing less
    for row in stored:  # the index and the database agree: every stored vector finds its person...
        assert registry.nearest(np.frombuffer(row["vector"], dtype=np.float32), 1)[0][0].name == row["name"]
    for index in (registry.index, shared.index):  # ...and holds no removed one (exact search at this size)
        assert len(index) == len(stored)


def test_entries_keep_the_encoder_that_made_them_across_the_schema_change(tmp_path: Path) -> None:
    db = Database(tmp_path / "sayso.db")
    db.migrate(DOMAIN, MIGRATIONS[:2])  # a registry written before encoders were recorded
    old = voices(1, seed=4)[0]
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO likeness_people (id, name, files, speech_seconds, vector) VALUES ('old1', 'Old', 3, 9.0, ?)",
            (old.tobytes(),),
        )
        conn.execute(
            "INSERT INTO likeness_vectors (person, variant, vector) SELECT key, 'voice', vector FROM likeness_people"
        )
    registry = Registry(db, tmp_path / "likeness")
    fused = joined([voices(1, seed=5)[0], voices(1, seed=6, dim=192)[0]])
    registry.protect("New", {"voice": fused}, 3, 9.0, FUSED)
    assert [(p.name, p.encoder) for p in registry.people()] == [("Old", RESEMBLYZER), ("New", FUSED)]
    found = {person.name: vector for person, vector in registry.nearest(old, 2)}
    assert np.allclose(found["Old"], old) and np.allclose(found["New"], fused)  # each whole, as made
    # The index searches the Resemblyzer part, which both have: the new entry is found by its own.
    assert registry.nearest(part(fused, FUSED, RESEMBLYZER), 1)[0][0].name == "New"


def test_the_change_log_is_pruned_and_a_reader_left_behind_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sayso.voices.likeness.registry.KEPT_CHANGES", 4)
    writer, reader = open_registry(tmp_path), open_registry(tmp_path)
    vectors = voices(8, seed=12)
    reader.protect("Ada", {"voice": vectors[0]}, 1, 5.0)
    assert reader.nearest(vectors[0], 1)[0][0].name == "Ada"  # the reader is in step at change 1
    for i, vector in enumerate(vectors[1:], start=1):  # 2 vectors each: 14 more changes
        writer.protect(f"p{i}", {"voice": vector, "pitch +2 st": unit(vector + 0.2)}, 1, 5.0)
    writer.remove("p3")
    logged = [row["seq"] for row in writer.db.query("SELECT seq FROM likeness_changes ORDER BY seq")]
    assert logged == [14, 15, 16, 17]  # the last KEPT_CHANGES changes only, the head among them
    # The reader missed changes 2-13, which are gone from the log: it must rebuild, not lose them.
    reader.refresh(force=True)
    assert reader.synced_change == 17 and len(reader.index) == 13
    assert reader.nearest(vectors[5], 1)[0][0].name == "p5"
    assert "p3" not in [p.name for p, _ in reader.nearest(vectors[3], 8)]
    # A new process starts from the vectors as well.
    assert len(open_registry(tmp_path).index) == 13
