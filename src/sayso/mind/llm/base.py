"""The LLM interface: one blocking method, ``stream``, yielding reply text as it is generated.

A backend that can call functions (an OpenAI-compatible server) also overrides
``stream_with_tools``; every other backend answers in plain text and ignores the tools.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message; ``cut`` marks a reply the user interrupted (``content``: what they heard)."""

    role: Role
    content: str
    cut: bool = False


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
