"""Registry scale: query latency, memory and recall of the likeness vector index.

Synthetic 256-d voices shaped like GE2E embeddings (non-negative, clustered around voice types,
so unrelated voices already score ~0.5-0.7). Two kinds of query: a sound-alike of a protected
voice (a stored vector plus noise, cosine ~0.85 to it) and an unrelated new voice. Recall is the
share of exact search's top 10 the index returns (and, for sound-alikes, whether the protected
voice itself is found). The exact NumPy scan is the baseline, timed in the same run.

    .venv/bin/python bench/registry.py                      # 10k, 100k, 1M
    .venv/bin/python bench/registry.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

import _common  # noqa: F401  (puts the repository on the path)
from sayso.voices.likeness.index import VectorIndex

DIM = 256
TYPES = 2048


def voices(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """``n`` unit vectors around random voice types, non-negative like GE2E outputs."""
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in chunks: 1M at once would need several GB of temporaries
        size = min(100_000, n - start)
        chunk = centres[rng.integers(0, len(centres), size)] + 0.6 * rng.standard_normal((size, DIM), dtype=np.float32)
        np.maximum(chunk, 0, out=chunk)
        out[start : start + size] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):6.2f} ms  p99 {np.percentile(ms, 99):6.2f} ms"


def run(n: int, queries: int, rng: np.random.Generator, centres: np.ndarray) -> None:
    vectors = voices(n, rng, centres)
    ids = np.arange(n, dtype=np.int64)
    picked = rng.integers(0, n, queries)
    noisy = vectors[picked] + 0.035 * rng.standard_normal((queries, DIM), dtype=np.float32)
    alike = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    unrelated = voices(queries, rng, centres)
    exact = VectorIndex(DIM, ids, vectors, exact_below=n + 1)
    before = rss_mb()
    started = time.perf_counter()
    index = VectorIndex(DIM, ids, vectors.copy(), exact_below=0)
    build = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before
    print(
        f"\n{n:,} voices: HNSW build {build:.1f} s, index memory ~{memory:.0f} MB "
        f"(vectors alone {vectors.nbytes / 2**20:.0f} MB), cosine to the protected voice "
        f"{float(np.mean(np.sum(alike * vectors[picked], axis=1))):.2f}"
    )
    for label, batch in (("sound-alike", alike), ("unrelated", unrelated)):
        times: dict[str, list[float]] = {"exact": [], "hnsw": []}
        recall, first, found_self = [], [], []
        for i, query in enumerate(batch):  # noqa: B007 (i indexes picked)
            results = {}
            for name, idx in (("exact", exact), ("hnsw", index)):
                started = time.perf_counter()
                results[name] = idx.search(query, 10)[0]
                times[name].append(time.perf_counter() - started)
            recall.append(len(set(results["hnsw"]) & set(results["exact"])) / len(results["exact"]))
            first.append(len(results["hnsw"]) > 0 and results["hnsw"][0] == results["exact"][0])
            found_self.append(picked[i] in set(results["hnsw"]))
        ratio = np.percentile(times["exact"], 50) / np.percentile(times["hnsw"], 50)
        extra = f"  protected voice in top 10 {np.mean(found_self):.3f}" if label == "sound-alike" else ""
        print(
            f"  {label:<12} hnsw {percentiles(times['hnsw'])} | exact {percentiles(times['exact'])} | "
            f"hnsw x{ratio:.0f} faster | recall@10 {np.mean(recall):.4f} @1 {np.mean(first):.4f}{extra}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(7)
    centres = np.abs(rng.standard_normal((TYPES, DIM), dtype=np.float32))
    print(
        f"faiss {faiss.__version__}; builds use every core, single queries one thread, k=10; "
        "the machine is shared, so timings are noisy"
    )
    for n in args.sizes:
        run(n, args.queries, rng, centres)
        gc.collect()


if __name__ == "__main__":
    main()
