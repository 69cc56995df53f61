"""Watermark benchmark: detection on Sayso speech through common changes; false positives on people.

    nice -n 5 .venv/bin/python bench/watermark.py [--texts 40] [--limit N]

Sayso speech: every text (40) in the Piper joe voice and the three eSpeak presets, watermarked as
Sayso marks every utterance. Conditions: as made, resampled to 16 kHz, MP3 at 64 kbps (libsndfile,
constant bitrate; the measured rate is printed), white noise at 20 dB SNR (3 noise draws per
utterance), gain -6 dB; and resampled to 8 kHz, which Sayso does not judge (telephone band).
Baseline in the same run: white noise on the same utterances marked at PerTh's own strength.
The threshold is not tuned here (a majority vote of loud frames, see sayso.voices.watermark); the
bench prints how far each side's scores sit from it. False positives: every human recording in
../shared/data/speech (``--limit`` takes the first N), each counted as judged or not decidable.
Latency: embedding in ms per second of audio against the TTS's own time (the baseline, same run).
The machine is shared (2 cores): timings are noisy.
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
from sayso.voices.watermark import LOUD_SHARE, Watermarker

TEXTS = (  # short replies too: they give the decoder the fewest frames
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
    "Okay.",
    "Sure, I can do that.",
    "Sorry, I did not catch that. Could you say it again?",
    "Thirty-two times four is one hundred and twenty-eight.",
    "The bus is running about ten minutes late because of roadworks on the high street.",
    "A kilometre is roughly six tenths of a mile.",
    "I set an alarm for half past six tomorrow morning.",
    "The oven should be at two hundred degrees before the bread goes in.",
    "You walked eight thousand steps today, a little more than yesterday.",
    "Your parcel was delivered to the front door at eleven fifteen.",
    "Whales are mammals, so they breathe air and feed their young on milk.",
    "Would you like the news, the weather, or some quiet music?",
    "I have turned the living room lights down to thirty percent.",
    "It sounds like a hard day. Do you want to talk about it, or shall I play something calm?",
    "The pharmacy on Elm Road is open until eight tonight.",
    "Mount Everest is eight thousand eight hundred and forty-nine metres high.",
    "Done. I moved your dentist appointment to Thursday afternoon.",
    "There are three unread messages, one of them from your landlord.",
    "If you leave now, you will arrive about five minutes early.",
    "The word serendipity means finding something good without looking for it.",
    "Goodbye for now. I will be here when you need me.",
    "Please check that the back door is locked before you go to bed.",
    "Your flight to Lisbon boards at gate twelve at a quarter to ten.",
    "Honey never spoils; jars found in old tombs were still good to eat.",
    "Yes.",
    "No problem at all.",
    "The recipe needs two cups of flour, one egg and a pinch of salt.",
    "Let me read that back to you: call the plumber on Monday at noon.",
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


def noisy(audio: Audio, seed: int, snr_db: float = 20.0) -> Audio:
    """``audio`` with white noise at ``snr_db`` below its mean power."""
    power = float(np.mean(audio.samples**2))
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(audio.samples))
    return Audio(np.clip(audio.samples + noise, -1, 1).astype(np.float32), audio.rate)


CONDITIONS: dict[str, Callable[[Audio, int], Audio]] = {
    "as made": lambda a, _: a,
    "resampled to 16 kHz": lambda a, _: a.resampled(16_000),
    "MP3 64 kbps": lambda a, _: mp3(a)[0],
    "white noise 20 dB SNR": noisy,
    "gain -6 dB": lambda a, _: Audio((a.samples * 10 ** (-6 / 20)).astype(np.float32), a.rate),
}
DETECTION_GOAL, FALSE_POSITIVE_GOAL = 0.99, 0.001
NOISE_DRAWS = 3  # the hardest change gets 3 noise draws per utterance, so 0 misses can bound the rate under 1%


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


def bound(misses: int, n: int) -> str:
    """The one-sided 95% upper bound on a rate seen as ``misses`` in ``n`` (exact binomial)."""
    from scipy.stats import beta

    return f"95% upper bound {beta.ppf(0.95, misses + 1, n - misses):.2%}"


def row(name: str, scores: list[float], threshold: float, note: str = "", marked: bool = True) -> None:
    """One line of the detection table: hits, rate, goal, the score spread and the error-rate bound."""
    hits = sum(score > threshold for score in scores)
    rate = hits / len(scores)
    verdict = note or ("met" if rate >= DETECTION_GOAL else "MISSED")
    errors = len(scores) - hits if marked else hits
    worst = min(scores) if marked else max(scores)
    print(
        f"{name:<34} {hits:>4}/{len(scores):<4} {rate:>7.1%} {verdict:<7} {np.median(scores):>6.3f} {worst:>6.3f}"
        f"   {'miss' if marked else 'false-positive'} rate {bound(errors, len(scores))}"
    )


def detection(watermarker: Watermarker, plain: list[Audio], marked: list[Audio]) -> None:
    """Detection through every change, the 8 kHz case, the PerTh-strength baseline and the mark's cost."""
    print(
        f"\n{'condition':<34} {'detected':>9} {'rate':>7} {'goal':<7} {'median':>6} {'worst':>6}"
        "  (worst: min, max if unmarked)"
    )
    for name, change in CONDITIONS.items():
        draws = range(NOISE_DRAWS if name.startswith("white noise") else 1)
        seeds = [(i + draw * len(marked), a) for draw in draws for i, a in enumerate(marked)]
        row(name, [watermarker.detect(change(a, seed)).score for seed, a in seeds], watermarker.threshold)
    eight = [watermarker.score(a.resampled(8_000)) for a in marked]
    row("resampled to 8 kHz (not judged)", eight, watermarker.threshold, "n/a")
    perth = Watermarker(strength=1.0)
    weak = [perth.embed(a) for a in plain]
    row(
        "noise 20 dB, PerTh strength 1.0",
        [perth.detect(noisy(a, i)).score for i, a in enumerate(weak)],
        perth.threshold,
    )
    unmarked = [watermarker.detect(a).score for a in plain]
    row("unmarked Sayso speech (want 0)", unmarked, watermarker.threshold, "-", marked=False)
    for strength, made in ((watermarker.strength, marked), (perth.strength, weak)):
        ratios = [
            10 * np.log10(np.mean(p.samples**2) / np.mean((m.samples - p.samples) ** 2))
            for p, m in zip(plain, made, strict=True)
        ]
        print(
            f"speech-to-mark ratio at strength {strength}: median {np.median(ratios):.1f} dB, min {min(ratios):.1f} dB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=len(TEXTS), help="texts per voice (4 voices)")
    parser.add_argument("--limit", type=int, default=0, help="human recordings to check (0: all)")
    args = parser.parse_args()
    watermarker = Watermarker()
    plain, marked, timing = sayso_speech(watermarker, TEXTS[: args.texts])
    print(f"Sayso speech: {len(marked)} utterances ({len(PRESETS)} voices), {sum(a.duration for a in marked):.0f} s")
    print(f"MP3 bitrate measured: {np.median([mp3(a)[1] for a in marked[:4]]):.1f} kbps")
    print(f"threshold {watermarker.threshold} (majority vote of the loudest {LOUD_SHARE:.0%} of frames; not tuned)")
    detection(watermarker, plain, marked)
    people(watermarker, args.limit)
    timing["record"] = record_times(marked)
    print(
        "\nLatency (1 torch thread, 2-core machine shared with others: noisy); per audio second, record per utterance"
    )
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
            record_utterance(ledger, PRESETS[0], f"utterance {index}", [audio])
            times.append(time.perf_counter() - started)
        ledger.db.close()
    return times


def people(watermarker: Watermarker, limit: int) -> None:
    """False positives on every human recording: judged ones, and those not decidable (scored anyway)."""
    rows = [row for folder in ("vctk", "ljspeech", "librispeech", "fsdd") for row in _common.recordings(folder)]
    rows = rows[:limit] if limit else rows
    judged: list[float] = []
    forced: dict[str, list[float]] = {}
    flagged: list[str] = []
    for row in rows:
        audio = read_audio(row.path)
        found = watermarker.detect(audio)
        if found.decidable:
            judged.append(found.score)
            flagged += [row.path.name] if found.found else []
        else:
            folder = row.path.relative_to(_common.SPEECH_DIR).parts[0]
            forced.setdefault(folder, []).append(watermarker.score(audio))
    share = len(flagged) / max(len(judged), 1)
    verdict = "met" if share <= FALSE_POSITIVE_GOAL else "MISSED"
    print(f"\nhuman recordings: {len(rows)}; judged {len(judged)}, flagged {len(flagged)} = {share:.2%} ({verdict})")
    if judged:
        spread = ", ".join(f"p{q} {np.percentile(judged, q):.3f}" for q in (50, 99))
        print(
            f"  judged scores {spread}, max {max(judged):.3f}; false-positive rate {bound(len(flagged), len(judged))}"
        )
    print(f"  flagged: {', '.join(flagged) or 'none'}")
    for folder, scores in forced.items():
        above = sum(score > watermarker.threshold for score in scores)
        print(
            f"  not decidable (telephone band or too short), reported as 'no watermark': {len(scores)} ({folder}); "
            f"scored anyway, {above} = {above / len(scores):.1%} would be flagged"
        )


if __name__ == "__main__":
    main()
