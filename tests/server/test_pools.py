"""Blocking model work runs on a bounded pool: with every model thread held by chat requests,
the page and the health check are still answered (real uvicorn, a fake LLM that blocks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from sayso.mind.llm.base import Message
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models
from tests.server.conftest import REPLY, live_server, server_settings

CHATS = 48


class HeldLLM(FakeLLM):
    """The fake LLM, holding each reply until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(REPLY)
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        self.entered.release()
        self.release.wait(timeout=60)
        yield from super().stream(messages, max_tokens)


def test_the_page_and_health_are_answered_while_48_chats_hold_the_model() -> None:
    llm = HeldLLM()
    models = fake_models(server_settings(), vad=FakeVAD(), stt=FakeSTT(), llm=llm, tts=FakeTTS())
    with live_server(models) as live, ThreadPoolExecutor(CHATS) as clients:
        body = {"messages": [{"role": "user", "content": "Tell me about Paris."}]}
        url = f"http://{live.url}"
        chats = [clients.submit(httpx.post, f"{url}/v1/chat/completions", json=body, timeout=60) for _ in range(CHATS)]
        assert llm.entered.acquire(timeout=30)  # the model is busy (and every other chat waits for it)
        page = httpx.get(f"{url}/", timeout=20)
        health = httpx.get(f"{url}/healthz", timeout=20)
        waiting = sum(not chat.done() for chat in chats)
        llm.release.set()
        statuses = [chat.result().status_code for chat in chats]
    assert page.status_code == 200 and "<title>Sayso</title>" in page.text and health.json()["ok"] is True
    assert waiting == CHATS  # answered while no chat had been
    assert statuses == [200] * CHATS
