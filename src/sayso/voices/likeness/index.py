"""Nearest protected voices to a query: exact search, or a FAISS inverted-file index once the registry is large.

The registry stores each person as up to 6 entries (their voice and 5 disguised variants) and the
guard asks for 60 (10 people x 6), so a million people is 6M entries. The index: k-means splits
the entries into ~sqrt(n) cells; each entry is kept twice, as a 64-byte fast-scan product
quantizer code (128 4-bit codes of its residual to its cell, scanned with SIMD table lookups) and
as an fp16 copy. A query scans the codes of the 1/12 of cells nearest to it, keeps the best
``RERANKED`` x k, and re-scores those on the fp16 copies: returned scores are within ~1e-4 of the
true cosine (the guard re-scores the float32 vectors from the database anyway).

``bench/registry.py`` at 1M people (6M entries fitted to real Resemblyzer embeddings and to the
real spread of their disguised variants), the guard's query on one thread: build ~3 min,
memory ~3.6 GB (fp16 copies 2.9 GB, codes 0.4 GB, ids), p50 5.5-6.5 ms, p99 under 10 ms of CPU
(the wall clock's tail depends on what else runs); recall of the exact top 10 people 0.998
(sound-alikes), 0.994 (disguised: an imitation of a variant), 0.998 (unrelated voices).
Rejected there, with the same layout: the IVF-SQ8 scan with float32 re-ranking this replaced
(7.7 GB, and scanning 1/12 of 6M 8-bit vectors is ~130 MB a query); 32-byte codes (4 dimensions
per code: recall 0.96 disguised at 64 x k candidates, 0.994 only at 256 x k, p50 ~8.5 ms); 8-bit
copies for re-ranking (score error up to 0.007, recall stuck at 0.98 at 100k people); and one
entry per person (a pitch-shifted or stretched voice sits at cosine 0.6-0.7 of the person's
voice on the shared speech set, as far as an unrelated voice, so a disguised query finds the
variant, not the voice). The HNSW graph used first took 21 min to build at 1M single vectors.

Additions are cheap (each vector is coded into its nearest cell), but the cells are those of
the build: once the registry has grown far past what they were sized for, ``save`` drops the
file so the next start rebuilds. A removed voice is a tombstone, filtered from results until
that rebuild (an index with tombstones is not written: the registry replays removals over the
last file written). Vectors are unit length and scored by inner product (= cosine). Under
``EXACT_BELOW`` entries, or without FAISS, search is one matrix product in NumPy: exact.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

EXACT_BELOW = 50_000
"""Below this many entries an exact scan is as fast as the index and needs no training."""
CELLS_PER_ROOT = 1
"""Cells (k-means centroids) per square root of the entry count: 2,449 at 6M entries. Scanning codes
is cheap, so cells are few and large: assigning 6M entries to 9,800 cells took ~10 min to build."""
PROBED_SHARE = 12
"""A query scans 1/12 of the cells. At 1M people, recall of disguised queries' top 10 people was
0.985 scanning 1/25, 0.995 at 1/12."""
SCANNED_AT_LEAST = 100_000
"""...and at least the cells holding this many entries: smaller registries need a larger share for
the same recall (at 100k people, with 32-byte codes, disguised recall was 0.977 scanning 1/12, 0.986 at 1/6), and
scanning 100k codes costs ~1 ms."""
RERANKED = 64
"""The code scan keeps ``RERANKED`` x k candidates, re-scored on the fp16 copies. 4-bit codes rank
the dense neighbourhood of a voice roughly: at 1M people 64 x k did as well as 256 x k with these
codes, while half as many codes (32 bytes) needed 256 x k for recall 0.99 (0.96 at 32 x k)."""
MAX_TOMBSTONES = 1000
"""Removed entries an index may carry across a restart before the file is dropped for a rebuild."""
DIMS_PER_CODE = 2
"""Dimensions per 4-bit code of the product quantizer: 128 codes, 64 bytes an entry."""
TRAIN_PER_CELL = 40
"""k-means sample size per cell (FAISS warns below 39); training on a sample keeps a 1M build in minutes."""


def _faiss() -> Any:
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency; the exact path still works
        return None
    return faiss


@contextmanager
def _omp_threads(faiss: Any, count: int) -> Iterator[None]:
    """OpenMP at ``count`` threads on this thread for the block, then back to what it was.

    The setting is not FAISS's own: torch shares the OpenMP runtime, so leaving it at one thread
    after a search ran every later CAM++ and Resemblyzer forward pass of the guard on one thread.
    """
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


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
            with _omp_threads(_faiss(), 1):
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
            # One query scans its cells on one thread anyway (FAISS parallelises across queries), and
            # on a busy CPU waking OpenMP threads cost 10-25 ms per query here.
            with _omp_threads(_faiss(), 1):
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

    @property
    def tombstones(self) -> int:
        """Removed entries still inside the FAISS index (filtered from results until a rebuild)."""
        return len(self._removed)

    def save(self, path: Path) -> bool:
        """Write the FAISS index to ``path`` atomically; whether it was written.

        An exact index has nothing to write and an outgrown one should be rebuilt: both delete
        the file, so the next start rebuilds it, as does one with over ``MAX_TOMBSTONES``
        (each search asks FAISS for that many more results). One with fewer tombstones cannot be written (the
        removed entries would come back) and leaves the file as it was: the registry replays
        its change log, removals included, over the older file.
        """
        if self._faiss_index is None or self.outgrown or len(self._removed) > MAX_TOMBSTONES:
            path.unlink(missing_ok=True)
            return False
        if self._removed:
            return False
        faiss = _faiss()
        # Unique per writer: two processes saving at once must not write into one temporary file.
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        faiss.write_index(self._faiss_index, str(temporary))
        temporary.replace(path)
        return True

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
        if not _current_kind(faiss, index) or index.d != dim:
            return None  # e.g. an older version's HNSW graph or IVF-SQ8: rebuilt rather than trusted
        loaded = cls(dim, np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))
        loaded._faiss_index = index
        faiss.downcast_index(index.index).k_factor = RERANKED
        coarse = faiss.extract_index_ivf(index)
        coarse.nprobe = _probed(int(coarse.nlist), int(index.ntotal))
        return loaded


def _current_kind(faiss: Any, index: Any) -> bool:
    """Whether ``index`` is what ``_build_ivf`` makes: ids over fast-scan codes re-ranked on fp16 copies."""
    if not isinstance(index, faiss.IndexIDMap):
        return False
    refined = faiss.downcast_index(index.index)
    if type(refined) is not faiss.IndexRefine:  # IndexRefineFlat (exact copies, the IVF-SQ8 version) is a subclass
        return False
    kept = faiss.downcast_index(refined.refine_index)
    return (
        isinstance(faiss.downcast_index(refined.base_index), faiss.IndexIVFPQFastScan)
        and isinstance(kept, faiss.IndexScalarQuantizer)
        and kept.sq.qtype == faiss.ScalarQuantizer.QT_fp16
    )


def _probed(cells: int, entries: int) -> int:
    wanted = max(cells // PROBED_SHARE, math.ceil(cells * SCANNED_AT_LEAST / max(entries, 1)))
    return max(1, min(cells, wanted))


def _build_ivf(faiss: Any, dim: int, ids: np.ndarray, vectors: np.ndarray) -> Any:
    cells = cells_for(len(ids))
    # 4-bit product-quantizer codes of each vector's residual to its cell, scanned with SIMD lookups.
    coarse = faiss.IndexIVFPQFastScan(
        faiss.IndexFlatIP(dim), dim, cells, dim // DIMS_PER_CODE, 4, faiss.METRIC_INNER_PRODUCT
    )
    coarse.cp.niter = 10  # k-means converges enough for search in 10 rounds; the default 25 doubles the build
    kept = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    refined = faiss.IndexRefine(coarse, kept)
    refined.k_factor = RERANKED
    index = faiss.IndexIDMap(refined)
    sample = np.random.default_rng(0).choice(len(ids), min(len(ids), cells * TRAIN_PER_CELL), replace=False)
    with _omp_threads(faiss, os.cpu_count() or 1):
        index.train(vectors[np.sort(sample)])
        index.add_with_ids(vectors, ids)
    coarse.nprobe = _probed(cells, len(ids))
    return index
