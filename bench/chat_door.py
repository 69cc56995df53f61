"""``/v1/chat/completions`` through the Mind, against the previous head's direct LLM call.

The previous head streamed the client's messages straight to the LLM; now the user's Mind
answers (safety screen, skills, memory lookup, persona, fitting to the context). This times the
first streamed content chunk and the whole reply of both, on the same questions, alternating, in
the same run: the baseline is the LLM's ``stream`` on the client's messages (what the old
handler did), the change is the real endpoint; the same app serves both, through a TestClient.
Embedded SmolLM2-135M.

    .venv/bin/python bench/chat_door.py [--rounds 2] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

import _common  # noqa: F401  (puts the repository on the path, sets HF_HUB_OFFLINE)
from _common import summary
from sayso.config import load_settings
from sayso.realtime.models import Models
from sayso.server.app import create_app
from sayso.server.chat import ChatRequest, chunks
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace

QUESTIONS = [
    "How do I boil an egg?",
    "Why is the sky blue?",
    "What should I pack for a beach day?",
    "Give me an idea for a quick dinner.",
    "What is a good way to fall asleep faster?",
    "How can I keep my houseplants alive?",
    "What's a fun thing to do on a rainy afternoon?",
    "How do I make my coffee less bitter?",
]


def first_and_whole(http: TestClient, path: str, question: str, max_tokens: int) -> tuple[float, float]:
    """Seconds to the first streamed content chunk and to the end of the stream at ``path``."""
    body = {"messages": [{"role": "user", "content": question}], "stream": True, "max_tokens": max_tokens}
    started, first = time.perf_counter(), 0.0
    with http.stream("POST", path, json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and not first and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


def previous_head(app: FastAPI, workspace: Workspace) -> None:
    """Add the previous head's handler at ``/previous``: the client's messages straight to the LLM,
    in the same SSE chunks, so both run on the same server threads."""

    @app.post("/previous", response_model=None)
    def previous(request: ChatRequest) -> StreamingResponse:
        messages = [m.message() for m in request.messages]
        pieces = workspace.models.llm.stream(messages, request.max_tokens or 96)
        return StreamingResponse(chunks(pieces, "chatcmpl-0", 0), media_type="text/event-stream")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sayso-bench-") as home:
        settings = load_settings({"home": home, "ai_disclosure": ""})
        workspace = Workspace(Models(settings), ServerOptions(port=8765))
        app = create_app(workspace)
        previous_head(app, workspace)
        http = TestClient(app, base_url="http://127.0.0.1:8765")
        paths = {"direct (previous head)": "/previous", "through the Mind": "/v1/chat/completions"}
        for path in paths.values():
            first_and_whole(http, path, "Hello.", 4)  # load the models
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for question in QUESTIONS:
                for name, path in paths.items():
                    times[name].append(first_and_whole(http, path, question, args.max_tokens))
    for name, pairs in times.items():
        print(summary(f"{name}: first chunk", [p[0] for p in pairs], width=40))
        print(summary(f"{name}: whole reply", [p[1] for p in pairs], width=40))
    medians = {name: sorted(p[0] for p in pairs)[len(pairs) // 2] for name, pairs in times.items()}
    ratio = medians["through the Mind"] / medians["direct (previous head)"]
    print(f"ratio first chunk, Mind / direct (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
