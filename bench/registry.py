"""Registry scale: the guard's registry query at 10k-1M protected people (latency, memory, recall).

A protected person is stored as the registry stores them: their voice plus one vector per
enrolment variant (pitch +-2 semitones, stretch x1.1 / x0.9, noise), ``VARIANTS_PER_PERSON`` = 6
entries, so 1M people is 6M entries. A query is what ``Registry.nearest(vector, CANDIDATES)``
asks of the index: ``CANDIDATES x VARIANTS_PER_PERSON`` = 60 entries, each person kept once with
their best entry (the SQLite fetch of those 60 rows that follows is not timed).

Synthetic 256-d people fitted to real Resemblyzer embeddings of the shared speech set (vctk,
librispeech, ljspeech: 172 recordings, 15 speakers, each also embedded under every enrolment
variant; cached by bench/likeness.py). A voice is the real mean plus a Gaussian with the real
recordings' PCA spectrum (the tail 172 recordings cannot estimate is floored), scaled so the
median cosine between unrelated voices matches the real one. A variant is its voice moved by the
transformation's real mean shift plus a Gaussian with the real spectrum of the shifts, scaled so
its median cosine to its voice matches the real one (0.62-0.72: a disguise moves a voice about as
far as an unrelated voice is). Queries: a sound-alike (a voice plus the real within-speaker
spread), a disguised imitation (the same, of a random variant), an unrelated voice. All are made
non-negative and unit length, like GE2E outputs; the statistics printed first compare them with
the real ones.

Per size: build time, memory of the index (RSS growth), p50/p95/p99 of single queries on one
thread, against the exact NumPy scan timed in the same run (fewer queries at large sizes); recall
of the exact top ``CANDIDATES`` people (by their best entry); of the people among them over the
sound-alike cosine (the real unrelated pairs' 99th percentile, FMR 1 %); the largest error of a
returned score against the exact cosine; whether the imitated person is returned. Exact answers
come from one batched scan. The machine is shared: timings are noisy, p99 most of all.
Then, per size, the registry-size policy against the fixed threshold (``scale_policy.py``):
false flags per held-out unrelated voice and imitations still caught, and the probes' cost.

    nice -n 19 .venv/bin/python bench/registry.py      # 10k, 100k, 1M people (~15 min quiet; 1M peaks at ~10 GB)
    nice -n 19 .venv/bin/python bench/registry.py --people 100000 --queries 100
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from _common import recordings  # isort: skip
from likeness import FOLDERS, voiceprints  # isort: skip
from scale_policy import compare, synthetic_calibration, tail_check  # isort: skip
from sayso.voices.embedding import LazyEmbedder, ResemblyzerEmbedder, unit
from sayso.voices.likeness import load_calibration
from sayso.voices.likeness.calibration import Calibration
from sayso.voices.likeness.guard import CANDIDATES
from sayso.voices.likeness.index import VectorIndex
from sayso.voices.likeness.registry import VARIANTS_PER_PERSON as VARIANTS
from sayso.voices.likeness.variants import ENROLMENT_VARIANTS

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


class Fitted:
    """People with the mean and covariance spectrum of real embeddings (see the module docstring)."""

    def __init__(
        self, rng: np.random.Generator, real: np.ndarray, speakers: np.ndarray, variants: dict[str, np.ndarray]
    ) -> None:
        self.rng = rng
        self.mean = real.mean(axis=0)
        self.between = spread_axes(real - self.mean)
        own_means = {s: real[speakers == s].mean(axis=0) for s in set(speakers)}
        within = real - np.stack([own_means[s] for s in speakers])
        spread, axes = np.linalg.eigh(within.T @ within / (len(real) - len(own_means)))
        self.within = (axes * np.sqrt(np.maximum(spread, 0))).T.astype(np.float32)
        target = real_statistics(real, speakers)
        self.between_scale = fit_scale(lambda s: median_unrelated(self._sample(1500, s)), target["unrelated"][1])
        probe = self._sample(1500, self.between_scale)
        self.within_scale = fit_scale(lambda s: median_alike(probe, self._imitate(probe, s)), target["own"][1])
        # A variant is its voice moved by the transformation: the real shift common to every voice
        # plus a voice's own part (Gaussian, the real spectrum), scaled to the real median cosine.
        self.shifts: list[tuple[np.ndarray, np.ndarray, float]] = []
        for shifted in variants.values():
            moved = shifted - real  # rows of a transformation with no speech left are NaN
            moved = moved[~np.isnan(moved).any(axis=1)]
            common, axes = moved.mean(axis=0), spread_axes(moved - moved.mean(axis=0))
            wanted = median_alike(real, shifted)
            scale = fit_scale(lambda s: median_alike(probe, self._shift(probe, common, axes, s)), wanted)  # noqa: B023
            self.shifts.append((common, axes, scale))

    def _sample(self, n: int, scale: float) -> np.ndarray:
        rng = self.rng
        return non_negative_units(n, lambda size: self.mean + scale * rng.standard_normal((size, DIM)) @ self.between)

    def _imitate(self, protected: np.ndarray, scale: float) -> np.ndarray:
        return unit(np.maximum(protected + scale * self.rng.standard_normal(protected.shape) @ self.within, 0))

    def _shift(self, voices: np.ndarray, common: np.ndarray, axes: np.ndarray, scale: float) -> np.ndarray:
        moved = common + self.rng.standard_normal(voices.shape) @ axes
        return unit(np.maximum(voices + scale * moved, 0))

    def voices(self, n: int) -> np.ndarray:
        """``n`` unrelated voices."""
        return self._sample(n, self.between_scale)

    def people(self, n: int) -> np.ndarray:
        """``n`` people as the registry stores them: rows ``p * VARIANTS + j`` are person p's voice (j = 0)
        and its disguised variants."""
        out = np.empty((n, VARIANTS, DIM), dtype=np.float32)
        for start in range(0, n, CHUNK):
            size = min(CHUNK, n - start)
            out[start : start + size, 0] = self.voices(size)
            for j, (common, axes, scale) in enumerate(self.shifts, start=1):
                out[start : start + size, j] = self._shift(out[start : start + size, 0], common, axes, scale)
        return out.reshape(n * VARIANTS, DIM)

    def sound_alikes(self, protected: np.ndarray) -> np.ndarray:
        """One imitation of each protected vector."""
        return self._imitate(protected, self.within_scale)


def spread_axes(centred: np.ndarray) -> np.ndarray:
    """Rows that turn N(0, I) samples into the spectrum of ``centred``; the tail that ~170 real
    vectors cannot estimate is floored at the median of ranks 100-170."""
    spread, axes = np.linalg.eigh(np.cov(centred.T))
    floor = float(np.median(np.sort(spread)[::-1][100 : len(centred) - 1]))
    return (axes * np.sqrt(np.maximum(spread, floor))).T.astype(np.float32)


def median_unrelated(vectors: np.ndarray) -> float:
    """Median cosine between different vectors of the set."""
    upper = np.triu_indices(len(vectors), 1)
    return float(np.median((vectors @ vectors.T)[upper]))


def median_alike(protected: np.ndarray, alike: np.ndarray) -> float:
    """Median cosine of each imitation to its protected voice."""
    return float(np.nanmedian(np.sum(protected * alike, axis=1)))


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


def resemblance(population: Fitted, real: np.ndarray, speakers: np.ndarray, variants: dict[str, np.ndarray]) -> None:
    """Print the synthetic set's statistics beside the real ones, voices first, then each variant."""
    target = real_statistics(real, speakers)
    describe(f"real ({len(real)} recordings)", target["unrelated"], target["own"], real)
    sample = population.voices(2000)
    upper = np.triu_indices(len(sample), 1)
    unrelated = np.percentile((sample @ sample.T)[upper], [1, 50, 99])
    own = np.percentile(np.sum(sample * population.sound_alikes(sample), axis=1), [1, 50, 99])
    describe("synthetic", unrelated, own, sample)
    people = population.people(600).reshape(600, VARIANTS, DIM)
    print("  variant                    cosine to its voice p50, real / synthetic | unrelated same-variant p50")
    for j, (label, shifted) in enumerate(variants.items(), start=1):
        kept = ~np.isnan(shifted).any(axis=1)
        real_cos = np.median(np.sum(real[kept] * shifted[kept], axis=1))
        other = (speakers[kept][:, None] != speakers[kept][None, :])[np.triu_indices(int(kept.sum()), 1)]
        real_unrelated = np.median((shifted[kept] @ shifted[kept].T)[np.triu_indices(int(kept.sum()), 1)][other])
        print(
            f"  {label:<26} {real_cos:.2f} / {median_alike(people[:, 0], people[:, j]):.2f}"
            f"                              | {real_unrelated:.2f} / {median_unrelated(people[:, j]):.2f}"
        )


