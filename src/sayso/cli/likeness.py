"""Likeness commands: protect people from imitation, check recordings, score pairs, calibrate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sayso.audio.io import read_audio
from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import EmptyAudio, SpeechTooShort
from sayso.voices.embedding import VoicePrint, load_embedder
from sayso.voices.likeness import (
    CALIBRATION_FILE,
    COHORT_FILE,
    likeness_dir,
    load_calibration,
    load_guard,
    load_registry,
)
from sayso.voices.likeness.calibration import SAME_PERSON_FMR, Calibration
from sayso.voices.likeness.evaluate import (
    HeldOut,
    calibrate_prints,
    corpus_of,
    leave_one_corpus_out,
    read_manifest,
    same_corpus,
)
from sayso.voices.likeness.guard import MIN_REFERENCE_SECONDS
from sayso.voices.likeness.pairs import check_output, embed_files, read_pairs, score_pairs, write_scored
from sayso.voices.likeness.plot import plot_det
from sayso.voices.likeness.report import verdict_json
from sayso.voices.likeness.variants import variant_prints
from sayso.voices.screening import screen_voices
from sayso.voices.speaker import VoiceServices


def register(commands: Commands) -> None:
    commands.group("likeness", "The likeness guard: people who asked not to be imitated.")
    protect = commands.command("protect", cmd_protect, "Protect a person's voice from imitation.", "likeness")
    protect.add_argument("name", help="the person's name")
    protect.add_argument("files", type=Path, nargs="+", help="recordings of only their voice (5 s or more in all)")
    commands.command("list", cmd_list, "List the protected people.", "likeness")
    remove = commands.command("remove", cmd_remove, "Take a person off the protected registry.", "likeness")
    remove.add_argument("name", help="their name or id")
    check = commands.command(
        "check", cmd_check, "Print a JSON verdict on whether a recording sounds like a protected person.", "likeness"
    )
    check.add_argument("file", type=Path, help="the recording to check")
    score = commands.command(
        "score", cmd_score, "Score enrolment/test pairs listed in a TSV (higher = more alike).", "likeness"
    )
    score.add_argument("pairs", type=Path, help="TSV with a header and columns enroll (files joined by |) and test")
    score.add_argument("-o", "--output", type=Path, required=True, help="where to write the TSV with a score column")
    calibrate = commands.command("calibrate", cmd_calibrate, "Set the thresholds from labelled recordings.", "likeness")
    calibrate.add_argument("manifest", type=Path, help="TSV with columns path (relative to it) and speaker")
    calibrate.add_argument("--plot", type=Path, help="where to draw the DET plot (default: in the data directory)")


def cmd_protect(args: argparse.Namespace, settings: Settings) -> int:
    audio = [read_audio(path, settings.max_input_seconds) for path in args.files]
    guard = load_guard(settings)
    person = guard.protect(args.name, audio, [str(path) for path in args.files])
    print(
        f"Protected {person.name} (id {person.id}) from {person.files} recording(s), {person.speech_seconds:.1f} s "
        "of speech; only voice embeddings (the voice and disguised variants of it) are kept, not the audio."
    )
    blocked = screen_voices(VoiceServices.of(settings, guard), guard)
    for item in blocked:
        top = item.verdict.matches[0]
        print(f"Blocked the voice {item.voice.id!r}: it sounds like {top.name} ({top.level}, score {top.score:.2f}).")
    if not blocked:
        print("No voice Sayso speaks in sounds like them.")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    people = load_registry(settings).people()
    if not people:
        print("No one is protected yet (add someone with `sayso likeness protect NAME FILE...`).")
    for person in people:
        files = f"{person.files:>3} file(s)"
        print(
            f"{person.id}  {person.name:<24} {files} {person.speech_seconds:7.1f} s  {person.created_at}  "
            f"encoder {person.encoder}"
        )
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    person = load_registry(settings).remove(args.name)
    print(f"Removed {person.name} (id {person.id}) from the protected registry.")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    guard = load_guard(settings)
    verdict = guard.check(read_audio(args.file, settings.max_input_seconds))
    print(json.dumps(verdict_json(str(args.file), verdict, guard.calibration), indent=2))
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    pairs = read_pairs(args.pairs)
    check_output(args.output)
    guard = load_guard(settings)
    files = pairs.files()
    prints = embed_files(files, lambda name: guard.embedder.voiceprint(read_audio(name, settings.max_input_seconds)))
    write_scored(args.output, pairs, score_pairs(pairs, prints, guard.score))
    print(f"Scored {len(pairs.rows)} pairs ({len(files)} distinct files) into {args.output}.")
    return 0


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    rows = read_manifest(args.manifest)
    embedder = load_embedder()
    prints: dict[str, list[VoicePrint]] = {}
    variants: dict[str, list[dict[str, VoicePrint]]] = {}
    for path, speaker in rows:
        audio = read_audio(path, settings.max_input_seconds)
        try:
            voiceprint = embedder.voiceprint(audio)
        except EmptyAudio:
            continue
        if voiceprint.speech_seconds >= MIN_REFERENCE_SECONDS:
            prints.setdefault(speaker, []).append(voiceprint)
            variants.setdefault(speaker, []).append(variant_prints(embedder, audio))
    used = sum(len(own) for own in prints.values())
    if len(prints) < 2 or not any(len(own) > 3 for own in prints.values()):
        raise SpeechTooShort(
            f"{args.manifest} has too few usable recordings (each needs {MIN_REFERENCE_SECONDS:.0f} s of speech, "
            "and some speaker needs 4 or more); add longer recordings."
        )
    calibration, (genuine, impostor) = calibrate_prints(prints, variants, str(args.manifest), same_corpus)
    folder = likeness_dir(settings.data_dir)
    calibration.save(folder / CALIBRATION_FILE)
    np.save(folder / COHORT_FILE, np.stack([p.vector for own in prints.values() for p in own]))
    plot = plot_det(genuine, impostor, calibration, args.plot or folder / "det.png")
    print(_calibration_summary(used, len(rows), len(prints)))
    print(_describe(load_calibration(settings.data_dir)))
    if calibration.impostor_trials < 1 / SAME_PERSON_FMR:
        print(
            f"Note: too few different-speaker trials ({calibration.impostor_trials}) to measure a "
            f"{SAME_PERSON_FMR:.1%} false-match rate; add more speakers for trustworthy thresholds."
        )
    print(f"DET plot: {plot}")
    corpora = sorted({corpus_of(speaker) for speaker in prints})
    if len(corpora) > 1:
        print(cross_corpus_table(leave_one_corpus_out(prints, variants, {c: [c] for c in corpora})))
    return 0


def cross_corpus_table(rows: list[HeldOut]) -> str:
    """Leave-one-corpus-out: the false-match rate thresholds set without a corpus give on it."""
    lines = [
        "Held-out corpus (thresholds set on the others; corpus = speaker id up to its first '-'):",
        f"{'corpus':<14}{'speakers':>9}{'genuine':>9}{'impostor':>10}{'EER':>8}"
        f"{'FMR @ sound-alike (1%)':>24}{'FMR @ same person (0.1%)':>26}{'FNMR @ sound-alike':>20}",
    ]
    for r in rows:
        lines.append(
            f"{r.corpus:<14}{r.speakers:>9}{r.genuine_trials:>9}{r.impostor_trials:>10}{r.eer:>8.2%}"
            f"{r.sound_alike_fmr:>24.2%}{r.same_person_fmr:>26.2%}{r.sound_alike_fnmr:>20.2%}"
        )
    return "\n".join(lines)


def _calibration_summary(used: int, listed: int, speakers: int) -> str:
    skipped = listed - used
    note = f", {skipped} skipped (under {MIN_REFERENCE_SECONDS:.0f} s of speech)" if skipped else ""
    return f"Calibrated on {used} of {listed} recordings from {speakers} speakers{note}."


def _describe(c: Calibration) -> str:
    return (
        f"method {c.method}: EER {c.eer:.2%}; same person >= {c.same_person:.3f} "
        f"(false match {c.same_person_fmr:.2%}, false non-match {c.same_person_fnmr:.2%}); "
        f"sound-alike >= {c.sound_alike:.3f} (false match {c.sound_alike_fmr:.2%}, "
        f"false non-match {c.sound_alike_fnmr:.2%})"
    )
