"""Load on `sayso serve`: N concurrent spoken conversations over the realtime WebSocket.

    .venv/bin/python bench/server_load.py [--clients 1 2 4 8] [--turns 2]

Starts `sayso serve` on a free loopback port (its own data directory, embedded models), then for
each N runs N conversations at once. Each client streams a synthesised spoken question in real
time (0.1 s PCM messages, then live silence, as a microphone would), waits for the reply and
reports it played as it arrives, then asks the next question. Per-turn latency runs from the
end of the question's audio to the first reply audio received (voice-to-voice over the wire).
Prints p50/p95 per N, errors (error events, timeouts), the ratio of each p95 to N=1's (the
baseline, measured in the same run), and the first N at which p95 doubles.
Bounded: at most 8 clients, --turns turns each, 90 s per turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

import _common  # noqa: F401  (puts the repository on sys.path, sets HF_HUB_OFFLINE)
from sayso.audio.frames import SAMPLE_RATE
from sayso.config import Settings
from sayso.realtime.models import Models
from sayso.voices.catalog import find_voice
from turn import SYNTHESISED

CHUNK = SAMPLE_RATE // 10  # 0.1 s of microphone audio per message
TURN_TIMEOUT = 90.0
MAX_CLIENTS = 8
STAGES = ("end_of_turn", "stt_final", "llm_first_token", "tts_first_audio", "voice_to_voice")


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)  # the engine's own per-turn metrics


def questions(home: str) -> list[bytes]:
    """The spoken questions as 16 kHz 16-bit PCM, each with 1.2 s of silence after it."""
    tts = Models(Settings(home=home)).tts(find_voice("joe"))
    tail = np.zeros(int(1.2 * SAMPLE_RATE), dtype=np.int16)
    return [np.concatenate([tts.synthesize(text).resampled(SAMPLE_RATE).to_int16(), tail]).tobytes()
            for text in SYNTHESISED]  # fmt: skip


def start_server(home: str, port: int, max_reply_tokens: int) -> subprocess.Popen[bytes]:
    """`sayso serve` in its own process; returns once it has loaded every model."""
    command = [sys.executable, "-m", "sayso", "serve", "--port", str(port), "--home", home,
               "--max-reply-tokens", str(max_reply_tokens)]  # fmt: skip
    for index in range(MAX_CLIENTS):  # one user each: a user may hold only a few conversations at once
        command += ["--token", f"client{index}:{token(index)}"]
    env = {**os.environ, "SAYSO_CONFIG": os.devnull}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["ready"]:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start within 120 s")


async def speak(ws: ClientConnection, pcm: bytes) -> float:
    """Stream ``pcm`` in real time; returns when its last chunk was sent."""
    step = 2 * CHUNK
    for start in range(0, len(pcm), step):
        await ws.send(pcm[start : start + step])
        await asyncio.sleep(0.1)
    return time.perf_counter()


async def one_turn(ws: ClientConnection, pcm: bytes, results: Results) -> None:
    """Ask once; record voice-to-voice latency, or an error."""
    speech_end = len(pcm) - int(1.2 * SAMPLE_RATE) * 2
    sent_speech = asyncio.create_task(speak(ws, pcm[:speech_end]))
    silence = asyncio.create_task(_live_silence(ws, sent_speech))
    first_audio: float | None = None
    received: dict[int, int] = {}
    try:
        async with asyncio.timeout(TURN_TIMEOUT):
            async for message in ws:
                if isinstance(message, bytes):
                    if not received:
                        continue  # the tail of an earlier, interrupted reply
                    first_audio = first_audio or time.perf_counter()
                    segment = max(received)
                    received[segment] += len(message) // 2
                    await ws.send(json.dumps({"type": "playback", "segment": segment, "played": received[segment]}))
                    continue
                event = json.loads(message)
                if event["type"] == "audio.start":
                    received[event["segment"]] = 0
                elif event["type"] == "error":
                    results.errors.append(event["message"])
                elif event["type"] == "reply.interrupted":
                    break
                elif event["type"] == "reply.done":
                    await _metrics(ws, results)
                    break
    except TimeoutError:
        results.errors.append("turn timed out")
    finally:
        silence.cancel()
    if first_audio is not None:
        results.latencies.append(first_audio - await sent_speech)


async def _metrics(ws: ClientConnection, results: Results) -> None:
    """The engine sends its turn metrics right after reply.done."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            async for message in ws:
                if isinstance(message, str) and (event := json.loads(message))["type"] == "metrics":
                    for stage in STAGES:
                        if event.get(stage) is not None:
                            results.stages.setdefault(stage, []).append(event[stage])
                    return


