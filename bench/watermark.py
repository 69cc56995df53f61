"""Watermark benchmark: detection on Sayso speech through common changes; false positives on people.

    .venv/bin/python bench/watermark.py [--texts 12] [--limit N]

Sayso speech: every text in the Piper joe voice and the three eSpeak presets, watermarked as
Sayso marks every utterance. Conditions: as made, resampled to 16 kHz, MP3 at 64 kbps (libsndfile,
constant bitrate; the measured rate is printed), white noise at 20 dB SNR, gain -6 dB. False
positives: every human recording in ../shared/data/speech (``--limit`` takes the first N).
Latency: watermark embedding in ms per second of audio against the TTS's own time (the baseline,
measured in the same run) for the same audio. The machine is shared: timings are noisy.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import _common
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.speech.tts import make_tts
from sayso.store.db import Database
from sayso.voices.catalog import PRESETS
from sayso.voices.keys import load_or_create_key
from sayso.voices.ledger import Ledger
from sayso.voices.provenance import record_utterance
from sayso.voices.watermark import Watermarker

TEXTS = (
    "Good morning. It is seven degrees outside, with light rain expected after lunch.",
    "Your next meeting is at half past two, with the design team in room four.",
    "I have added milk, eggs and a loaf of bread to your shopping list.",
    "The train to Edinburgh leaves from platform nine in twenty minutes.",
    "Here is a short story about a fox who learned to count the stars.",
    "Remember to water the tomatoes this evening; the soil looked dry yesterday.",
    "The capital of Australia is Canberra, not Sydney, as many people think.",
    "Your timer for the pasta is done. Drain it and add a little olive oil.",
    "I could not find that song, but here is something similar you might like.",
    "Tomorrow is your sister's birthday. Would you like me to remind you at nine?",
    "The library closes at six on weekdays and at four on Saturdays.",
    "Take a deep breath. There is no rush; we can go through it step by step.",
)
MP3_LEVEL = 0.6  # libsndfile's compression level giving ~64 kbps CBR at 22.05 kHz (measured below)


def mp3(audio: Audio) -> tuple[Audio, float]:
    """``audio`` through an MP3 encode and decode; and the bitrate in kbps."""
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format="MP3", bitrate_mode="CONSTANT", compression_level=MP3_LEVEL)
    kbps = len(buffer.getvalue()) * 8 / audio.duration / 1000
    buffer.seek(0)
    data, rate = sf.read(buffer, dtype="float32", always_2d=True)
    return Audio.from_array(data, rate), kbps


def noisy(audio: Audio, snr_db: float = 20.0, seed: int = 0) -> Audio:
    power = float(np.mean(audio.samples**2))
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(audio.samples))
    return Audio(np.clip(audio.samples + noise, -1, 1).astype(np.float32), audio.rate)


CONDITIONS: dict[str, Callable[[Audio], Audio]] = {
    "as made": lambda a: a,
    "resampled to 16 kHz": lambda a: a.resampled(16_000),
    "MP3 64 kbps": lambda a: mp3(a)[0],
    "white noise 20 dB SNR": noisy,
    "gain -6 dB": lambda a: Audio((a.samples * 10 ** (-6 / 20)).astype(np.float32), a.rate),
}


def sayso_speech(
    watermarker: Watermarker, texts: tuple[str, ...]
) -> tuple[list[Audio], list[Audio], dict[str, list[float]]]:
    """Unmarked and marked utterances in every preset, with per-second timings of TTS and marking."""
    plain, marked = [], []
    timing: dict[str, list[float]] = {"tts piper": [], "tts espeak": [], "watermark": [], "detect": []}
    for voice in PRESETS:
        tts = make_tts(voice.engine, voice.params)
        for text in texts:
            started = time.perf_counter()
            audio = tts.synthesize(text)
            timing[f"tts {voice.engine}"].append((time.perf_counter() - started) / audio.duration)
            started = time.perf_counter()
            marked.append(watermarker.embed(audio))
            timing["watermark"].append((time.perf_counter() - started) / audio.duration)
            plain.append(audio)
    for audio in marked:
        started = time.perf_counter()
        watermarker.detect(audio)
        timing["detect"].append((time.perf_counter() - started) / audio.duration)
    return plain, marked, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=len(TEXTS), help="texts per voice (4 voices)")
    parser.add_argument("--limit", type=int, default=0, help="human recordings to check (0: all)")
    args = parser.parse_args()
    watermarker = Watermarker()
    plain, marked, timing = sayso_speech(watermarker, TEXTS[: args.texts])
    print(f"Sayso speech: {len(marked)} utterances ({len(PRESETS)} voices), {sum(a.duration for a in marked):.0f} s")
    print(f"MP3 bitrate measured: {np.median([mp3(a)[1] for a in marked[:4]]):.1f} kbps")
    print(f"\n{'condition':<24} {'detected':>9} {'rate':>8} {'median score':>13} {'min score':>10}")
    for name, change in CONDITIONS.items():
        scores = [watermarker.detect(change(audio)).score for audio in marked]
        hits = sum(score > watermarker.threshold for score in scores)
        rate = f"{hits:>4}/{len(scores):<4} {hits / len(scores):>7.1%}"
        print(f"{name:<24} {rate} {np.median(scores):>13.3f} {min(scores):>10.3f}")
    unmarked = [watermarker.detect(a).found for a in plain]
    print(
        f"{'unmarked Sayso speech':<24} {sum(unmarked):>4}/{len(unmarked):<4} {np.mean(unmarked):>7.1%}   (should be 0)"
    )
    people(watermarker, args.limit)
    timing["record"] = record_times(marked)
    print("\nLatency (shared 2-core machine: noisy); tts/watermark/detect per second of audio, record per utterance")
    for name in ("tts piper", "tts espeak", "watermark", "detect", "record"):
        print(_common.summary(f"{name} per {'utterance' if name == 'record' else 'audio second'}", timing[name], 26))
    ratio = np.median(timing["watermark"]) / np.median(timing["tts piper"])
    print(f"watermark / Piper TTS (the baseline) time per audio second, medians: {ratio:.2f}x")


def record_times(marked: list[Audio]) -> list[float]:
    """Seconds to sign and store each utterance's provenance record (sha256, Ed25519, SQLite FULL sync)."""
    with tempfile.TemporaryDirectory() as home:
        ledger = Ledger(Database.in_data_dir(Path(home)), load_or_create_key(Path(home)))
        times = []
        for index, audio in enumerate(marked):
            started = time.perf_counter()
            record_utterance(ledger, PRESETS[0], f"utterance {index}", audio)
            times.append(time.perf_counter() - started)
        ledger.db.close()
    return times


def people(watermarker: Watermarker, limit: int) -> None:
    """False positives on the human recordings."""
    rows = [row for folder in ("vctk", "ljspeech", "librispeech", "fsdd") for row in _common.recordings(folder)]
    rows = rows[:limit] if limit else rows
    flagged: dict[str, list[str]] = {}
    scores: list[float] = []
    undecidable = 0
    for row in rows:
        found = watermarker.detect(read_audio(row.path))
        scores.append(found.score)
        undecidable += not found.decidable
        if found.found:
            flagged.setdefault(row.path.parent.name, []).append(row.path.name)
    count = sum(len(v) for v in flagged.values())
    spread = ", ".join(f"p{q} {np.percentile(scores, q):.3f}" for q in (50, 99, 99.9))
    share = count / max(len(rows), 1)
    print(f"\nhuman recordings flagged: {count}/{len(rows)} = {share:.3%} (scores {spread}, max {max(scores):.3f})")
    print(f"  of which too narrow-band or short to judge (not flagged): {undecidable}")
    for folder, names in flagged.items():
        print(f"  {folder}: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}")


if __name__ == "__main__":
    main()
