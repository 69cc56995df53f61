"""The likeness vector index on its own: FAISS inverted file against exact search, tombstones, files."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from sayso.voices.embedding import unit
from sayso.voices.likeness import index as index_module
from sayso.voices.likeness.index import VectorIndex, cells_for


def clustered_voices(n: int, seed: int = 0, types: int = 40) -> np.ndarray:
    """Non-negative unit vectors around a few voice types: structured, as real voice embeddings are."""
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.normal(size=(types, 256)))
    return unit(np.maximum(centres[rng.integers(0, types, n)] + 0.5 * rng.normal(size=(n, 256)), 0))


def imitations(vectors: np.ndarray, seed: int = 1) -> np.ndarray:
    return unit(vectors + 0.03 * np.random.default_rng(seed).normal(size=vectors.shape))


def test_a_search_that_scans_few_cells_still_agrees_with_exact_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "SCANNED_AT_LEAST", 0)  # only the PROBED_SHARE of cells: the pruning is tested
    vectors = clustered_voices(6000)
    ids = np.arange(6000) * 7 + 3  # ids need not be positions
    exact = VectorIndex(256, ids, vectors, exact_below=10**9)
    cells = VectorIndex(256, ids, vectors, exact_below=0)
    assert (exact.kind, cells.kind) == ("exact", "ivf")
    queries = imitations(vectors[:60])
    found = [cells.search(q, 10) for q in queries]
    truth = [exact.search(q, 10) for q in queries]
    recall = np.mean([len(set(f[0]) & set(t[0])) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95
    assert all(f[0][0] == i for f, i in zip(found, ids[:60], strict=True))  # the imitated voice comes first
    assert all(np.all(np.diff(f[1]) <= 0) for f in found)  # best first
    # scores are re-ranked on fp16 copies: within 1e-3 of the exact cosines
    assert all(np.allclose(f[1], vectors[(f[0] - 3) // 7] @ q, atol=1e-3) for f, q in zip(found, queries, strict=True))


def test_removed_voices_are_never_returned_and_not_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = clustered_voices(800, seed=2)
    index = VectorIndex(256, np.arange(800), vectors, exact_below=0)
    path = tmp_path / "index.faiss"
    index.save(path)
    loaded = VectorIndex.load(path, 256)
    assert loaded is not None and loaded.kind == "ivf" and len(loaded) == 800
    assert loaded.search(vectors[5], 1)[0][0] == 5
    loaded.remove(np.array([5, 9999]))  # an unknown id is ignored
    found, _ = loaded.search(vectors[5], 10)
    assert 5 not in found and len(found) == 10
    assert not loaded.save(path)  # a tombstone cannot be written: the older file stays for the registry's log replay
    reread = VectorIndex.load(path, 256)
    assert reread is not None and len(reread) == 800 and reread.search(vectors[5], 1)[0][0] == 5
    monkeypatch.setattr(index_module, "MAX_TOMBSTONES", 1)
    loaded.remove(np.array([6]))  # more tombstones than a search should skip: the file goes, the next start rebuilds
    assert loaded.tombstones == 3 and not loaded.save(path) and not path.exists()


def test_added_voices_are_found_and_a_grown_index_asks_for_a_rebuild(tmp_path: Path) -> None:
    vectors = clustered_voices(1200, seed=3)
    index = VectorIndex(256, np.arange(200), vectors[:200], exact_below=0)
    assert not index.outgrown
    index.add(np.arange(200, 1200), vectors[200:])
    assert len(index) == 1200 and index.search(vectors[1100], 1)[0][0] == 1100
    assert cells_for(1200) > 2 * cells_for(200) and index.outgrown  # cells sized for 200 do not suit 1200
    path = tmp_path / "index.faiss"
    path.write_bytes(b"old")
    index.save(path)
    assert not path.exists()


def test_unreadable_or_foreign_index_files_are_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "index.faiss"
    path.write_bytes(b"not an index")
    assert VectorIndex.load(path, 256) is None
    graph = faiss.IndexIDMap2(faiss.IndexHNSWFlat(256, 8, faiss.METRIC_INNER_PRODUCT))  # an older version's kind
    graph.add_with_ids(clustered_voices(20).astype(np.float32), np.arange(20, dtype=np.int64))
    faiss.write_index(graph, str(path))
    assert VectorIndex.load(path, 256) is None
    VectorIndex(128, np.arange(100), unit(np.ones((100, 128))), exact_below=0).save(path)
    assert VectorIndex.load(path, 256) is None  # another dimension


def test_an_index_saved_by_the_ivf_sq8_version_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    vectors = clustered_voices(800, seed=5).astype(np.float32)
    coarse = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(256), 256, 8, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT, False
    )
    old = faiss.IndexIDMap(faiss.IndexRefineFlat(coarse))  # float copies of every vector: 4x the memory
    old.train(vectors)
    old.add_with_ids(vectors, np.arange(800, dtype=np.int64))
    path = tmp_path / "index.faiss"
    faiss.write_index(old, str(path))
    assert VectorIndex.load(path, 256) is None
    VectorIndex(256, np.arange(800), vectors, exact_below=0).save(path)
    assert VectorIndex.load(path, 256) is not None  # while the current kind is trusted


def test_a_disguised_voice_is_found_through_its_variant_not_its_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    # The registry's layout: each person is their voice plus variants that lie far from it (a pitch
    # shift moves a real voice to cosine ~0.6 of itself); a disguised query sits near one variant.
    monkeypatch.setattr(index_module, "SCANNED_AT_LEAST", 0)
    rng = np.random.default_rng(6)
    people, variants = 1500, 3
    voices = clustered_voices(people, seed=6)
    shifts = rng.normal(size=(variants - 1, 256))  # each transformation moves every voice its own way
    entries = np.stack([voices] + [unit(voices + unit(s) + 0.04 * rng.normal(size=voices.shape)) for s in shifts], 1)
    entries = entries.reshape(-1, 256)
    assert np.median(np.sum(entries[1::variants] * entries[::variants], axis=1)) < 0.8  # variants far from the voice
    index = VectorIndex(256, np.arange(len(entries)), entries, exact_below=0)
    assert index.kind == "ivf"
    wanted = rng.integers(0, people, 40) * variants + rng.integers(1, variants, 40)
    disguised = imitations(entries[wanted], seed=7)
    found = [index.search(q, 10 * variants)[0] for q in disguised]
    assert all(f[0] == w for f, w in zip(found, wanted, strict=True))  # the variant imitated comes first
    truth = [np.argsort(-(entries @ q))[: 10 * variants] for q in disguised]
    recall = np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


def test_without_faiss_search_is_exact_at_any_size(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(index_module, "_faiss", lambda: None)
    vectors = clustered_voices(300, seed=4)
    index = VectorIndex(256, np.arange(300), vectors, exact_below=0)
    assert index.kind == "exact"
    scores = vectors @ vectors[17]
    found, best = index.search(vectors[17], 5)
    assert list(found) == list(np.argsort(-scores)[:5]) and np.allclose(best, np.sort(scores)[::-1][:5])
    index.remove(np.array([17]))
    assert 17 not in index.search(vectors[17], 5)[0] and len(index) == 299
    index.save(tmp_path / "index.faiss")
    assert VectorIndex.load(tmp_path / "index.faiss", 256) is None


def test_an_empty_index_is_exact_and_finds_nothing() -> None:
    index = VectorIndex(256, np.zeros(0, dtype=np.int64), np.zeros((0, 256)), exact_below=0)
    assert index.kind == "exact" and index.cells == (0, 0)
    found, scores = index.search(np.ones(256), 3)
    assert len(found) == 0 and len(scores) == 0