def real_embeddings() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Resemblyzer vectors of the shared speech set, their speakers, and per enrolment variant the
    vectors of the same recordings transformed (NaN rows: no speech left); embedded once, then cached."""
    recs = [r for folder in FOLDERS for r in recordings(folder)]
    embedder = LazyEmbedder(ResemblyzerEmbedder)
    clean = voiceprints(embedder, recs)  # type: ignore[arg-type]
    kept = [p is not None for _, p in clean]
    variants = {}
    for label in ENROLMENT_VARIANTS:
        rows = [p for (_, p), keep in zip(voiceprints(embedder, recs, label), kept, strict=True) if keep]  # type: ignore[arg-type]
        variants[label] = np.stack([np.full(DIM, np.nan) if p is None else p.vector for p in rows])
    real = np.stack([p.vector for _, p in clean if p is not None]).astype(np.float64)
    return real, np.array([s for (s, p) in clean if p is not None]), variants


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory in MB (``VmHWM``: its peak so far)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> str:
    """p50 (median), p95 and p99 in milliseconds."""
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return f"p50/p95/p99 {p50:6.2f} {p95:6.2f} {p99:6.2f} ms"


def guard_query(index: VectorIndex, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``Registry.nearest(query, CANDIDATES)`` asks of the index: ``CANDIDATES x VARIANTS`` entries,
    each person kept once with their first (best) entry. Returns (people, entries, scores) best first."""
    keys, scores = index.search(query, CANDIDATES * VARIANTS)
    people, first = np.unique(keys // VARIANTS, return_index=True)  # keys are p * VARIANTS + j here
    order = np.sort(first)[:CANDIDATES]
    return keys[order] // VARIANTS, keys[order], scores[order]


def exact_truth(entries: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact search in batches: per query the top ``CANDIDATES`` people by their best entry's cosine,
    that entry, and its cosine (what an exact ``guard_query`` returns)."""
    people = len(entries) // VARIANTS
    best_people = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    best_entries = np.zeros((len(queries), 0), dtype=np.int64)
    step = 20_000
    for start in range(0, people, step):
        block = entries[start * VARIANTS : min(people, start + step) * VARIANTS] @ queries.T
        block = block.reshape(-1, VARIANTS, len(queries))
        variant = block.argmax(axis=1)  # (people in block, queries)
        score = np.take_along_axis(block, variant[:, None, :], axis=1)[:, 0].T
        person = np.arange(start, start + len(variant))
        best_people = np.concatenate([best_people, np.broadcast_to(person, score.shape)], axis=1)
        best_entries = np.concatenate([best_entries, person * VARIANTS + variant.T], axis=1)
        best_scores = np.concatenate([best_scores, score], axis=1)
        top = np.argsort(-best_scores, axis=1)[:, :CANDIDATES]
        best_people, best_entries, best_scores = (
            np.take_along_axis(a, top, axis=1) for a in (best_people, best_entries, best_scores)
        )
    return best_people, best_entries, best_scores


def timed(
    index: VectorIndex, queries: np.ndarray
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], list[float], list[float]]:
    """Each query's ``guard_query`` answer, its seconds, and the CPU seconds of this thread (the work
    itself: on a shared machine the wall clock's tail is mostly waiting for a core)."""
    found, seconds, cpu = [], [], []
    for query in queries:
        started, started_cpu = time.perf_counter(), time.thread_time()
        found.append(guard_query(index, query))
        seconds.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return found, seconds, cpu


def query_sets(
    population: Fitted, entries: np.ndarray, people: int, n: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Queries by kind, with the person each imitates (-1: nobody)."""
    rng = population.rng
    alike, disguised = rng.integers(0, people, n), rng.integers(0, people, n)
    variant = rng.integers(1, VARIANTS, n)
    return {
        "sound-alike": (population.sound_alikes(entries[alike * VARIANTS]), alike),
        "disguised": (population.sound_alikes(entries[disguised * VARIANTS + variant]), disguised),
        "unrelated": (population.voices(n), np.full(n, -1)),
    }


def run(
    people: int, population: Fitted, args: argparse.Namespace, alike_cosine: float, calibration: Calibration
) -> None:
    """Build the index over ``people`` protected people and print latency, recall, memory and the policy's figures."""
    queries = args.queries
    run_started = time.perf_counter()
    entries = population.people(people)
    ids = np.arange(len(entries), dtype=np.int64)
    sets = query_sets(population, entries, people, queries)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = VectorIndex(DIM, ids, entries)  # as the registry builds it: exact below EXACT_BELOW entries
    build = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before
    cells, scanned = index.cells
    shape = f"{cells} cells, {scanned} scanned per query" if cells else "one matrix product"
    print(
        f"\n{people:,} people ({len(entries):,} entries): {index.kind} build {build:.1f} s ({shape}), "
        f"index memory ~{memory:.0f} MB (the float32 entries alone: {entries.nbytes / 2**20:.0f} MB)"
    )
    exact = VectorIndex(DIM, ids, entries, exact_below=len(entries) + 1)
    for label, (batch, imitated) in sets.items():
        truth_people, truth_entries, truth_scores = exact_truth(entries, batch)
        found, seconds, cpu = timed(index, batch)
        _, exact_seconds, _ = timed(exact, batch[: max(10, queries * 10_000 // people)])
        recall = np.mean([len(set(f[0]) & set(t)) / CANDIDATES for f, t in zip(found, truth_people, strict=True)])
        over = [set(t[s >= alike_cosine]) for t, s in zip(truth_people, truth_scores, strict=True)]
        caught = sum(len(o & set(f[0])) for o, f in zip(over, found, strict=True)) / max(1, sum(map(len, over)))
        errors = score_errors(entries, batch, found)
        cpu_ms = np.percentile(np.asarray(cpu) * 1000, [50, 99])
        line = (
            f"  {label:<11} {percentiles(seconds)} (thread CPU p50/p99 {cpu_ms[0]:.2f} {cpu_ms[1]:.2f}) | "
            f"exact {percentiles(exact_seconds)} (n={len(exact_seconds)}) | "
            f"people@{CANDIDATES} {recall:.4f} | over cos {alike_cosine:.2f}: {caught:.4f} of {sum(map(len, over))}"
            f" | score error max {errors.max():.4f}"
        )
        if label != "unrelated":
            returned = np.mean([p in set(f[0]) for p, f in zip(imitated, found, strict=True)])
            line += f" | imitated person found {returned:.4f}"
        print(line)
        if people >= 1_000_000:
            p99 = float(np.percentile(seconds, 99) * 1000)
            verdict = "met" if p99 <= TARGET_P99_MS and recall >= TARGET_RECALL else "MISSED"
            print(
                f"  target p99 <= {TARGET_P99_MS:.0f} ms, recall >= {TARGET_RECALL} at 1M people ({label}): {verdict}"
                f" (wall p99 {p99:.1f} ms, thread CPU p99 {cpu_ms[1]:.1f} ms, recall {recall:.4f})"
            )
    del exact
    compare(index, entries, people, VARIANTS, population, calibration, guard_query, args.unrelated, args.imitations)
    print(
        f"  {people:,} people done in {time.perf_counter() - run_started:.0f} s; peak memory {rss_mb('VmHWM'):.0f} MB"
    )


def score_errors(
    entries: np.ndarray, queries: np.ndarray, found: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> np.ndarray:
    """|returned score - exact cosine| of every returned entry."""
    return np.concatenate(
        [np.abs(entries[f[1]] @ q - f[2]) for q, f in zip(queries, found, strict=True)] + [np.zeros(1)]
    )


def main() -> None:
    """Print the resemblance statistics, then the figures per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--unrelated", type=int, default=2000, help="held-out unrelated voices per size (policy)")
    parser.add_argument("--imitations", type=int, default=300, help="held-out imitations per kind (policy)")
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(7)
    real, speakers, variants = real_embeddings()
    population = Fitted(rng, real, speakers, variants)
    print(f"faiss {faiss.__version__}; builds use every core, single queries one thread; the machine is shared")
    resemblance(population, real, speakers, variants)
    alike_cosine = float(real_statistics(real, speakers)["unrelated"][2])
    print("the tail model on the shipped calibration's real impostor scores (Resemblyzer, segment scores):")
    tail_check(load_calibration(None))
    calibration = synthetic_calibration(population)
    print(
        f"synthetic calibration (raw cosine): sound-alike {calibration.sound_alike:.3f} at FMR "
        f"{calibration.sound_alike_fmr:.4f}, same person {calibration.same_person:.3f}, EER {calibration.eer:.4f}"
    )
    for people in args.people:
        run(people, population, args, alike_cosine, calibration)
        gc.collect()


if __name__ == "__main__":
    main()
