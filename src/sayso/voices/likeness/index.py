"""Nearest protected voices to a query: exact search, or a FAISS HNSW graph once the registry is large.

Why HNSW rather than IVF: voice embeddings fill their 256 dimensions (many voices score 0.8
with many others), so an IVF index had to scan a quarter of its cells to reach 0.99 recall at
100k voices (its latency then grows with the registry), where HNSW reached 0.999 at ~0.2 ms.
The price is build time (every vector is inserted into the graph: minutes for a million on two
cores; additions after that are incremental) and no in-place deletion: a removed voice is a
tombstone, filtered from results, until the registry rebuilds the graph. ``bench/registry.py``
measures it.

Vectors are unit length and scored by inner product (= cosine). Under ``EXACT_BELOW`` entries,
or without FAISS, search is one matrix product in NumPy: exact, and fast enough there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

EXACT_BELOW = 50_000
"""Below this many entries an exact scan is as fast as the index and needs no training."""
GRAPH_LINKS = 24
BUILD_BREADTH = 48
SEARCH_BREADTH = 256
"""HNSW parameters: links per node, and candidate list sizes when inserting and searching.
A breadth of 256 was needed for 0.99 recall of the exact top 10 on voice-like data."""


def _faiss() -> Any:
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency; the exact path still works
        return None
    # One query at a time gains nothing from OpenMP, and on a busy CPU waking its threads cost
    # 10-25 ms per query here; building raises the thread count for its own duration.
    faiss.omp_set_num_threads(1)
    return faiss


class VectorIndex:
    """Inner-product search over int64-keyed unit vectors."""

    def __init__(self, dim: int, ids: np.ndarray, vectors: np.ndarray, exact_below: int | None = None) -> None:
        self.dim = dim
        self._ids = np.asarray(ids, dtype=np.int64)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        self._faiss_index: Any = None
        self._removed: set[int] = set()
        faiss = _faiss()
        if faiss is not None and len(self._ids) >= (EXACT_BELOW if exact_below is None else exact_below):
            self._faiss_index = _build_hnsw(faiss, dim, self._ids, self._vectors)
            self._vectors = np.zeros((0, dim), dtype=np.float32)  # the index holds them; do not keep two copies
            self._ids = np.zeros(0, dtype=np.int64)

    @property
    def kind(self) -> str:
        """ "hnsw" or "exact"."""
        return "exact" if self._faiss_index is None else "hnsw"

    def __len__(self) -> int:
        """Entries stored, tombstones included."""
        return int(self._faiss_index.ntotal) if self._faiss_index is not None else len(self._ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add entries (ids must be new)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if self._faiss_index is not None:
            self._faiss_index.add_with_ids(vectors, ids)
        else:
            self._ids = np.concatenate([self._ids, ids])
            self._vectors = np.concatenate([self._vectors, vectors])

    def remove(self, ids: np.ndarray) -> None:
        """Drop entries by id (unknown ids are ignored)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._faiss_index is not None:
            self._removed.update(int(i) for i in ids)  # HNSW cannot delete: filtered at search
        else:
            keep = ~np.isin(self._ids, ids)
            self._ids, self._vectors = self._ids[keep], self._vectors[keep]

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best (ids, scores) for one query vector, best first (fewer if the index is smaller)."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if self._faiss_index is not None:
            scores, ids = self._faiss_index.search(query, k + len(self._removed))
            found = (ids[0] >= 0) & ~np.isin(ids[0], list(self._removed))
            return ids[0][found][:k], scores[0][found][:k]
        if len(self._ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._vectors @ query[0]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return self._ids[top], scores[top]

    def save(self, path: Path) -> None:
        """Write the FAISS index to ``path`` atomically.

        An exact index has nothing to write; one with tombstones deletes the file instead, so the
        next start rebuilds the graph from the database without the removed voices.
        """
        if self._faiss_index is None or self._removed:
            path.unlink(missing_ok=True)
            return
        faiss = _faiss()
        temporary = path.with_suffix(".tmp")
        faiss.write_index(self._faiss_index, str(temporary))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """An HNSW index saved by ``save``, or None if there is none or it cannot be read."""
        faiss = _faiss()
        if faiss is None or not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None  # damaged: the caller rebuilds it from the database
        loaded = cls(dim, np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))
        loaded._faiss_index = index
        faiss.downcast_index(index.index).hnsw.efSearch = SEARCH_BREADTH
        return loaded


def _build_hnsw(faiss: Any, dim: int, ids: np.ndarray, vectors: np.ndarray) -> Any:
    graph = faiss.IndexHNSWFlat(dim, GRAPH_LINKS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = BUILD_BREADTH
    graph.hnsw.efSearch = SEARCH_BREADTH
    index = faiss.IndexIDMap2(graph)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index.add_with_ids(vectors, ids)
    finally:
        faiss.omp_set_num_threads(1)
    return index
