"""The LLM interface: one blocking method, ``stream``, yielding reply text as it is generated.

A backend that can call functions (an OpenAI-compatible server) also overrides
``stream_with_tools``; every other backend answers in plain text and ignores the tools.

What a prompt may hold is data too: ``context`` (tokens the model reads, prompt and reply
together) and ``count_tokens``; ``fit`` trims a conversation to them, for every caller.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sayso.errors import PromptTooLong

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message; ``cut`` marks a reply the user interrupted (``content``: what they heard)."""

    role: Role
    content: str
    cut: bool = False


@dataclass
class Usage:
    """Tokens one reply cost: the prompt the model read and the reply it wrote (both 0 when no model
    was asked, e.g. a skill answered). Exact for the embedded model; an estimate for a remote one."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt and reply together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Tool:
    """A function the model may call: its name, what it does, a JSON schema of its arguments, and
    ``run``, which takes the arguments and returns the result as text for the model."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: Callable[[Mapping[str, Any]], str]

    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for this function."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }


class LLM(ABC):
    """A chat model. ``stream`` blocks: callers on an event loop use a thread."""

    name: str = "llm"
    calls_tools: bool = False  # capability: True when ``stream_with_tools`` really offers the tools
    context: int = 8192  # tokens of prompt and reply together; a remote server's is not known: a common size

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """How many tokens ``messages`` take as a prompt.

        This default estimates, erring high (about 3 characters a token, 4 tokens of framing a
        message); a backend with its own tokenizer counts exactly."""
        return sum(len(m.content) // 3 + 4 for m in messages) + 2

    def count_text(self, text: str) -> int:
        """How many tokens ``text`` takes as generated text (this default estimates, erring high)."""
        return len(text) // 3 + 1 if text else 0

    @abstractmethod
    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        """Yield the reply to ``messages`` in pieces, as the model produces them."""

    def stream_with_tools(
        self, messages: Sequence[Message], max_tokens: int, tools: Sequence[Tool], force: str = ""
    ) -> Iterator[str]:
        """Like ``stream``, letting the model call ``tools`` first (``force``: the one it must call).

        This default has no function calling and simply streams the plain reply."""
        return self.stream(messages, max_tokens)

    def prefill(self, messages: Sequence[Message], stop: threading.Event) -> None:
        """Read ``messages`` ahead of time, up to the end of the last one's content, so that a
        ``stream`` of a prompt that starts the same way begins after them (the user's words so far,
        read while they are still speaking). Stops soon once ``stop`` is set or a ``stream`` waits.

        This default does nothing (a remote server keeps its own cache)."""
        return None

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """The whole reply at once."""
        return "".join(self.stream(messages, max_tokens))


def fit(llm: LLM, messages: Sequence[Message], reply_tokens: int) -> list[Message]:
    """``messages`` trimmed so that the prompt and a reply of ``reply_tokens`` fit ``llm.context``.

    The oldest turns go first; the system messages at the start (the persona), the system
    messages just before the last message (this turn's context) and the last message (the
    user's) are always kept. PromptTooLong if those alone do not fit."""
    kept = list(messages)
    head = next((i for i, m in enumerate(kept) if m.role != "system"), len(kept))
    tail = len(kept) - 1
    while tail > head and kept[tail - 1].role == "system":
        tail -= 1
    budget = llm.context - reply_tokens
    used = llm.count_tokens(kept)
    while used > budget and tail > head:
        # Drop about as many characters as the excess takes (by this prompt's own ratio), at
        # least one message: a few counts instead of one a message for a long conversation.
        excess = (used - budget) * sum(len(m.content) for m in kept) / max(used, 1)
        drop, chars = 0, 0.0
        while head + drop < tail and (drop == 0 or chars < excess):
            chars += len(kept[head + drop].content) + 1
            drop += 1
        while head + drop < tail and kept[head + drop].role == "assistant":
            drop += 1  # the history starts with a user's turn, as chat templates expect
        del kept[head : head + drop]
        tail -= drop
        used = llm.count_tokens(kept)
    if used > budget:
        raise PromptTooLong(
            f"The message is too long for the language model ({used} tokens with the instructions; it reads "
            f"at most {budget} before its reply); send a shorter message."
        )
    return kept
