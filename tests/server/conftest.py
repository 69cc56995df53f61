"""Server test helpers: a workspace on fakes, a TestClient, and a real uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from sayso.config import Settings, load_settings
from sayso.realtime.models import Models
from sayso.server.app import create_app
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models

REPLY = "Paris is the French capital. It sits on the river Seine. Many people visit it every spring."
TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789ab": "bob"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeEmbedder:
    """Bag-of-letters vectors: texts sharing words score close (no model to load)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 26), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text.lower():
                if "a" <= char <= "z":
                    vectors[row, ord(char) - 97] += 1
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def server_settings() -> Settings:
    """The environment's settings (an isolated home), with no spoken AI disclosure to compare around."""
    return load_settings({"ai_disclosure": ""})


def fakes(stt_text: str = "What is the capital of France?") -> Models:
    """Fake models: the STT hears ``stt_text``, the LLM says REPLY, the TTS speaks 50 ms of tone a character."""
    return fake_models(server_settings(), vad=FakeVAD(), stt=FakeSTT(stt_text), llm=FakeLLM(REPLY), tts=FakeTTS())


def fake_workspace(options: ServerOptions | None = None, stt_text: str = "What is the capital of France?") -> Workspace:
    """A workspace on ``fakes``."""
    models = fakes(stt_text)
    workspace = Workspace(models, options or ServerOptions(port=8765), embedder=FakeEmbedder)
    workspace.new_vad = FakeVAD
    return workspace


def client(workspace: Workspace) -> TestClient:
    """A TestClient that reaches the app as the page would (loopback host and port)."""
    return TestClient(create_app(workspace), base_url=f"http://127.0.0.1:{workspace.options.port}")


@dataclass
class Live:
    url: str
    workspace: Workspace


@contextmanager
def live_server(models: Models, tokens: dict[str, str] | None = None, engine: str = "engine") -> Iterator[Live]:
    """A real uvicorn on 127.0.0.1 (a free port) in a thread, stopped on exit."""
    port = free_port()
    workspace = Workspace(models, ServerOptions(port=port, tokens=tokens or {}), embedder=FakeEmbedder, engine=engine)
    if isinstance(models.vad, FakeVAD):
        workspace.new_vad = FakeVAD
    server = uvicorn.Server(uvicorn.Config(create_app(workspace), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Live(f"127.0.0.1:{port}", workspace)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def workspace() -> Workspace:
    return fake_workspace()
