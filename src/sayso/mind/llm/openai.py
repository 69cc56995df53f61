"""Any OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM, a cloud API), streamed.

With tools, the model may answer with function calls instead of text: their arguments arrive in
pieces, are gathered, run, and their results sent back in a follow-up request whose reply is
streamed (at most ``MAX_TOOL_ROUNDS`` rounds, so a model that keeps calling cannot loop forever).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from sayso.errors import ServiceUnavailable
from sayso.mind.llm.base import LLM, Message, Tool

MAX_TOOL_ROUNDS = 3


def chat_url(base_url: str) -> str:
    """``.../v1/chat/completions`` for a base URL given with or without ``/v1``."""
    base = base_url.rstrip("/")
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


class OpenAILLM(LLM):
    """Streams ``POST /v1/chat/completions`` with server-sent events."""

    calls_tools = True

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 30.0) -> None:
        self.name = model
        self._url = chat_url(base_url)
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        body = {"messages": [{"role": m.role, "content": m.content} for m in messages], "max_tokens": max_tokens}
        for delta in self._deltas(body):
            if text := delta.get("content"):
                yield text

    def stream_with_tools(
        self, messages: Sequence[Message], max_tokens: int, tools: Sequence[Tool], force: str = ""
    ) -> Iterator[str]:
        chat: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in messages]
        by_name = {tool.name: tool for tool in tools}
        choice: Any = {"type": "function", "function": {"name": force}} if force else "auto"
        for _ in range(MAX_TOOL_ROUNDS):
            body = {
                "messages": chat,
                "max_tokens": max_tokens,
                "tools": [t.schema() for t in tools],
                "tool_choice": choice,
            }
            calls: dict[int, dict[str, str]] = {}
            for delta in self._deltas(body):
                if text := delta.get("content"):
                    yield text
                _gather(calls, delta.get("tool_calls") or [])
            if not calls:
                return
            chat.append({"role": "assistant", "content": "", "tool_calls": [_call_entry(c) for c in calls.values()]})
            chat += [{"role": "tool", "tool_call_id": c["id"], "content": _run(by_name, c)} for c in calls.values()]
            choice = "auto"  # a forced call is made once; then the model answers (or calls again)
        body = {"messages": chat, "max_tokens": max_tokens}
        for delta in self._deltas(body):
            if text := delta.get("content"):
                yield text

    def _deltas(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        body = {"model": self._model, **body, "stream": True}
        try:
            with self._client.stream("POST", self._url, json=body) as response:
                if response.status_code >= 400:
                    detail = response.read().decode(errors="replace")[:200]
                    raise ServiceUnavailable(
                        f"The LLM server at {self._url} answered {response.status_code} ({detail}); "
                        "check llm_url, llm_model and llm_api_key."
                    )
                yield from _events(response.iter_lines(), self._url)
        except httpx.TimeoutException as error:
            raise ServiceUnavailable(
                f"The LLM server at {self._url} did not answer in time; check it is running or raise llm_timeout."
            ) from error
        except httpx.HTTPError as error:
            raise ServiceUnavailable(
                f"Cannot reach the LLM server at {self._url} ({type(error).__name__}); "
                "start it or fix llm_url (or unset it to use the embedded model)."
            ) from error


def _events(lines: Iterator[str], url: str) -> Iterator[dict[str, Any]]:
    """The ``delta`` of each server-sent event, until ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            return
        try:
            delta = json.loads(payload)["choices"][0].get("delta") or {}
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise ServiceUnavailable(f"The LLM server at {url} sent a reply that is not OpenAI-style JSON.") from error
        if not isinstance(delta, dict):
            raise ServiceUnavailable(f"The LLM server at {url} sent a reply that is not OpenAI-style JSON.")
        yield delta


def _gather(calls: dict[int, dict[str, str]], pieces: list[Any]) -> None:
    """Add streamed pieces of tool calls: the id and name come once, the arguments in fragments."""
    for position, piece in enumerate(pieces):
        if not isinstance(piece, dict):
            continue
        index = piece.get("index", position)
        call = calls.setdefault(index, {"id": f"call_{index}", "name": "", "arguments": ""})
        function = piece.get("function") or {}
        call["id"] = piece.get("id") or call["id"]
        call["name"] = call["name"] or function.get("name") or ""  # some servers repeat the name in every piece
        call["arguments"] += function.get("arguments") or ""


def _call_entry(call: Mapping[str, str]) -> dict[str, Any]:
    return {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}


def _run(tools: Mapping[str, Tool], call: Mapping[str, str]) -> str:
    """The result of one call, as text for the model; a bad call gets a plain explanation, not a crash."""
    tool = tools.get(call["name"])
    if tool is None:
        return f"There is no tool called {call['name']!r}."
    try:
        arguments = json.loads(call["arguments"] or "{}", strict=False)  # small models put raw newlines in strings
    except json.JSONDecodeError:
        return "The arguments were not valid JSON."
    if not isinstance(arguments, dict):
        return "The arguments must be a JSON object."
    return tool.run(arguments)
