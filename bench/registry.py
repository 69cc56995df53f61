"""Registry scale: the guard's registry query at 10k-1M protected people (latency, memory, recall).

A protected person is stored as the registry stores them: their voice plus one vector per
enrolment variant (pitch +-2 semitones, stretch x1.1 / x0.9, noise), ``VARIANTS_PER_PERSON`` = 6
entries, so 1M people is 6M entries. A query is what ``Registry.nearest(vector, CANDIDATES)``
asks of the index: ``CANDIDATES x VARIANTS_PER_PERSON`` = 60 entries, each person kept once with
their best entry (the SQLite fetch of those 60 rows that follows is not timed).

Synthetic people fitted to real embeddings of the shared speech set: ``--encoder`` picks the
geometry, the shipped fused one (Resemblyzer + CAM++, 448-d) or Resemblyzer alone (256-d, its
half of the same voiceprints). The real ones are bench/likeness.py's voiceprints (cached there:
run it first): 362 recordings of 80 speakers, the enrolment recordings also under every
enrolment variant. A voice is the real mean plus a Gaussian with the real
recordings' PCA spectrum (the tail the recordings cannot estimate is floored), scaled so the
median cosine between unrelated voices matches the real one. A variant is its voice moved by the
transformation's real mean shift plus a Gaussian with the real spectrum of the shifts, scaled so
its median cosine to its voice matches the real one (0.62-0.72: a disguise moves a voice about as
far as an unrelated voice is). Queries: a sound-alike (a voice plus the real within-speaker
spread), a disguised imitation (the same, of a random variant), an unrelated voice. The Resemblyzer part is
made non-negative (GE2E outputs are) and each part unit length, as the encoders make them; the
statistics printed first compare them with the real ones.

As in the registry, the index holds each entry's Resemblyzer part; the guard re-scores the
candidates it returns on the whole vector (``guard_check``), so with the fused geometry the
policy's figures are fused cosines of candidates found by their Resemblyzer part.

Per size: build time, memory of the index (RSS growth), p50/p95/p99 of single queries on one
thread, against the exact NumPy scan timed in the same run (fewer queries at large sizes); recall
of the exact top ``CANDIDATES`` people (by their best entry); of the people among them over the
sound-alike cosine (the real unrelated pairs' 99th percentile, FMR 1 %); the largest error of a
returned score against the exact cosine; whether the imitated person is returned. Exact answers
come from one batched scan. The machine is shared: timings are noisy, p99 most of all.
Then, per size, the registry-size policy against the fixed threshold (``scale_policy.py``):
false flags per held-out unrelated voice and imitations still caught, and the probes' cost.

    nice -n 19 .venv/bin/python bench/registry.py      # fused, 10k, 100k, 1M people (1M needs ~20 GB)
    nice -n 19 .venv/bin/python bench/registry.py --encoder resemblyzer --people 100000 --queries 100
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from likeness import load_prints, real_recordings  # isort: skip
from scale_policy import Query, compare, synthetic_calibration, tail_check  # isort: skip
from sayso.voices.embedding import (
    FUSED,
    RESEMBLYZER,
    FusedEmbedder,
    LazyEmbedder,
    dim_of,
    joined,
    layout,
    part,
    projected,
    unit,
)
from sayso.voices.likeness import load_calibration
from sayso.voices.likeness.calibration import Calibration
from sayso.voices.likeness.guard import CANDIDATES
from sayso.voices.likeness.index import VectorIndex
from sayso.voices.likeness.registry import VARIANTS_PER_PERSON as VARIANTS
from sayso.voices.likeness.variants import ENROLMENT_VARIANTS

INDEXED = dim_of(RESEMBLYZER)
"""The registry's index holds every entry's Resemblyzer part."""
TARGET_P99_MS, TARGET_RECALL = 20.0, 0.99
CHUNK = 100_000
"""Voices are made this many at a time: 1M at once would need several GB of temporaries."""


def shaped(raw: np.ndarray, encoder: str) -> np.ndarray:
    """Rows of ``raw`` shaped as ``encoder`` makes vectors: its Resemblyzer part clipped at zero (GE2E's
    are non-negative), each part unit length, joined as the fused encoder joins them."""
    bounds = np.cumsum([0, *(size for _, size in layout(encoder))])
    pieces = [raw[:, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    names = [name for name, _ in layout(encoder)]
    return joined([np.maximum(p, 0) if name == RESEMBLYZER else p for name, p in zip(names, pieces, strict=True)])


def indexed(vectors: np.ndarray, encoder: str) -> np.ndarray:
    """What the registry's index holds of ``encoder``'s vectors: their Resemblyzer part."""
    return vectors if encoder == RESEMBLYZER else part(vectors, encoder, RESEMBLYZER)


class Fitted:
    """People with the mean and covariance spectrum of real embeddings (see the module docstring)."""

    def __init__(
        self,
        rng: np.random.Generator,
        real: np.ndarray,
        speakers: np.ndarray,
        variants: dict[str, np.ndarray],
        encoder: str,
    ) -> None:
        self.rng = rng
        self.encoder, self.dim = encoder, real.shape[1]
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
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, CHUNK):  # 1M at once would need several GB of temporaries
            size = min(CHUNK, n - start)
            raw = self.mean + scale * self.rng.standard_normal((size, self.dim)) @ self.between
            out[start : start + size] = shaped(raw, self.encoder)
        return out

    def _imitate(self, protected: np.ndarray, scale: float) -> np.ndarray:
        return shaped(protected + scale * self.rng.standard_normal(protected.shape) @ self.within, self.encoder)

    def _shift(self, voices: np.ndarray, common: np.ndarray, axes: np.ndarray, scale: float) -> np.ndarray:
        moved = common + self.rng.standard_normal(voices.shape) @ axes
        return shaped(voices + scale * moved, self.encoder)

    def voices(self, n: int) -> np.ndarray:
        """``n`` unrelated voices."""
        return self._sample(n, self.between_scale)

    def people(self, n: int) -> np.ndarray:
        """``n`` people as the registry stores them: rows ``p * VARIANTS + j`` are person p's voice (j = 0)
        and its disguised variants."""
        out = np.empty((n, VARIANTS, self.dim), dtype=np.float32)
        for start in range(0, n, CHUNK):
            size = min(CHUNK, n - start)
            out[start : start + size, 0] = self.voices(size)
            for j, (common, axes, scale) in enumerate(self.shifts, start=1):
                out[start : start + size, j] = self._shift(out[start : start + size, 0], common, axes, scale)
        return out.reshape(n * VARIANTS, self.dim)

    def sound_alikes(self, protected: np.ndarray) -> np.ndarray:
        """One imitation of each protected vector."""
        return self._imitate(protected, self.within_scale)


def spread_axes(centred: np.ndarray) -> np.ndarray:
    """Rows that turn N(0, I) samples into the spectrum of ``centred``; the tail that ~170 real
    vectors cannot estimate is floored at the median of ranks 100-170."""
    spread, axes = np.linalg.eigh(np.cov(centred.T))
    floor = float(np.median(np.sort(spread)[::-1][100 : min(len(centred), len(spread)) - 1]))
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
    people = population.people(600).reshape(600, VARIANTS, population.dim)
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


def real_embeddings(encoder: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``encoder``'s vectors of the shared speech set (bench/likeness.py's fused voiceprints, or their
    part), their speakers, and per enrolment variant the vectors of the same recordings transformed
    (NaN rows: no variant made, or no speech left)."""
    prints, variants = load_prints(LazyEmbedder(FusedEmbedder, FUSED), real_recordings(), True)
    rows, speakers = [], []
    shifted: dict[str, list[np.ndarray]] = {label: [] for label in ENROLMENT_VARIANTS}
    missing = np.full(dim_of(encoder), np.nan)
    for speaker, own in prints.items():
        for voiceprint, made in zip(own, (variants or {})[speaker], strict=True):
            rows.append(projected(voiceprint, encoder).vector)
            speakers.append(speaker)
            for label, kept in shifted.items():
                kept.append(projected(made[label], encoder).vector if label in made else missing)
    stacked = {label: np.stack(kept) for label, kept in shifted.items()}
    return np.stack(rows).astype(np.float64), np.array(speakers), stacked


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


