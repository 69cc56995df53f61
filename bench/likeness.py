"""Likeness scoring on the shared speech set: raw cosine versus each improvement, and robustness.

Prints, per score method, the equal error rate and the true-match rate at 1 % false matches,
for full recordings and for short crops (length bands); then, per transformation of a
protected voice, how often it is still flagged as a sound-alike with the shipped method.

    .venv/bin/python bench/likeness.py            # vctk + librispeech + ljspeech
    .venv/bin/python bench/likeness.py --no-robustness

Voiceprints are cached in the temp directory (keyed by file and transformation).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from _common import Recording, recordings, summary  # isort: skip
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.errors import EmptyAudio
from sayso.voices.embedding import ResemblyzerEmbedder, VoicePrint
from sayso.voices.likeness import CALIBRATION_FILE, COHORT_FILE, load_calibration
from sayso.voices.likeness.calibration import SOUND_ALIKE_FMR, equal_error_rate, threshold_for_fmr
from sayso.voices.likeness.evaluate import band_cutter, by_speaker, calibrate_prints, cohort_without, trial_scores
from sayso.voices.likeness.scoring import METHODS, Scorer
from sayso.voices.likeness.variants import ENROLMENT_VARIANTS, ROBUSTNESS_TESTS, enrolment_vectors

FOLDERS = ("vctk", "librispeech", "ljspeech")
SOURCE = "shared/data/speech: vctk, librispeech test-other, ljspeech (172 recordings, 15 speakers)"
CACHE = Path(tempfile.gettempdir()) / "sayso-bench-likeness"


TRANSFORMS = {
    **ENROLMENT_VARIANTS,
    **{name: t for name, t in ROBUSTNESS_TESTS.items() if name not in ENROLMENT_VARIANTS},
}
"""Every transformation embedded (cache keys): enrolment variants, and the tests not among them."""
TEST_NOISE = "noise 10 dB SNR (test)"
TRANSFORMS[TEST_NOISE] = ROBUSTNESS_TESTS["noise 10 dB SNR"]  # other noise than the enrolment variant's


def voiceprints(
    embedder: ResemblyzerEmbedder, recs: Sequence[Recording], transform: str = ""
) -> list[tuple[str, VoicePrint | None]]:
    """(speaker, voiceprint) of each recording, after ``transform`` (None: no speech found); cached on disk."""
    key = hashlib.sha1(("|".join(str(r.path) for r in recs) + transform).encode()).hexdigest()[:16]
    path = CACHE / f"{key}.pkl"
    if path.exists():
        return list(pickle.loads(path.read_bytes()))
    rows = []
    for rec in recs:
        audio = read_audio(rec.path).resampled(16_000)
        try:
            rows.append((rec.speaker, embedder.voiceprint(TRANSFORMS[transform](audio) if transform else audio)))
        except EmptyAudio:
            rows.append((rec.speaker, None))
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(rows))
    return rows


def tmr_at(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> float:
    return float(np.mean(genuine >= threshold_for_fmr(impostor, fmr)))


Prints = dict[str, list[VoicePrint]]
Variants = dict[str, list[dict[str, VoicePrint]]]


def enrolment_variant_prints(embedder: ResemblyzerEmbedder, recs: Sequence[Recording]) -> Variants:
    """Per speaker, per recording: the voiceprint of each enrolment variant (from the cache)."""
    per_file: list[dict[str, VoicePrint]] = [{} for _ in recs]
    for label in ENROLMENT_VARIANTS:
        for slot, (_, voiceprint) in zip(per_file, voiceprints(embedder, recs, label), strict=True):
            if voiceprint is not None:
                slot[label] = voiceprint
    variants: Variants = {}
    for rec, slot in zip(recs, per_file, strict=True):
        variants.setdefault(rec.speaker, []).append(slot)
    return variants


def same_corpus(a: str, b: str) -> bool:
    """Impostor pairs recorded in the same corpus: same channel, so only the voice differs."""
    return a.split("-")[0] == b.split("-")[0]


def compare_methods(prints: Prints, variants: Variants, top_n: int) -> None:
    print(f"{'method':<24} {'impostors':<12} {'test':<8} {'EER':>7} {'TMR@1%FMR':>10}   genuine/impostor")
    baseline: dict[tuple[str, str], float] = {}
    for method in METHODS:
        for label, extra in (("", None), (" +variants", variants)):
            for which, keep in (("any", None), ("same corpus", same_corpus)):
                for length, cut in (("full", None), ("~1.6 s", band_cutter(1)), ("~2.4 s", band_cutter(2))):
                    genuine, impostor = trial_scores(prints, method, cut, keep, top_n, extra)
                    eer, tmr = equal_error_rate(genuine, impostor), tmr_at(genuine, impostor, SOUND_ALIKE_FMR)
                    base = baseline.setdefault((which, length), eer)
                    ratio = f"EER x{eer / base:.2f} vs raw" if base else "raw EER is 0"
                    print(
                        f"{method + label:<24} {which:<12} {length:<8} {eer:7.2%} {tmr:10.2%}   "
                        f"{len(genuine)}/{len(impostor)}   {ratio}"
                    )


def length_aware(prints: Prints, variants: Variants) -> None:
    """Short tests judged by the full-length threshold versus their own band's (shipped method)."""
    calibration = load_calibration(None)
    full_threshold = threshold_for_fmr(trial_scores(prints, calibration.method, variants=variants)[1], SOUND_ALIKE_FMR)
    print(f"\nlength-aware decisions ({calibration.method}; sound-alike at 1% false match on full recordings)")
    for windows in (1, 2, 4):
        genuine, impostor = trial_scores(prints, calibration.method, band_cutter(windows), variants=variants)
        own = threshold_for_fmr(impostor, SOUND_ALIKE_FMR)
        for label, threshold in (("one threshold", full_threshold), ("per length", own)):
            fmr, fnmr = float(np.mean(impostor >= threshold)), float(np.mean(genuine < threshold))
            print(
                f"  {windows} window(s) ~{1.6 + (windows - 1) / 1.3:.1f} s  {label:<14} threshold {threshold:.3f}"
                f"  detected {1 - fnmr:6.1%}  false match {fmr:6.2%}"
            )


