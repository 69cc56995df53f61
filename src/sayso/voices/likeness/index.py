"""Nearest protected voices to a query: exact search, or a FAISS inverted-file index once the registry is large.

The index (IVF-SQ8 with exact re-ranking): k-means splits the vectors into ~4 sqrt(n) cells; a
query scans, in 8-bit codes, the vectors of the 1/12 of cells nearest to it, and the best
``RERANKED`` x k of those are re-scored exactly on the full float vectors, so returned scores are
true cosines. It works because voice embeddings are structured: on the shared speech set 95 % of
the variance of Resemblyzer vectors lies in 50 of the 256 dimensions, so a query's neighbours sit
in the cells nearest to it.

Why not the HNSW graph used before: at a million voices on the shared 2-core machine it took
21 min to build and answered in 125 ms at p99 with 0.90-0.94 recall@10 (M=24, efSearch=256,
harsh generator).
``bench/registry.py`` at 1M (voices fitted to real embeddings / the older, harsher generator),
one query on one thread: build ~1 min (2 min at a load of ~5 on the 2 shared cores); p50 4-5 ms,
p99 7-14 ms (k=60 under that load, scanning 1/16: once 21 ms), the exact scan p50 82-101 ms; recall of
the exact top 10 0.999 / 1.000, top 60 ~0.993; every sound-alike's protected voice returned.
Timings are noisy: the machine is shared with other jobs.
Plain IVF-Flat had the same recall at 1.4-2x the latency (it reads 4x the bytes per query).

Additions are cheap (each vector is coded into its nearest cell), but the cells are those of
the build: once the registry has grown far past what they were sized for, ``save`` drops the
file so the next start rebuilds. A removed voice is a tombstone, filtered from results until
that rebuild. Vectors are unit length and scored by inner product (= cosine). Under
``EXACT_BELOW`` entries, or without FAISS, search is one matrix product in NumPy: exact.
Memory at 1M is ~1.3 GB: the float vectors for re-ranking plus the 8-bit codes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

EXACT_BELOW = 50_000
"""Below this many entries an exact scan is as fast as the index and needs no training."""
CELLS_PER_ROOT = 4
"""Cells (k-means centroids) per square root of the entry count: 4,000 cells at a million."""
PROBED_SHARE = 12
"""A query scans 1/12 of the cells. At 1M on voice-like data, recall of the exact top 60 (what the
guard fetches: 10 people x 6 variants) was 0.988 scanning 1/16, 0.993 at 1/12 (+30 % latency);
recall@10 was 0.978 at 1/32."""
SCANNED_AT_LEAST = 20_000
"""...and at least the cells holding this many vectors: smaller registries need a larger share for
the same recall (IVF-Flat scanning 1/16 gave 0.983 at 100k), and scanning 20k vectors costs ~1 ms."""
RERANKED = 4
"""The 8-bit scan keeps ``RERANKED`` x k candidates, re-scored exactly on the full vectors."""
TRAIN_PER_CELL = 40
"""k-means sample size per cell (FAISS warns below 39); training on a sample keeps a 1M build in minutes."""


def _faiss() -> Any:
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency; the exact path still works
        return None
    # One query scans its cells on one thread anyway (FAISS parallelises across queries), and on a
    # busy CPU waking OpenMP threads cost 10-25 ms per query here; building raises the count itself.
    faiss.omp_set_num_threads(1)
    return faiss


def cells_for(entries: int) -> int:
    """How many cells an index of ``entries`` vectors is built with (at least one)."""
    return max(1, min(round(CELLS_PER_ROOT * math.sqrt(entries)), entries // TRAIN_PER_CELL))


class VectorIndex:
    """Inner-product search over int64-keyed unit vectors."""

    def __init__(self, dim: int, ids: np.ndarray, vectors: np.ndarray, exact_below: int | None = None) -> None:
        self.dim = dim
        self._ids = np.asarray(ids, dtype=np.int64)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        self._faiss_index: Any = None
        self._removed: set[int] = set()
        faiss = _faiss()
        threshold = max(1, EXACT_BELOW if exact_below is None else exact_below)  # k-means needs vectors
        if faiss is not None and len(self._ids) >= threshold:
            self._faiss_index = _build_ivf(faiss, dim, self._ids, self._vectors)
            self._vectors = np.zeros((0, dim), dtype=np.float32)  # the index holds them; do not keep two copies
            self._ids = np.zeros(0, dtype=np.int64)

    @property
    def kind(self) -> str:
        """ "ivf" or "exact"."""
        return "exact" if self._faiss_index is None else "ivf"

    def __len__(self) -> int:
        """Entries stored, tombstones included."""
        return int(self._faiss_index.ntotal) if self._faiss_index is not None else len(self._ids)

    @property
    def cells(self) -> tuple[int, int]:
        """(cells, cells scanned per query) of the FAISS index; (0, 0) for exact search."""
        if self._faiss_index is None:
            return (0, 0)
        coarse = _faiss().extract_index_ivf(self._faiss_index)
        return int(coarse.nlist), int(coarse.nprobe)

    @property
    def outgrown(self) -> bool:
        """True when the index holds far more entries than its cells were sized for (rebuild it)."""
        return self._faiss_index is not None and cells_for(len(self)) > 2 * self.cells[0]

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
            self._removed.update(int(i) for i in ids)  # a tombstone: filtered at search, gone at the rebuild
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

        An exact index has nothing to write; one with tombstones, or outgrown, deletes the file
        instead, so the next start rebuilds it from the database (without the removed voices).
        """
        if self._faiss_index is None or self._removed or self.outgrown:
            path.unlink(missing_ok=True)
            return
        faiss = _faiss()
        temporary = path.with_suffix(".tmp")
        faiss.write_index(self._faiss_index, str(temporary))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """An index saved by ``save``, or None if there is none, it cannot be read or is of another kind."""
        faiss = _faiss()
        if faiss is None or not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            return None  # damaged: the caller rebuilds it from the database
        coarse = faiss.try_extract_index_ivf(index)
        if coarse is None or not isinstance(index, faiss.IndexIDMap) or index.d != dim:
            return None  # e.g. the HNSW graph of an older version: rebuilt rather than trusted
        loaded = cls(dim, np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))
        loaded._faiss_index = index
        coarse.nprobe = _probed(int(coarse.nlist), int(index.ntotal))
        return loaded


def _probed(cells: int, entries: int) -> int:
    wanted = max(cells // PROBED_SHARE, math.ceil(cells * SCANNED_AT_LEAST / max(entries, 1)))
    return max(1, min(cells, wanted))


def _build_ivf(faiss: Any, dim: int, ids: np.ndarray, vectors: np.ndarray) -> Any:
    cells = cells_for(len(ids))
    # by_residual=False: each code is the vector itself, so one trained 8-bit grid serves every cell.
    coarse = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dim), dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT, False
    )
    coarse.cp.niter = 10  # k-means converges enough for search in 10 rounds; the default 25 doubles the build
    refined = faiss.IndexRefineFlat(coarse)
    refined.k_factor = RERANKED
    index = faiss.IndexIDMap(refined)
    sample = np.random.default_rng(0).choice(len(ids), min(len(ids), cells * TRAIN_PER_CELL), replace=False)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index.train(vectors[np.sort(sample)])
        index.add_with_ids(vectors, ids)
    finally:
        faiss.omp_set_num_threads(1)
    coarse.nprobe = _probed(cells, len(ids))
    return index
