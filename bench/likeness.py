"""Likeness guard on the shared speech set: Resemblyzer, CAM++ and their fusion, on voices never heard.

Prints, for each encoder (Resemblyzer, CAM++, the fusion the guard uses):
- same-person verification on real speakers: EER and true matches at 1 % false matches;
- Mimic 3 clones (HELD OUT: nothing is tuned on them) against their real target: clone EER
  (clone of X vs X's enrolment, against real others vs X's enrolment) and clones caught at 1 %
  false matches, as counts out of 23;
- the leave-one-corpus-out table: thresholds set without a corpus, false-match rate on it;
- the per-clause cost: a 2 s clause through ``Guard.check_utterance`` with 2 torch threads,
  with two baselines measured in the same run, interleaved: the fused guard with CAM++'s eager
  frame-level layers (before they were a frozen trace) and the Resemblyzer-only guard.

    .venv/bin/python bench/likeness.py                  # everything
    .venv/bin/python bench/likeness.py --embed-only     # fill the voiceprint cache
    .venv/bin/python bench/likeness.py --calibrate DIR  # also write the calibration to ship into DIR

Every recording (real and clone) is prepared the same way before embedding, so nothing but the
voice tells clones from real speech: resampled to 16 kHz, cut to its first 8 s, and set to the
same loudness (-30 dBFS RMS). Voiceprints are cached in the temp directory, one file each.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from _common import Recording, recordings, summary  # isort: skip
from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.io import read_audio
from sayso.cli.likeness import cross_corpus_table
from sayso.errors import EmptyAudio
from sayso.voices.embedding import CAMPPLUS, FUSED, RESEMBLYZER, FusedEmbedder, SpeakerEmbedder, VoicePrint, projected
from sayso.voices.likeness import CALIBRATION_FILE, COHORT_FILE
from sayso.voices.likeness.calibration import ENROL_FILES, SOUND_ALIKE_FMR, equal_error_rate, threshold_for_fmr
from sayso.voices.likeness.evaluate import (
    calibrate_prints,
    cohort_without,
    leave_one_corpus_out,
    same_corpus,
    trial_scores,
)
from sayso.voices.likeness.scoring import Scorer
from sayso.voices.likeness.variants import ENROLMENT_VARIANTS, enrolment_vectors

if TYPE_CHECKING:
    from sayso.voices.campplus import CampplusNetwork

REAL = (
    "vctk",
    "vctk-lvcvc",
    "vctk-starganv2vc",
    "arctic",
    "ljspeech",
    "hifitts-dockervc",
    "librispeech",
    "speechocean762",
)
"""Real speech (FSDD's sub-second digits are left out: under the guard's 1 s minimum)."""
CLONES = "synthetic/mimic3"
MAX_SECONDS = 8.0
LEVEL_DBFS = -30.0
CACHE = Path(tempfile.gettempdir()) / "sayso-bench-likeness-v2"
FOLDS = {
    "vctk": ["vctk"],
    "librispeech": ["librispeech"],
    "so762": ["so762"],
    "arctic+hifitts+lj": ["arctic", "hifitts", "ljspeech"],
}
"""Leave-one-corpus-out folds: the three small corpora (1-2 speakers each) are held out together."""
ENCODERS = (RESEMBLYZER, CAMPPLUS, FUSED)
METHODS = ("segment", "snorm")
"""Mean window cosine (the method calibration picked for the fused encoder) and cohort S-norm."""
SOURCE = "shared/data/speech: real speech of 8 folders (FSDD and the Mimic 3 clones left out), first 8 s, -30 dBFS"

Prints = dict[str, list[VoicePrint]]
Variants = dict[str, list[dict[str, VoicePrint]]]


SO762_EVERY = 3
"""Every third speechocean762 speaker (34 of 100, adults and children): embedding all 400 files did
not fit in the time the CPU, shared with other work, allowed."""


def real_recordings() -> list[Recording]:
    """The real recordings used, in a fixed order."""
    found = [r for folder in REAL for r in recordings(folder)]
    so762 = sorted({r.speaker for r in found if r.speaker.startswith("so762-")})
    dropped = set(so762) - set(so762[::SO762_EVERY])
    return [r for r in found if r.speaker not in dropped]


def prepared(path: Path) -> Audio:
    """16 kHz, at most MAX_SECONDS, at LEVEL_DBFS: rate, length and level say nothing about the source."""
    audio = read_audio(path).resampled(SAMPLE_RATE)
    samples = audio.samples[: int(MAX_SECONDS * SAMPLE_RATE)].astype(np.float32)
    rms = float(np.sqrt(np.mean(np.square(samples)))) or 1.0
    return Audio(np.clip(samples * (10 ** (LEVEL_DBFS / 20) / rms), -1.0, 1.0).astype(np.float32), SAMPLE_RATE)


def cached_print(embedder: SpeakerEmbedder, path: Path, transform: str = "") -> VoicePrint | None:
    """The fused voiceprint of a prepared recording (after an enrolment variant), None if no speech; cached."""
    key = hashlib.sha1(f"{path}|{transform}|{embedder.encoder}".encode()).hexdigest()[:20]
    file = CACHE / f"{key}.pkl"
    if file.exists():
        return pickle.loads(file.read_bytes())  # type: ignore[no-any-return]
    audio = prepared(path)
    try:
        found: VoicePrint | None = embedder.voiceprint(ENROLMENT_VARIANTS[transform](audio) if transform else audio)
    except EmptyAudio:
        found = None
    CACHE.mkdir(parents=True, exist_ok=True)
    file.write_bytes(pickle.dumps(found))
    return found


def enrolment_files(recs: Sequence[Recording]) -> set[Path]:
    """The recordings that some enrolment uses (``calibration.trials``' groups): they need variants."""
    by: dict[str, list[Path]] = {}
    for rec in recs:
        by.setdefault(rec.speaker, []).append(rec.path)
    return {p for own in by.values() for p in own[: max(0, (len(own) - 1) // ENROL_FILES) * ENROL_FILES]}


def embed_all(
    embedder: SpeakerEmbedder, real: Sequence[Recording], clones: Sequence[Recording], which: str = "all"
) -> None:
    """Fill the cache: clones and real recordings, then the enrolment variants (``which``: all,
    plain or variants, so two processes can share the work)."""
    started = time.perf_counter()
    plain = [*clones, *real] if which in ("all", "plain", "plain-reversed") else []
    for count, rec in enumerate(plain[::-1] if which == "plain-reversed" else plain, 1):
        cached_print(embedder, rec.path)
        if count % 50 == 0:
            print(f"embedded {count} recordings in {time.perf_counter() - started:.0f} s", flush=True)
    wanted = enrolment_files(real)
    todo = [r for r in real if r.path in wanted] if which in ("all", "variants", "variants-reversed") else []
    for count, rec in enumerate(todo[::-1] if which == "variants-reversed" else todo, 1):
        for label in ENROLMENT_VARIANTS:
            cached_print(embedder, rec.path, label)
        if count % 20 == 0:
            print(f"variants of {count}/{len(wanted)} recordings in {time.perf_counter() - started:.0f} s", flush=True)


def load_prints(
    embedder: SpeakerEmbedder, recs: Sequence[Recording], with_variants: bool
) -> tuple[Prints, Variants | None]:
    """Voiceprints by speaker (recordings with no speech dropped), and per recording its variants."""
    prints: Prints = {}
    variants: Variants = {}
    wanted = enrolment_files(recs) if with_variants else set()
    for rec in recs:
        found = cached_print(embedder, rec.path)
        if found is None or found.speech_seconds < 1.0:
            continue
        prints.setdefault(rec.speaker, []).append(found)
        labels = ENROLMENT_VARIANTS if rec.path in wanted else {}
        own = {label: cached_print(embedder, rec.path, label) for label in labels}
        variants.setdefault(rec.speaker, []).append({k: v for k, v in own.items() if v is not None})
    return prints, (variants if with_variants else None)


def as_encoder(prints: Mapping[str, Sequence[VoicePrint]], encoder: str) -> Prints:
    """The fused voiceprints as ``encoder`` alone makes them (its part: the same windows and audio)."""
    return {s: [projected(p, encoder) for p in own] for s, own in prints.items()}


def as_encoder_variants(variants: Variants | None, encoder: str) -> Variants | None:
    if variants is None:
        return None
    return {s: [{k: projected(v, encoder) for k, v in f.items()} for f in own] for s, own in variants.items()}


def tmr_at(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> float:
    return float(np.mean(genuine >= threshold_for_fmr(impostor, fmr)))


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--embed-only",
        choices=("all", "plain", "plain-reversed", "variants", "variants-reversed"),
        help="only fill the voiceprint cache",
    )
    parser.add_argument("--calibrate", type=Path, help="write the calibration and cohort to ship into this folder")
    parser.add_argument("--no-variants", action="store_true", help="enrolments without disguised variants")
    parser.add_argument("--only", choices=("encoders", "corpora", "cost"), help="print only this part")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the per-clause cost")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1 if args.embed_only else args.threads)
    embedder = FusedEmbedder()
    real = real_recordings()
    clones = recordings(CLONES)
    if args.embed_only:
        embed_all(embedder, real, clones, args.embed_only)
        return
    prints, variants = load_prints(embedder, real, not args.no_variants)
    print(f"{sum(map(len, prints.values()))} real recordings of {len(prints)} speakers, {len(clones)} clones")
    print("machine: 2 cores shared with other work (timings are noisy)\n")
    if args.calibrate:
        calibration, _ = calibrate_prints(prints, variants, SOURCE, same_corpus)
        print(f"calibration: {calibration.save(args.calibrate / CALIBRATION_FILE)} ({calibration.method})")
        np.save(args.calibrate / COHORT_FILE, np.stack([p.vector for own in prints.values() for p in own]))
    if args.only in (None, "encoders"):
        encoders(prints, variants, {c.speaker: cached_print(embedder, c.path) for c in clones})
    if args.only in (None, "corpora"):
        print("\nleave-one-corpus-out (fused encoder, as shipped):")
        print(cross_corpus_table(leave_one_corpus_out(prints, variants, FOLDS)))
    if args.only in (None, "cost"):
        clause_cost(embedder, prints, real)


def encoders(prints: Prints, variants: Variants | None, clones: Mapping[str, VoicePrint | None]) -> None:
    """Verification and held-out clone figures for each encoder, each with its own calibrated method."""
    print(
        f"{'encoder':<22}{'method':<9}{'verif. EER':>11}{'TMR@1%FMR':>11}{'clone EER':>11}"
        f"{'caught @1% FMR':>16}{'same-corpus others: EER':>25}{'caught':>12}{'at shipped threshold':>22}"
    )
    for encoder in ENCODERS:
        own, own_variants = as_encoder(prints, encoder), as_encoder_variants(variants, encoder)
        for method in METHODS:
            genuine, impostor = trial_scores(own, method, impostors=same_corpus, variants=own_variants)
            clone, others, near = clone_scores(own, own_variants, clones, method, encoder)
            print(
                f"{encoder:<22}{method:<9}{equal_error_rate(genuine, impostor):>11.2%}"
                f"{tmr_at(genuine, impostor, SOUND_ALIKE_FMR):>11.2%}{equal_error_rate(clone, others):>11.2%}"
                f"{caught(clone, others):>16}{equal_error_rate(clone, near):>25.2%}{caught(clone, near):>12}"
                f"{shipped_caught(encoder, method, clone, clones):>22}"
            )


def caught(clone: np.ndarray, others: np.ndarray) -> str:
    """Clones scoring at or over the threshold that lets 1 % of ``others`` through, as a count."""
    count = int(np.sum(clone >= threshold_for_fmr(others, SOUND_ALIKE_FMR)))
    return f"{count}/{len(clone)} {count / len(clone):.0%}"


def clone_scores(
    prints: Prints, variants: Variants | None, clones: Mapping[str, VoicePrint | None], method: str, encoder: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each clone scored against its real target's enrolment (all the target's recordings, with variants);
    every real recording of someone else against the same enrolments (the false matches); and those of
    them from the target's own corpus (same channel: the harder false matches; all others for a corpus
    of one speaker)."""
    clone: list[float] = []
    others: list[float] = []
    near: list[float] = []
    for target, test in clones.items():
        if test is None or target not in prints:
            continue
        rows = np.stack(list(enrolment_vectors(prints[target], (variants or {}).get(target, [])).values()))
        cohort = cohort_without(prints, target)
        scorer = Scorer(method, cohort, encoder=encoder)
        stats = scorer.stats(rows)
        clone.append(float(scorer.score(rows, stats, projected(test, encoder)).max()))
        scored = {
            s: [float(scorer.score(rows, stats, p).max()) for p in own] for s, own in prints.items() if s != target
        }
        others += [x for values in scored.values() for x in values]
        mates = [x for s, values in scored.items() if same_corpus(s, target) for x in values]
        near += mates or [x for values in scored.values() for x in values]
    return np.asarray(clone, np.float32), np.asarray(others, np.float32), np.asarray(near, np.float32)


def shipped_caught(encoder: str, method: str, clone: np.ndarray, clones: Mapping[str, VoicePrint | None]) -> str:
    """Clones over the shipped sound-alike threshold, where this encoder and method are the shipped ones."""
    from sayso.voices.likeness import load_calibration

    calibration = load_calibration(None, encoder) if encoder in (FUSED, RESEMBLYZER) else None
    if calibration is None or calibration.encoder != encoder or calibration.method != method:
        return "-"
    seconds = [p.speech_seconds for p in clones.values() if p is not None]
    caught = sum(s >= calibration.thresholds_for(t)[1] for s, t in zip(clone, seconds, strict=True))
    return f"{caught}/{len(clone)} = {caught / len(clone):.0%}"


def clause_cost(embedder: FusedEmbedder, prints: Prints, real: Sequence[Recording]) -> None:
    """A 2 s clause through check_utterance: the fused guard (frozen CAM++ trace, then eager CAM++
    layers) and the Resemblyzer-only guard, interleaved."""
    from sayso.store.db import Database
    from sayso.voices.embedding import ResemblyzerEmbedder
    from sayso.voices.likeness import load_calibration, load_cohort
    from sayso.voices.likeness.guard import Guard
    from sayso.voices.likeness.registry import Registry

    guards = {}
    baseline = ResemblyzerEmbedder()
    for name, encoder, own in ((FUSED, FUSED, embedder), (RESEMBLYZER, RESEMBLYZER, baseline)):
        folder = Path(tempfile.mkdtemp(prefix="sayso-bench-guard-"))
        registry = Registry(Database(folder / "sayso.db"), folder / "likeness")
        for speaker, voiceprints in list(prints.items())[:50]:
            vector = projected(voiceprints[0], encoder).vector
            registry.protect(speaker, {"voice": vector}, 1, 5.0, encoder)
        guards[name] = Guard(registry, own, load_calibration(None, encoder), load_cohort(None, encoder))
    clauses = [Audio(prepared(r.path).samples[: 2 * SAMPLE_RATE], SAMPLE_RATE) for r in real[::25][:24]]
    network = embedder.network
    runs = {
        FUSED: (guards[FUSED], network.frames),
        f"{FUSED} (eager CAM++)": (guards[FUSED], network.eager_frames),
        RESEMBLYZER: (guards[RESEMBLYZER], network.frames),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for clause in clauses:
        for name, (guard, frames) in runs.items():
            network.frames = frames  # the same guard and network, CAM++'s frame-level layers swapped
            times[name] += timed(lambda g=guard, c=clause: g.check_utterance(c, "v"), 1)  # type: ignore[misc]
    network.frames = runs[FUSED][1]
    threads = __import__("torch").get_num_threads()  # as the checks left it (a FAISS search once left it at 1)
    print(
        f"\n2 s clause through check_utterance, 50 protected people, {threads} torch thread(s) ({len(clauses)} clauses)"
    )
    for name, values in times.items():
        print("  " + summary(name, values, 36))
    for baseline in list(runs)[1:]:
        ratio = np.median(times[FUSED]) / np.median(times[baseline])
        print(f"  ratio fused / {baseline} (medians): {ratio:.2f}")
    network_cost(network, clauses)


def network_cost(network: CampplusNetwork, clauses: Sequence[Audio]) -> None:
    """CAM++'s frame-level layers alone on each clause's features: frozen trace against eager, interleaved."""
    import torch

    times: dict[str, list[float]] = {"frozen trace": [], "eager": []}
    for clause in clauses * 3:
        frames = torch.from_numpy(network.features(clause.samples)).T[None]
        with torch.inference_mode():
            times["frozen trace"] += timed(lambda f=frames: network.frames(f), 1)  # type: ignore[misc]
            times["eager"] += timed(lambda f=frames: network.eager_frames(f), 1)  # type: ignore[misc]
    print("CAM++ frame-level layers alone, same clauses (3 passes)")
    for name, values in times.items():
        print("  " + summary(name, values, 36))
    ratios = np.array(times["frozen trace"]) / np.array(times["eager"])
    print(f"  frozen / eager, per clause: median {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
