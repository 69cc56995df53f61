"""Any OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM, a cloud API), streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import httpx

from sayso.errors import ServiceUnavailable
from sayso.mind.llm.base import LLM, Message


def chat_url(base_url: str) -> str:
    """``.../v1/chat/completions`` for a base URL given with or without ``/v1``."""
    base = base_url.rstrip("/")
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


class OpenAILLM(LLM):
    """Streams ``POST /v1/chat/completions`` with server-sent events."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 30.0) -> None:
        self.name = model
        self._url = chat_url(base_url)
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        body = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "stream": True,
        }
        try:
            with self._client.stream("POST", self._url, json=body) as response:
                if response.status_code >= 400:
                    detail = response.read().decode(errors="replace")[:200]
                    raise ServiceUnavailable(
                        f"The LLM server at {self._url} answered {response.status_code} ({detail}); "
                        "check llm_url, llm_model and llm_api_key."
                    )
                yield from _deltas(response.iter_lines(), self._url)
        except httpx.TimeoutException as error:
            raise ServiceUnavailable(
                f"The LLM server at {self._url} did not answer in time; check it is running or raise llm_timeout."
            ) from error
        except httpx.HTTPError as error:
            raise ServiceUnavailable(
                f"Cannot reach the LLM server at {self._url} ({type(error).__name__}); "
                "start it or fix llm_url (or unset it to use the embedded model)."
            ) from error


def _deltas(lines: Iterator[str], url: str) -> Iterator[str]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
            text = event["choices"][0].get("delta", {}).get("content")
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise ServiceUnavailable(f"The LLM server at {url} sent a reply that is not OpenAI-style JSON.") from error
        if text:
            yield text