def robustness(embedder: ResemblyzerEmbedder, recs: Sequence[Recording], clean: Prints, variants: Variants) -> None:
    """Protect each speaker from 3 clean files (with and without variants); test their other files, transformed."""
    calibration = load_calibration(None)
    print(f"\nrobustness: method {calibration.method}, shipped thresholds (sound-alike {calibration.sound_alike:.3f})")
    print(f"  {'transformation':<16} {'voice only':>22} {'voice + variants':>22}")
    tests = {name: (TEST_NOISE if name == "noise 10 dB SNR" else name) for name in ["(none)", *ROBUSTNESS_TESTS]}
    for name, key in tests.items():
        changed: dict[str, list[VoicePrint | None]] = {}
        for speaker, voiceprint in voiceprints(embedder, recs, "" if key == "(none)" else key):
            changed.setdefault(speaker, []).append(voiceprint)
        counts = []
        for with_variants in (False, True):
            flagged, total = 0, 0
            for speaker, own in clean.items():
                rows = enrolment_vectors(own[:3], variants[speaker][:3] if with_variants else ())
                enrol = np.stack(list(rows.values()))
                cohort = cohort_without(clean, speaker) if calibration.method.startswith("snorm") else None
                scorer = Scorer(calibration.method, cohort)
                stats = scorer.stats(enrol)
                for test in changed[speaker][3:]:
                    total += 1  # a test with no speech found counts as missed
                    if test is not None:
                        score = float(scorer.score(enrol, stats, test).max())
                        flagged += score >= calibration.thresholds_for(test.speech_seconds)[1]
            counts.append(f"{flagged:3d}/{total} = {flagged / total:6.1%}")
        print(f"  {name:<16} {counts[0]:>22} {counts[1]:>22}")


def utterance_cost(embedder: ResemblyzerEmbedder, recs: Sequence[Recording]) -> None:
    """check_utterance on ~2 s clauses with 10,000 protected voices, against embedding alone."""
    from sayso.store.db import Database
    from sayso.voices.likeness import load_cohort
    from sayso.voices.likeness.guard import Guard
    from sayso.voices.likeness.registry import Registry

    folder = Path(tempfile.mkdtemp(prefix="sayso-bench-guard-"))
    registry = Registry(Database(folder / "sayso.db"), folder / "likeness")
    rng = np.random.default_rng(0)
    people = np.abs(rng.standard_normal((10_000, 256))).astype(np.float32)
    with registry.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO likeness_people (id, name, files, speech_seconds, vector) VALUES (?, ?, 1, 5.0, ?)",
            [(f"id{i}", f"p{i}", (v / np.linalg.norm(v)).tobytes()) for i, v in enumerate(people)],
        )
        conn.execute(
            "INSERT INTO likeness_vectors (person, variant, vector) SELECT key, 'voice', vector FROM likeness_people"
        )
        conn.execute("UPDATE likeness_state SET value = value + 1")
    guard = Guard(Registry(registry.db, folder / "likeness"), embedder, load_calibration(None), load_cohort(None))
    clauses = [read_audio(r.path).resampled(16_000) for r in recs[:20]]
    clauses = [Audio(a.samples[: 2 * 16_000], 16_000) for a in clauses]
    reference = embedder.embed(clauses[0])
    embed_only, checks = [], []
    for clause in clauses:
        started = time.perf_counter()
        embedder.voiceprint(clause)
        embed_only.append(time.perf_counter() - started)
        started = time.perf_counter()
        guard.check_utterance(clause, "v", reference)
        checks.append(time.perf_counter() - started)
    print(
        f"\ncheck_utterance on 2 s clauses, {len(registry.people()):,} protected voices ({guard.registry.index.kind})"
    )
    print("  " + summary("embedding alone", embed_only))
    print("  " + summary("check_utterance", checks))
    print(f"  ratio check/embedding (medians): {np.median(checks) / np.median(embed_only):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-robustness", action="store_true")
    parser.add_argument("--cost-only", action="store_true", help="only time check_utterance")
    parser.add_argument("--top-n", type=int, default=100, help="closest cohort vectors used by S-norm")
    parser.add_argument("--calibrate", type=Path, help="write the calibration and cohort to ship into this folder")
    args = parser.parse_args()
    recs = [r for folder in FOLDERS for r in recordings(folder)]
    embedder = ResemblyzerEmbedder()
    if args.cost_only:
        utterance_cost(embedder, recs)
        return
    started = time.perf_counter()
    clean = by_speaker([(s, p) for s, p in voiceprints(embedder, recs) if p is not None])
    print(f"{len(recs)} recordings, {len(clean)} speakers, embedded in {time.perf_counter() - started:.0f} s\n")
    variants = enrolment_variant_prints(embedder, recs)
    if args.calibrate:
        calibration, _ = calibrate_prints(clean, variants, SOURCE)
        print(calibration.save(args.calibrate / CALIBRATION_FILE))
        np.save(args.calibrate / COHORT_FILE, np.stack([p.vector for own in clean.values() for p in own]))
    compare_methods(clean, variants, args.top_n)
    length_aware(clean, variants)
    utterance_cost(embedder, recs)
    if not args.no_robustness:
        robustness(embedder, recs, clean, variants)


if __name__ == "__main__":
    main()
