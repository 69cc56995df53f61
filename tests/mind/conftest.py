"""The real llama_cpp.server on loopback, shared by the LLM tests of this directory."""

from tests.mind.test_llm import llama_server

__all__ = ["llama_server"]
