"""The skills as tools (OpenAI function calling): against the real llama_cpp.server on loopback,
and the streamed tool-call protocol of OpenAI-style servers replayed over an httpx transport.

The embedded SmolLM2-135M does not choose tools by itself and, when one is forced, fills the
arguments with grammar-constrained nonsense; so the real-server test checks the plumbing (the call
is made, parsed, run, its result sent back, and the answer streamed), not the model's judgement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from sayso.config import Settings
from sayso.mind.llm.base import Message, Tool
from sayso.mind.llm.openai import OpenAILLM
from sayso.mind.mind import Mind
from sayso.store.db import Database
from sayso.testing import FakeLLM


def test_a_forced_tool_call_round_trips_through_a_real_server(llama_server: str) -> None:
    llm = OpenAILLM(llama_server, "smollm2")
    mind = Mind(Settings(), lambda: llm, db=Database(":memory:"))
    results: list[str] = []

    def spied(tool: Tool) -> Tool:
        def run(arguments: Mapping[str, Any]) -> str:
            results.append(tool.run(arguments))
            return results[-1]

        return Tool(tool.name, tool.description, tool.parameters, run)

    clock = next(spied(t) for t in mind.tools if t.name == "date_and_time")  # no arguments for the model to garble
    question = [Message("system", "You are a helpful assistant."), Message("user", "What time is it?")]
    answer = "".join(llm.stream_with_tools(question, 40, [clock], force="date_and_time"))
    assert len(results) == 1 and results[0].startswith("It's ")  # the call was parsed and ran the real skill
    assert answer.strip()  # and the model answered after getting the result


def test_the_mind_offers_its_skills_to_a_real_server(llama_server: str) -> None:
    llm = OpenAILLM(llama_server, "smollm2")
    mind = Mind(Settings(), lambda: llm, db=Database(":memory:"))
    assert {t.name for t in mind.tools} >= {"set_timer", "set_reminder", "add_to_list", "calculate", "recall_memories"}
    reply = mind.respond("Tell me something nice about autumn.")
    assert reply.route == "llm" and len(reply.text) > len("Just so you know, I'm Sayso, an AI assistant, not a person.")


def sse(*events: dict[str, Any]) -> bytes:
    lines = [f"data: {json.dumps({'choices': [{'index': 0, 'delta': e}]})}\n\n" for e in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


class Replay:
    """An OpenAI-style server: first a tool call streamed in fragments, then a plain answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        if len(self.requests) == 1:
            body = sse(
                {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                      "function": {"name": "set_timer", "arguments": ""}}]},
                {"tool_calls": [{"index": 0, "function": {"arguments": '{"dura'}}]},
                {"tool_calls": [{"index": 0, "function": {"arguments": 'tion": "25 minutes"}'}}]},
            )  # fmt: skip
        else:
            body = sse({"content": "Your timer"}, {"content": " is running."})
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def test_streamed_tool_call_fragments_run_the_real_skill() -> None:
    server = Replay()
    llm = OpenAILLM("http://llm.invalid", "any")
    llm._client = httpx.Client(transport=httpx.MockTransport(server))
    mind = Mind(Settings(), lambda: llm, db=Database(":memory:"))
    reply = mind.respond("Could you help me not overbrew my tea?")
    assert reply.text.endswith("Your timer is running.")
    assert [round(e.fire_at - e.created_at) for e in mind.schedule.pending()] == [1500]
    follow_up = server.requests[1]["messages"]
    assert follow_up[-2]["tool_calls"][0]["function"] == {
        "name": "set_timer",
        "arguments": '{"duration": "25 minutes"}',
    }
    assert follow_up[-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "Okay, a timer for 25 minutes, starting now.",
    }
    assert server.requests[0]["tool_choice"] == "auto" and "tools" in server.requests[0]


def test_a_model_without_function_calling_just_chats() -> None:
    llm = FakeLLM("Hello!")
    assert not llm.calls_tools
    mind = Mind(Settings(), lambda: llm, db=Database(":memory:"))
    assert mind.respond("Hi there.").text.endswith("Hello!")
