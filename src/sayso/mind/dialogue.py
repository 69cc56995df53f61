"""A conversation: the persona's system prompt and the history the model sees."""

from __future__ import annotations

from dataclasses import dataclass, field

from sayso.mind.llm.base import Message

PERSONA = (
    "You are {name}, a friendly voice assistant that runs privately on the user's own computer. "
    "You are an AI, not a human, and you say so if asked. "
    "Your words are spoken aloud, so answer in one or two short, plain sentences, "
    "with no lists, no markdown and no emoji."
)


@dataclass
class Conversation:
    """The running exchange; keeps the last ``max_turns`` user/assistant pairs."""

    assistant_name: str = "Sayso"
    max_turns: int = 6
    history: list[Message] = field(default_factory=list)

    def system_prompt(self) -> str:
        return PERSONA.format(name=self.assistant_name)

    def messages_for(self, user_text: str) -> list[Message]:
        """What the model is given to answer ``user_text``."""
        return [Message("system", self.system_prompt()), *self.history, Message("user", user_text)]

    def record(self, user_text: str, reply_heard: str) -> None:
        """Remember a finished turn (``reply_heard``: what the user actually heard of the reply)."""
        self.history += [Message("user", user_text), Message("assistant", reply_heard)]
        del self.history[: max(0, len(self.history) - 2 * self.max_turns)]
