"""A conversation: the persona's system prompt and the history the model sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sayso.mind.llm.base import Message

# Each sentence answers a failure seen with the embedded models (bench/answers.py, dev set):
# replies that pad ("The answer to this question is quite simple"), drift to an earlier topic,
# read out lists, or refuse an ordinary request once a memory (an allergy) is in the prompt.
PERSONA = (
    "You are {name}, a friendly voice assistant. You are an AI, not a human. "
    "Your replies are spoken aloud: answer in one or two short sentences of plain speech (at most 40 words), "
    "with no lists, markdown or emojis. Start with the answer itself, and make it accurate. "
    "Answer only the latest message; earlier turns are there for context. "
    "When the user shares a plan or a worry, give practical help. "
    "Fit your suggestions to what you know about the user instead of refusing: "
    "never suggest anything their allergies, diet or health rule out."
)


@dataclass
class Conversation:
    """The running exchange; keeps at most ``max_turns`` user/assistant pairs.

    The messages are laid out so the LLM can reuse its cache of the unchanged start of the prompt
    (see ``sayso.mind.llm.llama``): the persona first, then the history, and only then what
    changes every turn (the memories relevant now, in a second system message, and the user's
    words). Over ``max_turns`` the history is cut back to half, not by one pair each turn, so its
    start, and the cache, stays the same for several turns.

    A reply the user interrupted is kept as what they heard, and shown to the model as a note
    that it was cut off, not as a reply of its own: SmolLM2-135M copies the shape of its recent
    replies, and a cut reply ("I'm not") in the assistant's place made it answer every later
    question with the same two words (bench/latency.py, before this).
    """

    assistant_name: str = "Sayso"
    max_turns: int = 6
    shown_turns: int = 2  # the pairs the model sees: a follow-up needs the last one; older ones lead it astray
    history: list[Message] = field(default_factory=list)
    style: str = ""  # a few words on manner, e.g. "cheerful and curious"; empty keeps the plain persona

    def system_prompt(self) -> str:
        """The persona, the same every turn."""
        prompt = PERSONA.format(name=self.assistant_name)
        return prompt + (f" Your manner is {self.style.strip().rstrip('.')}." if self.style.strip() else "")

    def messages_for(self, user_text: str, context: Sequence[str] = ()) -> list[Message]:
        """What the model is given to answer ``user_text``; ``context``: what the mind wants the
        model to know this turn (memories, that the user is a child)."""
        now = [Message("system", "\n".join(context))] if context else []
        past = [_as_note(m) if m.cut else m for m in self.shown()]
        return [Message("system", self.system_prompt()), *past, *now, Message("user", user_text)]

    def shown(self) -> list[Message]:
        """The end of the history the model sees: the last ``shown_turns`` pairs, from a user's turn."""
        if self.shown_turns <= 0:
            return []
        recent = self.history[-2 * self.shown_turns :]
        while recent and recent[0].role != "user":  # chat templates expect the user to speak first
            recent = recent[1:]
        return recent

    def record(self, user_text: str, reply_heard: str, interrupted: bool = False) -> None:
        """Remember a finished turn (``reply_heard``: what the user actually heard of the reply;
        ``interrupted``: the user cut it off)."""
        self.history += [Message("user", user_text), Message("assistant", reply_heard, cut=interrupted)]
        if len(self.history) > 2 * self.max_turns:
            del self.history[: len(self.history) - 2 * max(1, self.max_turns // 2)]

    def last_reply(self) -> str:
        """What the user last heard from the assistant ("" before the first reply)."""
        return next((m.content for m in reversed(self.history) if m.role == "assistant"), "")


def _as_note(reply: Message) -> Message:
    if not reply.content:
        return Message("system", "The user interrupted your reply before hearing any of it.")
    return Message("system", f'The user interrupted your reply after: "{reply.content}"')
