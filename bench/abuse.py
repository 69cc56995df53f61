"""Replays the hardening probes of issue 16 against a real uvicorn on loopback and prints, per
area, tries and failures, then `GET /` latency while idle (the baseline), during a realtime
flood and under chat load.

    .venv/bin/python bench/abuse.py [--chats 48] [--clients 16] [--race-tries 4] [--real-llm]

The server runs the real app in this process on fake models (sayso.testing) whose language
model holds one lock for ``--llm-seconds`` a reply, as the embedded model serialises its
generations: the load is blocking work, without minutes of real inference. ``--real-llm``
answers the chats with the embedded model instead (replies of at most 24 tokens). Loopback only;
bounded in count (at most 64 chats, 32 clients) and time (each area stops after 120 s).
A failure is a 5xx, a dropped keep-alive connection, a missing error event or limit, or a
first-run race that died.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import httpx
import numpy as np
from websockets.asyncio.client import connect

import _common  # noqa: F401  (puts the repository on sys.path, sets HF_HUB_OFFLINE)
from sayso.mind.llm.base import Message
from sayso.server.security import ServerOptions
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, tone

# isort: off
from tests.server.conftest import REPLY, TOKENS, live_server, server_settings  # on the path once _common ran
# isort: on

TOKEN = next(iter(TOKENS))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AREA_SECONDS = 120.0
CHAT_SECONDS = 600.0  # 48 replies of the embedded model, one after another, on a busy 2-core machine


class SlowLLM(FakeLLM):
    """The fake LLM, taking ``seconds`` a reply under one lock (as one embedded model would)."""

    lock = threading.Lock()

    def __init__(self, seconds: float) -> None:
        super().__init__(REPLY)
        self.seconds = seconds

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        with SlowLLM.lock:
            time.sleep(self.seconds)
        yield from super().stream(messages, max_tokens)


class Tally:
    """Tries and failures per area."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}
        self.notes: list[str] = []

    def check(self, area: str, ok: bool, what: str) -> None:
        row = self.rows.setdefault(area, [0, 0])
        row[0] += 1
        if not ok:
            row[1] += 1
            self.notes.append(f"{area}: {what}")


def input_probes(url: str, tally: Tally) -> None:
    """Bad input over one keep-alive connection: each answer a 4xx (or 200), never a 5xx or a drop."""
    host, port = url.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=AREA_SECONDS)
    long_chat = {"messages": [{"role": "user", "content": "word " * 4000}]}
    many = {"messages": [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"}] * 1000
            + [{"role": "user", "content": "and now?"}]}  # fmt: skip
    probes: list[tuple[str, str, str | bytes | None]] = [
        ("POST", "/v1/audio/speech", json.dumps({"input": "hi\u0000there", "voice": "joe"})),
        ("POST", "/v1/audio/speech", b'{"input": "hi \\ud800", "voice": "joe"}'),
        ("POST", "/v1/chat/completions", b'{"messages": [{"role": "user", "content": "hi \\ud800"}]}'),
        ("DELETE", "/api/memories/9223372036854775808", None),
        ("DELETE", "/api/memories/" + "9" * 40, None),
        ("POST", "/v1/chat/completions", json.dumps(long_chat)),
        ("POST", "/v1/chat/completions", json.dumps(many)),
        ("POST", "/v1/chat/completions", json.dumps({**long_chat, "stream": True})),
        ("POST", "/v1/chat/completions", json.dumps({**long_chat, "stream": 0})),
    ]
    for method, path, body in probes:
        sock = conn.sock
        try:
            conn.request(method, path, body=body, headers={**AUTH, "Content-Type": "application/json"})
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        except OSError as error:  # a timeout (a stall) or a dropped connection
            tally.check("input", False, f"{method} {path[:40]}: {error!r}")
            conn.close()
            continue
        streamed_ok = "stream" not in str(body) or "[DONE]" in text or response.status != 200
        kept = sock is None or conn.sock is sock
        ok = response.status < 500 and kept and streamed_ok and "Traceback" not in text
        tally.check("input", ok, f"{method} {path[:40]} -> {response.status}, connection kept: {kept}")
    conn.close()


def auth_probes(url: str, tally: Tally) -> None:
    """300 wrong tokens from one address: 429s must start after the limit."""
    statuses = [httpx.get(f"http://{url}/api/session", headers={"Authorization": f"Bearer wrong-{i:020d}"}).status_code
                for i in range(300)]  # fmt: skip
    tally.check("auth", 429 in statuses[:30], f"first 429 at try {statuses.index(429) if 429 in statuses else None}")
    tally.check("auth", all(s in (401, 429) for s in statuses), "an answer other than 401/429")


def quota_probes(url: str, tally: Tally) -> None:
    """100 lending sessions by one user; a lending to an address the admin did not allow."""
    other = list(TOKENS)[1]
    started = [httpx.post(f"http://{url}/api/voices/lend", json={"name": "Anna Smith"},
                          headers={"Authorization": f"Bearer {other}"}).status_code for _ in range(100)]  # fmt: skip
    tally.check("quota", started.count(200) <= 5, f"{started.count(200)} of 100 lending sessions opened")
    session = httpx.post(f"http://{url}/api/voices/lend", json={"name": "Ann Lee"}, headers=AUTH).json()["session"]
    wav = _wav(tone(1.0).to_int16().tobytes())
    files = [("samples", ("s.wav", wav)), ("consent", ("c.wav", wav))]
    answer = httpx.post(f"http://{url}/api/voices/lend/{session}", files=files, timeout=AREA_SECONDS,
                        data={"tts_url": "http://127.0.0.1:22/internal"}, headers=AUTH)  # fmt: skip
    tally.check("quota", answer.status_code == 400, f"lending to an internal URL -> {answer.status_code}")


def _wav(pcm: bytes) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000), out.writeframes(pcm)
    return buffer.getvalue()


