"""``POST /v1/chat/completions`` through the Mind: what a request may ask, and the answer's shape.

The client's messages are the conversation: the last must be the user's, and it is answered
by the user's own Mind (``Workspace.mind``), as every other door answers: the safety screen,
the local skills, the user's memories, the AI disclosure and the human-claim guard all apply.
The client's system (or developer) messages become instructions for the model, given after
Sayso's persona; they cannot turn off the screen or the guard, which do not read them.

Tools are refused (400), not honoured. Sayso already answers with its own skills (timers,
notes, arithmetic, the clock) behind its safety screen; a client's functions would run on the
client, outside that screen, and the embedded models do not call functions reliably. A request
that asks for them gets a clear refusal rather than an answer that silently ignored them.
Other fields that would change what the answer means (several choices, JSON output, stop
strings, log-probabilities, audio output...) are refused the same way, as is any field this
server does not know; sampling settings that only shape the wording are accepted and ignored
(Sayso decodes greedily, for steady spoken answers).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sayso.errors import BadRequest, SaysoError
from sayso.mind.llm.base import LLM, Message
from sayso.mind.mind import ClientConversation, Mind
from sayso.server.fields import Text
from sayso.server.responses import error_body, status_of

log = logging.getLogger("sayso.server")

MODEL_ID = "sayso"
MAX_CHAT_CHARS = 200_000
"""A sanity bound on a request's text; longer conversations are trimmed to the model's context."""

HARMLESS = frozenset(
    {"temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "user", "metadata", "store",
     "service_tier", "parallel_tool_calls", "reasoning_effort", "verbosity",
     "safety_identifier", "prompt_cache_key", "prompt_cache_retention"}
)  # fmt: skip
"""Fields that only shape sampling, billing or logging: accepted and ignored."""

_TOOLS = "Sayso does not call functions a client sends (it answers with its own skills); send the request without {}."
_REFUSED: dict[str, tuple[tuple[Any, ...], str]] = {
    # field: (values that mean "not asked for", why anything else is refused)
    "tools": ((None, []), _TOOLS.format("tools")),
    "functions": ((None, []), _TOOLS.format("functions")),
    "tool_choice": ((None, "none", "auto"), _TOOLS.format("a tool_choice")),
    "function_call": ((None, "none", "auto"), _TOOLS.format("a function_call")),
    "n": ((None, 1), "Sayso gives one answer a request; send n = 1 or leave it out."),
    "stop": ((None, [], ""), "Sayso does not take stop sequences; send the request without stop."),
    "response_format": ((None, {"type": "text"}), "Sayso answers in plain text only; leave out response_format."),
    "logprobs": ((None, False), "Sayso does not report log-probabilities; leave out logprobs."),
    "top_logprobs": ((None, 0), "Sayso does not report log-probabilities; leave out top_logprobs."),
    "logit_bias": ((None, {}), "Sayso does not take a logit_bias; leave it out."),
    "modalities": ((None, ["text"]), "Sayso answers here in text; for speech use /v1/audio/speech."),
    "audio": ((None,), "Sayso answers here in text; for speech use /v1/audio/speech."),
    "prediction": ((None,), "Sayso does not take predicted outputs; leave out prediction."),
    "web_search_options": ((None,), "Sayso runs offline and does not search the web; leave out web_search_options."),
}


class TextPart(BaseModel):
    model_config = ConfigDict(strict=True)  # "stream": 0 is not a yes or no: say what was meant

    type: Literal["text"]
    text: Text


class ChatMessage(BaseModel):
    """One message as OpenAI clients send it (other fields of a message, such as ``name``, are ignored)."""

    model_config = ConfigDict(extra="allow", strict=True)

    role: Literal["system", "developer", "user", "assistant"]
    content: Text | list[TextPart] | None = None

    def message(self) -> Message:
        """This message as the Mind's ``Message`` (a developer message is a system one)."""
        if (self.model_extra or {}).get("tool_calls") or (self.model_extra or {}).get("function_call"):
            raise BadRequest(_TOOLS.format("earlier tool calls in the messages"))
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content or [])
        return Message("system" if self.role == "developer" else self.role, text)


