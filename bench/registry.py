"""Registry scale: query latency, memory and recall of the likeness vector index.

Synthetic 256-d voices at 10k-1M protected people, from one of two generators (``--data``):

- ``fitted`` (default): fitted to real Resemblyzer embeddings of the shared speech set (vctk,
  librispeech, ljspeech: 172 recordings, 15 speakers; embedded once, cached by bench/likeness.py).
  A voice is the real mean plus a Gaussian with the real recordings' PCA spectrum (the tail the
  172 recordings cannot estimate is floored), scaled so the median cosine between unrelated
  voices matches the real one; a sound-alike query is a protected voice plus the real
  within-speaker spread, scaled so its median cosine to the voice matches a real recording's to
  its speaker. Both are then made non-negative and unit length, like GE2E outputs.
- ``harsh``: the older generator, abs-normal voice types plus 0.6 N(0, 1) noise in all 256
  dimensions (far less structured than real voices), sound-alike = voice + 0.035 N(0, 1).

The statistics printed first show how the synthetic set compares with the real one. Per size:
build time, memory, and for sound-alike and unrelated queries the index's p50/p95/p99 against the
exact NumPy scan timed in the same run, recall of exact search's top k, and (sound-alikes)
whether the protected voice itself is returned. The machine is shared: timings are noisy.

    nice -n 5 .venv/bin/python bench/registry.py                          # both generators, 10k-1M
    nice -n 5 .venv/bin/python bench/registry.py --data fitted --sizes 100000
    nice -n 5 .venv/bin/python bench/registry.py --k 60    # what the guard fetches: 10 people x 6 variants
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from _common import recordings  # isort: skip
from likeness import FOLDERS, voiceprints  # isort: skip
from sayso.voices.embedding import LazyEmbedder, ResemblyzerEmbedder, unit
from sayso.voices.likeness.index import VectorIndex

DIM = 256
TARGET_P99_MS, TARGET_RECALL = 20.0, 0.99
CHUNK = 100_000
"""Voices are made this many at a time: 1M at once would need several GB of temporaries."""


def non_negative_units(n: int, make: Callable[[int], np.ndarray]) -> np.ndarray:
    """``n`` vectors from ``make(size)``, clipped at zero and scaled to unit length (as GE2E's are)."""
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        out[start : start + size] = unit(np.maximum(make(size), 0))
    return out


class Harsh:
    """The older generator: clustered voice types with isotropic noise in every dimension."""

    name = "harsh"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.centres = np.abs(rng.standard_normal((2048, DIM), dtype=np.float32))

    def voices(self, n: int) -> np.ndarray:
        """``n`` unrelated voices."""
        rng = self.rng
        return non_negative_units(
            n, lambda size: self.centres[rng.integers(0, 2048, size)] + 0.6 * rng.standard_normal((size, DIM))
        )

    def sound_alikes(self, protected: np.ndarray) -> np.ndarray:
        """One imitation of each protected voice."""
        return unit(np.maximum(protected + 0.035 * self.rng.standard_normal(protected.shape), 0))


class Fitted:
    """Voices with the mean and covariance spectrum of real embeddings (see the module docstring)."""

    name = "fitted"

    def __init__(self, rng: np.random.Generator, real: np.ndarray, speakers: np.ndarray) -> None:
        self.rng = rng
        self.mean = real.mean(axis=0)
        spread, axes = np.linalg.eigh(np.cov((real - self.mean).T))
        # 172 recordings estimate at most 171 directions; the rest get the median of ranks 100-171.
        floor = float(np.median(np.sort(spread)[::-1][100 : len(real) - 1]))
        self.between = (axes * np.sqrt(np.maximum(spread, floor))).T.astype(np.float32)
        own_means = {s: real[speakers == s].mean(axis=0) for s in set(speakers)}
        within = real - np.stack([own_means[s] for s in speakers])
        spread, axes = np.linalg.eigh(within.T @ within / (len(real) - len(own_means)))
        self.within = (axes * np.sqrt(np.maximum(spread, 0))).T.astype(np.float32)
        target = real_statistics(real, speakers)
        self.between_scale = fit_scale(lambda s: median_unrelated(self._sample(1500, s)), target["unrelated"][1])
        probe = self._sample(1500, self.between_scale)
        self.within_scale = fit_scale(lambda s: median_alike(probe, self._imitate(probe, s)), target["own"][1])

    def _sample(self, n: int, scale: float) -> np.ndarray:
        rng = self.rng
        return non_negative_units(n, lambda size: self.mean + scale * rng.standard_normal((size, DIM)) @ self.between)

    def _imitate(self, protected: np.ndarray, scale: float) -> np.ndarray:
        return unit(np.maximum(protected + scale * self.rng.standard_normal(protected.shape) @ self.within, 0))

    def voices(self, n: int) -> np.ndarray:
        """``n`` unrelated voices."""
        return self._sample(n, self.between_scale)

    def sound_alikes(self, protected: np.ndarray) -> np.ndarray:
        """One imitation of each protected voice."""
        return self._imitate(protected, self.within_scale)


def median_unrelated(vectors: np.ndarray) -> float:
    """Median cosine between different vectors of the set."""
    upper = np.triu_indices(len(vectors), 1)
    return float(np.median((vectors @ vectors.T)[upper]))


def median_alike(protected: np.ndarray, alike: np.ndarray) -> float:
    """Median cosine of each imitation to its protected voice."""
    return float(np.median(np.sum(protected * alike, axis=1)))


def fit_scale(median_at: Callable[[float], float], target: float) -> float:
    """The scale at which ``median_at`` (falling as the scale grows) meets ``target``, by bisection."""
    low, high = 0.05, 8.0
    for _ in range(14):
        middle = (low + high) / 2
        low, high = (middle, high) if median_at(middle) > target else (low, middle)
    return (low + high) / 2


def real_statistics(vectors: np.ndarray, speakers: np.ndarray) -> dict[str, np.ndarray]:
    """Cosine percentiles (1, 50, 99) between different speakers' recordings and of each recording to its speaker."""
    cosines = vectors @ vectors.T
    upper = np.triu_indices(len(vectors), 1)
    other = (speakers[:, None] != speakers[None, :])[upper]
    means = {s: unit(vectors[speakers == s].mean(axis=0)) for s in set(speakers)}
    own = np.sum(vectors * np.stack([means[s] for s in speakers]), axis=1)
    return {"unrelated": np.percentile(cosines[upper][other], [1, 50, 99]), "own": np.percentile(own, [1, 50, 99])}


def describe(label: str, unrelated: np.ndarray, own: np.ndarray, vectors: np.ndarray) -> None:
    """One line of statistics: cosine percentiles, share of zeros, effective dimensions."""
    spread = np.linalg.eigvalsh(np.cov((vectors - vectors.mean(axis=0)).T))
    effective = spread.sum() ** 2 / np.sum(spread**2)  # participation ratio: ~how many dimensions carry variance
    print(
        f"  {label:<26} unrelated cos p1/p50/p99 {_triple(unrelated)} | to own voice {_triple(own)} | "
        f"zeros {np.mean(vectors == 0):.2f} | effective dims {effective:.0f}"
    )


def _triple(values: np.ndarray) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def resemblance(population: Harsh | Fitted) -> None:
    """Print the synthetic set's statistics, to set against the real ones."""
    sample = population.voices(2000)
    upper = np.triu_indices(len(sample), 1)
    unrelated = np.percentile((sample @ sample.T)[upper], [1, 50, 99])
    own = np.percentile(np.sum(sample * population.sound_alikes(sample), axis=1), [1, 50, 99])
    describe(f"synthetic {population.name}", unrelated, own, sample)


def real_embeddings() -> tuple[np.ndarray, np.ndarray]:
    """Resemblyzer vectors of the shared speech set and their speakers (embedded once, then cached)."""
    recs = [r for folder in FOLDERS for r in recordings(folder)]
    rows = [(s, p) for s, p in voiceprints(LazyEmbedder(ResemblyzerEmbedder), recs) if p is not None]  # type: ignore[arg-type]
    return np.stack([p.vector for _, p in rows]).astype(np.float64), np.array([s for s, _ in rows])


def rss_mb() -> float:
    """This process's resident memory in MB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> str:
    """p50 (median), p95 and p99 in milliseconds."""
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return f"p50/p95/p99 {p50:6.2f} {p95:6.2f} {p99:6.2f} ms"


def timed_searches(index: VectorIndex, queries: np.ndarray, k: int) -> tuple[list[np.ndarray], list[float]]:
    """Each query's ids, and each search's seconds."""
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(index.search(query, k)[0])
        seconds.append(time.perf_counter() - started)
    return found, seconds


def run(n: int, population: Harsh | Fitted, queries: int, k: int) -> None:
    """Build both indexes over ``n`` voices and print latency, recall and memory."""
    vectors = population.voices(n)
    ids = np.arange(n, dtype=np.int64)
    picked = population.rng.integers(0, n, queries)
    alike = population.sound_alikes(vectors[picked])
    exact = VectorIndex(DIM, ids, vectors, exact_below=n + 1)
    before = rss_mb()
    started = time.perf_counter()
    index = VectorIndex(DIM, ids, vectors.copy())  # as the registry builds it: exact below EXACT_BELOW
    build = time.perf_counter() - started
    gc.collect()
    cells, scanned = index.cells
    shape = f"{cells} cells, {scanned} scanned per query" if cells else "one matrix product"
    print(
        f"\n{population.name} {n:,} voices: {index.kind} build {build:.1f} s ({shape}), "
        f"index memory ~{rss_mb() - before:.0f} MB "
        f"(vectors alone {vectors.nbytes / 2**20:.0f} MB), sound-alike cosine to the protected voice "
        f"{median_alike(vectors[picked], alike):.2f}"
    )
    for label, batch in (("sound-alike", alike), ("unrelated", population.voices(queries))):
        truth, exact_seconds = timed_searches(exact, batch, k)
        found, seconds = timed_searches(index, batch, k)
        recall = np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
        first = np.mean([len(f) > 0 and f[0] == t[0] for f, t in zip(found, truth, strict=True)])
        protected = np.mean([p in set(f) for p, f in zip(picked, found, strict=True)])
        ratio = np.median(exact_seconds) / np.median(seconds)
        print(
            f"  {label:<12} {index.kind} {percentiles(seconds)} | exact {percentiles(exact_seconds)} | "
            f"median x{ratio:.0f} faster | recall@{k} {recall:.4f} @1 {first:.4f}"
            + (f" | protected voice in top {k} {protected:.4f}" if label == "sound-alike" else "")
        )
        p99 = float(np.percentile(seconds, 99) * 1000)
        if n >= 1_000_000:
            verdict = "met" if p99 <= TARGET_P99_MS and recall >= TARGET_RECALL else "MISSED"
            print(f"  target p99 <= {TARGET_P99_MS:.0f} ms, recall >= {TARGET_RECALL} at 1M ({label}): {verdict}")


def main() -> None:
    """Print the resemblance statistics, then the figures per generator and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("fitted", "harsh"), nargs="+", default=["fitted", "harsh"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(7)
    real, speakers = real_embeddings()
    populations = {"fitted": lambda: Fitted(rng, real, speakers), "harsh": lambda: Harsh(rng)}
    print(f"faiss {faiss.__version__}; builds use every core, single queries one thread; the machine is shared")
    chosen = [populations[name]() for name in args.data]
    target = real_statistics(real, speakers)
    describe(f"real ({len(real)} recordings)", target["unrelated"], target["own"], real)
    for population in chosen:
        resemblance(population)
    for population in chosen:
        for n in args.sizes:
            run(n, population, args.queries, args.k)
            gc.collect()


if __name__ == "__main__":
    main()