def page_latency(url: str, stop: threading.Event, seconds: list[float]) -> None:
    """GET / every 50 ms until ``stop`` (latency of each)."""
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(f"http://{url}/")
            seconds.append(time.perf_counter() - started)
            time.sleep(0.05)


def guarded(area: str, tally: Tally, work: Callable[[], object]) -> None:
    """Run an area's probes; one that raises (a timeout: a stall) counts as a failure."""
    try:
        work()
    except Exception as error:  # a bench reports, it does not stop at the first broken area
        tally.check(area, False, f"{type(error).__name__}: {str(error)[:100]}")


def during(url: str, area: str, tally: Tally, load: Callable[[], object]) -> list[float]:
    """GET / latencies while ``load`` runs."""
    stop, seconds = threading.Event(), []
    probe = threading.Thread(target=page_latency, args=(url, stop, seconds))
    probe.start()
    try:
        guarded(area, tally, load)
    finally:
        stop.set()
        probe.join()
    return seconds


async def flood(url: str, seconds: float, tally: Tally) -> None:
    """Send ``seconds`` of speech as fast as possible, then leave; an error event must come."""
    pcm = tone(seconds).to_int16().tobytes()
    async with connect(f"ws://{url}/v1/realtime?token={TOKEN}", max_queue=None) as ws:
        for start in range(0, len(pcm), 32_000):
            await ws.send(pcm[start : start + 32_000])
        deep = "[" * 4000 + "]" * 4000
        await ws.send(deep)
        events = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {"too_many_requests", "invalid_request"} <= set(events):
            message = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(message, str) and json.loads(message)["type"] == "error":
                events.append(json.loads(message)["code"])
    tally.check("realtime", "too_many_requests" in events, "no error event for audio faster than real time")
    tally.check("realtime", "invalid_request" in events, "no error event for deeply nested JSON")


def chats(url: str, count: int, tally: Tally) -> None:
    """``count`` chat completions at once; none may fail."""

    async def run() -> list[int]:
        async with httpx.AsyncClient(timeout=CHAT_SECONDS) as client:
            body = {"messages": [{"role": "user", "content": "Tell me about Paris."}]}
            answers = await asyncio.gather(
                *[client.post(f"http://{url}/v1/chat/completions", json=body, headers=AUTH) for _ in range(count)]
            )
        return [a.status_code for a in answers]

    statuses = asyncio.run(run())
    tally.check("load", all(s == 200 for s in statuses), f"{count} chats: {sorted(set(statuses))}")


