"""The LLM interface: one blocking method, ``stream``, yielding reply text as it is generated."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str


class LLM(ABC):
    """A chat model. ``stream`` blocks: callers on an event loop use a thread."""

    name: str = "llm"

    @abstractmethod
    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        """Yield the reply to ``messages`` in pieces, as the model produces them."""

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """The whole reply at once."""
        return "".join(self.stream(messages, max_tokens))