def guard_check(entries: np.ndarray, encoder: str) -> Query:
    """The guard's look-up for whole ``encoder`` vectors: candidates found by their Resemblyzer part
    (``guard_query``), re-scored on the whole vectors (raw cosine), best first."""

    def check(index: VectorIndex, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        people, keys, scores = guard_query(index, indexed(query, encoder))
        if encoder != RESEMBLYZER:
            scores = entries[keys] @ query
            order = np.argsort(-scores, kind="stable")
            people, keys, scores = people[order], keys[order], scores[order]
        return people, keys, scores

    return check


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
    whole = population.people(people)
    entries = indexed(whole, population.encoder)  # what the index holds; the latency and recall figures are on it
    ids = np.arange(len(entries), dtype=np.int64)
    made = query_sets(population, whole, people, queries)
    sets = {kind: (indexed(batch, population.encoder), who) for kind, (batch, who) in made.items()}
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = VectorIndex(INDEXED, ids, entries)  # as the registry builds it: exact below EXACT_BELOW entries
    build = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before
    cells, scanned = index.cells
    shape = f"{cells} cells, {scanned} scanned per query" if cells else "one matrix product"
    print(
        f"\n{people:,} people ({len(entries):,} entries): {index.kind} build {build:.1f} s ({shape}), "
        f"index memory ~{memory:.0f} MB (the float32 entries alone: {entries.nbytes / 2**20:.0f} MB)"
    )
    exact = VectorIndex(INDEXED, ids, entries, exact_below=len(entries) + 1)
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
    check = guard_check(whole, population.encoder)
    compare(index, whole, people, VARIANTS, population, calibration, check, args.unrelated, args.imitations)
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
    parser.add_argument("--encoder", choices=[FUSED, RESEMBLYZER], default=FUSED, help="the geometry of the people")
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--unrelated", type=int, default=2000, help="held-out unrelated voices per size (policy)")
    parser.add_argument("--imitations", type=int, default=300, help="held-out imitations per kind (policy)")
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(7)
    real, speakers, variants = real_embeddings(args.encoder)
    population = Fitted(rng, real, speakers, variants, args.encoder)
    print(
        f"faiss {faiss.__version__}; {args.encoder} geometry ({population.dim}-d, index on the {INDEXED}-d "
        "Resemblyzer part); builds use every core, single queries one thread; the machine is shared"
    )
    resemblance(population, real, speakers, variants)
    # The recall figures are on what the index holds: the real unrelated pairs' 99th percentile there.
    alike_cosine = float(real_statistics(indexed(real, args.encoder), speakers)["unrelated"][2])
    shipped = load_calibration(None, args.encoder)
    print(f"the tail model on the shipped calibration's real impostor scores ({shipped.encoder}, {shipped.method}):")
    tail_check(shipped)
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