async def _live_silence(ws: ClientConnection, speech: asyncio.Task[float]) -> None:
    """After the question, the microphone keeps sending silence, as a real one does."""
    await speech
    quiet = bytes(2 * CHUNK)
    while True:
        await ws.send(quiet)
        await asyncio.sleep(0.1)


async def conversation(port: int, spoken: list[bytes], turns: int, offset: int, results: Results) -> None:
    try:
        url = f"ws://127.0.0.1:{port}/v1/realtime?token={token(offset)}"
        async with connect(url, max_size=2**22) as ws:
            json.loads(await ws.recv())  # session.ready
            for turn in range(turns):
                await one_turn(ws, spoken[(offset + turn) % len(spoken)], results)
    except OSError as error:
        results.errors.append(f"connection failed: {error}")


async def run_level(port: int, spoken: list[bytes], clients: int, turns: int) -> Results:
    results = Results()
    await asyncio.gather(*(conversation(port, spoken, turns, index, results) for index in range(clients)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8], help="concurrency levels (max 8)")
    parser.add_argument("--turns", type=int, default=2, help="questions per conversation")
    parser.add_argument("--max-reply-tokens", type=int, default=48, help="reply length cap given to the server")
    args = parser.parse_args()
    levels = sorted({min(max(1, n), MAX_CLIENTS) for n in args.clients} | {1})
    with tempfile.TemporaryDirectory(prefix="sayso-load-") as home:
        spoken = questions(home)
        port = free_port()
        server = start_server(home, port, args.max_reply_tokens)
        try:
            report(levels, {n: asyncio.run(run_level(port, spoken, n, args.turns)) for n in levels})
        finally:
            server.terminate()
            server.wait(timeout=30)


def report(levels: list[int], results: dict[int, Results]) -> None:
    print(f"{'clients':>7}  {'turns':>5}  {'p50 ms':>7}  {'p95 ms':>7}  {'errors':>6}  p95 / N=1")
    base = float(np.percentile(results[1].latencies, 95)) if results[1].latencies else float("nan")
    doubled = None
    for n in levels:
        lat = np.asarray(results[n].latencies) * 1000
        p50, p95 = (np.percentile(lat, 50), np.percentile(lat, 95)) if len(lat) else (float("nan"),) * 2
        ratio = p95 / (base * 1000)
        print(f"{n:>7}  {len(lat):>5}  {p50:>7.0f}  {p95:>7.0f}  {len(results[n].errors):>6}  {ratio:.2f}")
        if doubled is None and ratio >= 2:
            doubled = n
        for error in sorted(set(results[n].errors))[:3]:
            print(f"         error: {error}")
        stages = results[n].stages
        print("         engine: " + "  ".join(f"{s} {np.median(stages[s]) * 1000:.0f}" for s in STAGES if s in stages))
    print(f"p95 doubles vs N=1 at N={doubled}" if doubled else f"p95 did not double up to N={levels[-1]}")
    print("(a 2-core machine shared with other work: expect noisy timings)")


def token(index: int) -> str:
    """Client ``index``'s token."""
    return f"load-token-{index:04d}-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