class StreamOptions(BaseModel):
    """How a streamed answer ends: ``include_usage`` adds a last chunk with the token counts."""

    model_config = ConfigDict(extra="forbid", strict=True)

    include_usage: bool = False
    include_obfuscation: bool = False  # padding against length side channels: nothing to pad on loopback


class ChatRequest(BaseModel):
    """A chat completion request; ``refusal`` says what in it Sayso will not do."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=4096)

    def check(self) -> None:
        """BadRequest for a field that would change the answer's meaning, or one Sayso does not know."""
        extra = self.model_extra or {}
        unknown = sorted(name for name in extra if name not in HARMLESS and name not in _REFUSED)
        if unknown:
            raise BadRequest(f"Sayso does not know the field {unknown[0]!r}; send the request without it.")
        for name, (fine, why) in _REFUSED.items():
            if name in extra and extra[name] not in fine:
                raise BadRequest(why)
        if self.stream_options is not None and not self.stream:
            raise BadRequest("stream_options only apply to a streamed answer; send stream = true or leave them out.")

    @property
    def include_usage(self) -> bool:
        """Whether a streamed answer ends with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage

    def conversation(self, mind: Mind) -> tuple[str, ClientConversation]:
        """The user's last message, and the rest as the conversation it continues."""
        self.check()
        messages = [m.message() for m in self.messages]
        if sum(len(m.content) for m in messages) > MAX_CHAT_CHARS:
            raise BadRequest(f"The messages hold more than {MAX_CHAT_CHARS} characters; send a shorter conversation.")
        if messages[-1].role != "user":
            raise BadRequest("The last message must be the user's: Sayso answers it.")
        instructions = tuple(m.content for m in messages if m.role == "system")
        history = [m for m in messages[:-1] if m.role != "system"]
        conversation = dataclasses.replace(mind.conversation, history=history)
        limit = self.max_completion_tokens or self.max_tokens
        return messages[-1].content, ClientConversation(conversation, instructions, limit)


Usage = Callable[[str], dict[str, int]]
"""The token counts of a reply (given its text) to the request's messages."""


def usage_counter(llm: LLM, messages: list[ChatMessage]) -> Usage:
    """Token counts by the model's own tokenizer (an estimate for a remote model): the request's
    messages as a prompt, and the reply's text alone (the template's framing taken off)."""
    prompt = llm.count_tokens([m.message() for m in messages])
    empty = llm.count_tokens([Message("assistant", "")])

    def usage(text: str) -> dict[str, int]:
        reply = max(llm.count_tokens([Message("assistant", text)]) - empty, 0) if text else 0
        return {"prompt_tokens": prompt, "completion_tokens": reply, "total_tokens": prompt + reply}

    return usage


def completion(text: str, ident: str, created: int, usage: Usage) -> dict[str, Any]:
    """A whole chat completion, with its token counts."""
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {"id": ident, "object": "chat.completion", "created": created, "model": MODEL_ID, "choices": [choice],
            "usage": usage(text)}  # fmt: skip


def chunks(pieces: Iterator[str], ident: str, created: int, usage: Usage | None = None) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format, ending with ``[DONE]``; the reply's clauses
    are sent as they come, spaced as ``Reply.text`` joins them. With ``usage`` (the client set
    ``stream_options.include_usage``), every chunk has a null ``usage`` and a last chunk without
    choices carries the counts."""
    base: dict[str, Any] = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}
    if usage is not None:
        base["usage"] = None

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body)}\n\n"

    said: list[str] = []
    yield chunk({"role": "assistant"})
    try:
        for index, piece in enumerate(pieces):
            said.append(piece)
            yield chunk({"content": piece if index == 0 else " " + piece})
    except SaysoError as error:
        # The status line is already sent: the error travels as an event, as OpenAI's does.
        status, code = status_of(error)
        yield f"data: {json.dumps(error_body(str(error), code, status))}\n\n"
    except Exception:  # a bug must still end the stream in a way the client understands
        log.exception("chat completion stream failed")
        yield f"data: {json.dumps(error_body('The reply failed on the server; try again.', 'server_error', 500))}\n\n"
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # frees the LLM at once if the client went away
    yield chunk({}, "stop")
    if usage is not None:
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage(' '.join(said))})}\n\n"
    yield "data: [DONE]\n\n"
