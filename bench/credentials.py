"""Content Credentials cost: writing an utterance's file with its C2PA manifest against without.

    nice -n 5 .venv/bin/python bench/credentials.py [--utterances 40]

Each utterance (Piper joe, the texts below, at the server's 24 kHz) is encoded as WAV, FLAC and
MP3 the way ``deliver`` encodes it (the baseline: the file without a manifest), then encoded and
signed with the installation's Ed25519 chain (what ``deliver`` hands out). Both run alternately
in the same loop, so a busy machine slows both alike; the added cost is per-utterance (signed
minus baseline). The machine is shared (2 cores): timings are noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import summary  # isort: skip

from sayso.audio.frames import Audio
from sayso.speech.tts import make_tts
from sayso.voices.credentials import MIME_TYPES, Credentials
from sayso.voices.delivery import encode

TEXTS = (
    "The weather is fine today, enjoy your walk.",
    "Paris is the French capital.",
    "It sits on the river Seine.",
    "Your timer for ten minutes starts now.",
    "I have added milk and eggs to your shopping list.",
    "Seventeen times twenty three is three hundred and ninety one.",
    "Good morning! You have two reminders for today.",
    "Sorry, I did not catch that; could you say it again?",
)
CLAIM = {"delivery_id": "0" * 32, "voices": ["joe"], "consent_records": [None], "ledger_entry": 1,
         "ledger_entry_hash": "0" * 64, "installation_key": "0" * 64}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=40)
    args = parser.parse_args()
    tts = make_tts("piper", {})
    speech = [tts.synthesize(text).resampled(24_000) for text in TEXTS]
    with tempfile.TemporaryDirectory() as folder:
        credentials = Credentials(Path(folder))
        for fmt in MIME_TYPES:
            plain, signed, sizes = [], [], []
            for n in range(args.utterances):
                audio: Audio = speech[n % len(speech)]
                started = time.perf_counter()
                data = encode(audio, fmt)
                plain.append(time.perf_counter() - started)
                started = time.perf_counter()
                marked = credentials.sign(encode(audio, fmt), fmt, CLAIM)
                signed.append(time.perf_counter() - started)
                sizes.append(len(marked) - len(data))
            added = np.asarray(signed) - np.asarray(plain)
            print(summary(f"{fmt} without manifest", plain, decimals=1))
            print(summary(f"{fmt} with manifest", signed, decimals=1))
            print(summary(f"{fmt} added", list(added), decimals=1))
            ratio = np.median(signed) / np.median(plain)
            print(f"{fmt}: ratio {ratio:.1f}x; manifest adds {int(np.median(sizes))} bytes "
                  f"(mean utterance {np.mean([a.duration for a in speech]):.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