def first_run_race(tries: int, tally: Tally) -> None:
    """Two `sayso say` at once on a new data folder, ``tries`` times: both must succeed."""
    for attempt in range(tries):
        home = tempfile.mkdtemp(prefix="sayso-race-")
        env = {**os.environ, "SAYSO_HOME": home}
        command = [sys.executable, "-m", "sayso", "say", "hello", "--voice", "espeak-uk", "-o"]
        runs = [subprocess.Popen([*command, f"{home}/{i}.wav"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE) for i in range(2)]  # fmt: skip
        for run in runs:
            _, err = run.communicate(timeout=AREA_SECONDS)
            tally.check("first run", run.returncode == 0, f"try {attempt}: {err.decode()[-120:]}")
        modes = {name: os.stat(f"{home}/{name}").st_mode & 0o777 for name in (".", "sayso.db")}
        tally.check("file modes", modes == {".": 0o700, "sayso.db": 0o600}, f"modes {modes}")


def percentiles(name: str, seconds: list[float], baseline: float | None) -> str:
    values = np.asarray(seconds) * 1000
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    ratio = f"   p99 x{p99 / baseline:.1f} idle" if baseline else ""
    return f"GET / {name:<22} median {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  (n={len(values)}){ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=48)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--llm-seconds", type=float, default=0.25)
    parser.add_argument("--race-tries", type=int, default=4)
    parser.add_argument("--real-llm", action="store_true", help="the embedded language model answers the chats")
    parser.add_argument("--load-only", action="store_true", help="only GET / idle and under the chat loads")
    args = parser.parse_args()
    chats_n, clients = min(args.chats, 64), min(args.clients, 32)
    os.environ["SAYSO_HOME"] = tempfile.mkdtemp(prefix="sayso-abuse-")
    os.environ["SAYSO_MAX_REPLY_TOKENS"] = "24"
    settings = server_settings()
    llm = None if args.real_llm else SlowLLM(args.llm_seconds)  # None: the embedded model, loaded here
    models = fake_models(settings, vad=FakeVAD(), stt=FakeSTT("Tell me about Paris."), llm=llm, tts=FakeTTS())
    if args.real_llm:
        models.llm.count_tokens([Message("user", "warm up")])
    tally = Tally()
    # a head before the allow-list (to measure it) has no such option
    fields = getattr(ServerOptions, "__dataclass_fields__", {})
    options = {"clone_backends": ("http://tts.local",)} if "clone_backends" in fields else {}
    with live_server(models, TOKENS) as live:
        live.workspace.options = ServerOptions(port=live.workspace.options.port, tokens=TOKENS, **options)
        url = live.url
        idle = during(url, "idle", tally, lambda: time.sleep(3))
        if not args.load_only:
            guarded("input", tally, lambda: input_probes(url, tally))
            guarded("quota", tally, lambda: quota_probes(url, tally))
        flooded = during(url, "realtime", tally, lambda: asyncio.run(flood(url, 300, tally)))
        loaded = during(url, "load", tally, lambda: chats(url, chats_n, tally))
        clients_load = during(url, "load", tally, lambda: [chats(url, clients, tally) for _ in range(3)])
        if not args.load_only:
            guarded("auth", tally, lambda: auth_probes(url, tally))  # last: it locks this address out a minute
    if not args.load_only:
        guarded("first run", tally, lambda: first_run_race(args.race_tries, tally))
    llm_name = "the embedded LLM" if args.real_llm else f"a fake LLM taking {args.llm_seconds} s a reply, serialised"
    print(f"abuse probes on loopback: fake VAD, STT, TTS; {llm_name}")
    for area, (tries, failures) in tally.rows.items():
        print(f"{area:<12} tries {tries:4d}   failures {failures}")
    for note in tally.notes:
        print(f"  failed: {note}")
    base = float(np.percentile(idle, 99)) * 1000
    print(percentiles("idle (baseline)", idle, None))
    print(percentiles("during 300 s flood", flooded, base))
    print(percentiles(f"during {chats_n} chats", loaded, base))
    print(percentiles(f"{clients} clients x3", clients_load, base))
    worst = max(np.percentile(np.asarray(s) * 1000, 99) for s in (flooded, loaded, clients_load))
    print(f"goal GET / p99 < 200 ms under load: {worst:.0f} ms {'met' if worst < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
