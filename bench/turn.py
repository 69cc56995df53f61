"""Latency of one spoken turn (`sayso reply`) on 3-5 s questions, embedded models, this CPU.

    .venv/bin/python bench/turn.py [--runs 5]

Prints medians and p95 over all turns of: start-up to models ready (a fresh process each run),
STT, LLM time to first token and total, TTS time to first audio, and end of input to first
reply audio. Baseline, measured in the same run: the same turns without streaming (the whole
reply is generated, then synthesised), so the ratio shows what clause streaming buys. Turns are
ordinary ones: the conversation's first turn, which opens with the spoken AI disclosure, is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import _common
from _common import recordings, summary
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.config import Settings
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant
from sayso.voices.catalog import find_voice

SYNTHESISED = (
    "Could you tell me what the weather is usually like in Lisbon in the spring?",
    "What is a good way to cook rice so that it does not stick to the pan?",
    "How many minutes should I boil an egg if I want the yolk to stay soft?",
    "Can you suggest a short name for a small grey cat that likes to sleep?",
    "Why is the sky blue during the day and red when the sun goes down?",
)
READY_SCRIPT = """
import time, sys
started = float(sys.argv[1])
from sayso.config import load_settings
from sayso.realtime.models import Models
from sayso.voices.catalog import find_voice
settings = load_settings()
Models(settings).warm(find_voice(settings.voice))
print(time.time() - started)
"""


def startup_seconds(runs: int) -> list[float]:
    """Process start to every model loaded, in fresh processes."""
    out = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", READY_SCRIPT, repr(time.time())], capture_output=True, text=True, check=True
        )
        out.append(float(result.stdout.strip().splitlines()[-1]))
    return out


def questions(models: Models) -> list[tuple[str, Audio]]:
    real = [r for r in recordings("librispeech") + recordings("ljspeech") if 3.0 <= r.duration <= 5.0][:7]
    spoken = [(r.path.name, read_audio(r.path)) for r in real]
    joe = models.tts(find_voice("joe"))
    spoken += [(f"synth:{text[:24]}", joe.synthesize(text)) for text in SYNTHESISED]
    return spoken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="passes over the question set (and start-up runs)")
    args = parser.parse_args()
    ready = startup_seconds(args.runs)
    settings = Settings()
    models = Models(settings)
    voice = find_voice(settings.voice)
    models.warm(voice)
    items = questions(models)
    print(
        f"{len(items)} questions, {min(a.duration for _, a in items):.1f}-{max(a.duration for _, a in items):.1f} s, "
        f"{args.runs} runs, {settings.cpu_threads} threads, STT {settings.stt_model}"
    )
    stages: dict[str, list[float]] = {}
    baseline: list[float] = []
    tts = models.tts(voice)
    assistant = Assistant(models, voice)
    assistant.reply_to(items[0][1])  # the conversation's first turn opens with the AI disclosure: not timed
    for _ in range(args.runs):
        for _name, audio in items:
            assistant.conversation.history.clear()  # every timed turn sees the same short prompt
            result = assistant.reply_to(audio)
            for stage, value in vars(result.timings).items():
                stages.setdefault(stage, []).append(value)
            started = time.perf_counter()
            tts.synthesize(result.reply.text)
            baseline.append(result.timings.stt + result.timings.llm_total + time.perf_counter() - started)
    print(summary("models ready", ready))
    for stage in ("stt", "llm_first_token", "llm_total", "tts_first_audio", "first_audio", "total"):
        print(summary(stage, stages[stage]))
    print(summary("baseline first_audio", baseline))
    ratio = statistics.median(stages["first_audio"]) / statistics.median(baseline)
    print(f"end of input to first reply audio: streamed / unstreamed median ratio {ratio:.2f}")
    _common.print_targets(ready, stages["first_audio"])


if __name__ == "__main__":
    main()
