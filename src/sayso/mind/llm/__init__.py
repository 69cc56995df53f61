"""Language models: the interface, the embedded llama.cpp model and any OpenAI-compatible server."""

from sayso.mind.llm.base import LLM, Message

__all__ = ["LLM", "Message"]
