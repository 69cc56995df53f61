"""Word error rate of each Whisper model on the transcribed rows of ../shared/data/speech.

    .venv/bin/python bench/wer.py            # VCTK and LJSpeech, both models
    .venv/bin/python bench/wer.py --fsdd 100 # also 100 spoken digits from FSDD

A model named ``NAME:preview`` scores ``WhisperSTT.preview``, the quicker short-window decoding the
realtime engine uses for partial transcripts only; ``NAME:full`` scores ``WhisperSTT.full_window``,
faster-whisper's own 30 s-window transcription, the baseline that ``transcribe``'s fitted window
(clip + 12 s) is measured against.

Normalisation (sayso.speech.normalize): lower case, digits spelled out (Whisper writes "7:30"),
"%" and "&" as words, punctuation dropped, hyphens split. WER = (S + D + I) / N over the corpus.
"""

from __future__ import annotations

import argparse
import time

import jiwer

import _common  # noqa: F401  (paths, offline mode)
from _common import recordings
from sayso.audio.io import read_audio
from sayso.config import Settings
from sayso.speech.normalize import normalize
from sayso.speech.stt.whisper import WhisperSTT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fsdd", type=int, default=0, help="also score this many FSDD digit recordings")
    parser.add_argument("--models", nargs="+", default=["tiny.en", "tiny.en:full", "tiny.en:preview", "base"])
    args = parser.parse_args()
    settings = Settings()
    corpora = {"vctk": recordings("vctk"), "ljspeech": recordings("ljspeech")}
    if args.fsdd:
        corpora["fsdd"] = recordings("fsdd")[:: max(1, 3000 // args.fsdd)][: args.fsdd]
    print("normalisation: lower case, digits to words, punctuation dropped (sayso.speech.normalize)")
    print(f"{'model':<15} {'corpus':<9} {'files':>5} {'words':>6} {'WER':>7} {'RTF':>6}")
    results: dict[str, float] = {}
    for name in args.models:
        model, _, mode = name.partition(":")
        stt = WhisperSTT(model, settings.data_dir, settings.cpu_threads)
        run = {"preview": stt.preview, "full": stt.full_window}.get(mode, stt.transcribe)
        all_refs: list[str] = []
        all_hyps: list[str] = []
        for corpus, rows in corpora.items():
            refs, hyps, audio_s, busy_s = [], [], 0.0, 0.0
            for row in rows:
                audio = read_audio(row.path)
                started = time.perf_counter()
                hyps.append(normalize(run(audio).text))
                busy_s += time.perf_counter() - started
                audio_s += audio.duration
                refs.append(normalize(row.transcript))
            words = sum(len(r.split()) for r in refs)
            error_rate, rtf = jiwer.wer(refs, hyps), busy_s / audio_s
            print(f"{name:<15} {corpus:<9} {len(rows):>5} {words:>6} {error_rate:>7.3f} {rtf:>6.3f}")
            all_refs += refs
            all_hyps += hyps
        results[name] = float(jiwer.wer(all_refs, all_hyps))
        print(
            f"{name:<15} {'all':<9} {len(all_refs):>5} {sum(len(r.split()) for r in all_refs):>6} {results[name]:>7.3f}"
        )
    if "tiny.en" in results and "base" in results and results["tiny.en"]:
        print(f"base / tiny.en WER ratio: {results['base'] / results['tiny.en']:.2f}")


if __name__ == "__main__":
    main()
