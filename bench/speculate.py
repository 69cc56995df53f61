"""Does prompt-lookup speculative decoding make the embedded model's first clause faster?

    .venv/bin/python bench/speculate.py [--model qwen2.5-coder-1.5b] [--draft 0,2,4,10] [--threads 2]

llama-cpp-python's ``LlamaPromptLookupDecoding`` proposes the tokens that followed the last
n-gram where it occurred earlier in the prompt; the model checks them in one batch. Each setting
(0: plain decoding, the baseline) gets its own ``LlamaLLM`` and answers the same questions, the
settings interleaved question by question, each after the persona was read into its cache (as in a
conversation). Prints, per setting: time to the first six words (about the first clause) and to
the whole reply, median and p95, their ratio to plain decoding measured in the same run, and how
many replies are word for word plain decoding's (greedy decoding: speculation should not change
them).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

import _common  # noqa: F401  (puts the repository on sys.path and sets HF_HUB_OFFLINE)
from sayso.config import Settings
from sayso.mind.dialogue import Conversation
from sayso.mind.llm.base import Message
from sayso.mind.llm.llama import LlamaLLM, local_model_path

QUESTIONS = (
    "What is the capital of Japan?",
    "How do I boil an egg?",
    "What's a good houseplant for a dark room?",
    "How many strings does a standard guitar have?",
    "I forgot my best friend's birthday yesterday. What should I do?",
    "What is the main ingredient of hummus?",
    "How do I make pancakes?",
    "Which organ pumps blood around the body?",
    "What should I pack for a weekend by the sea?",
    "Why is the sky blue during the day?",
)
FIRST_WORDS = 6


def timed(llm: LlamaLLM, messages: list[Message], max_tokens: int) -> tuple[float, float, str]:
    """Seconds to the first ``FIRST_WORDS`` words and to the end, and the reply."""
    started, first, text = time.perf_counter(), 0.0, ""
    for piece in llm.stream(messages, max_tokens):
        text += piece
        if not first and len(text.split()) >= FIRST_WORDS:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return first or total, total, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=Settings().local_model)
    parser.add_argument("--draft", default="0,2,4,10", help="tokens proposed per step, comma-separated (0: none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=Settings().max_reply_tokens)
    args = parser.parse_args()
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    drafts = [int(d) for d in args.draft.split(",")]
    with TemporaryDirectory() as scratch:
        path = local_model_path(args.model, Path(scratch))
        llms = {
            d: LlamaLLM(path, args.threads, draft_model=LlamaPromptLookupDecoding(num_pred_tokens=d) if d else None)
            for d in drafts
        }
        firsts: dict[int, list[float]] = {d: [] for d in drafts}
        totals: dict[int, list[float]] = {d: [] for d in drafts}
        replies: dict[int, list[str]] = {d: [] for d in drafts}
        for question in QUESTIONS:
            messages = Conversation().messages_for(question)
            for d in drafts:
                list(llms[d].stream([messages[0], Message("user", "Hello.")], 1))  # the persona in the cache
                first, total, text = timed(llms[d], messages, args.max_tokens)
                firsts[d].append(first)
                totals[d].append(total)
                replies[d].append(text)
    print(f"{args.model}, {args.threads} threads, {len(QUESTIONS)} questions; the CPU is shared, so compare ratios")
    base = drafts[0]
    for d in drafts:
        same = sum(a == b for a, b in zip(replies[d], replies[base], strict=True))
        print(
            f"draft {d:2d}: first {FIRST_WORDS} words p50 {_ms(firsts[d], 50)} p95 {_ms(firsts[d], 95)} ms "
            f"(ratio {statistics.median(firsts[d]) / statistics.median(firsts[base]):.2f}); whole reply p50 "
            f"{_ms(totals[d], 50)} p95 {_ms(totals[d], 95)} ms "
            f"(ratio {statistics.median(totals[d]) / statistics.median(totals[base]):.2f}); "
            f"same words as draft {base}: {same}/{len(QUESTIONS)}"
        )


def _ms(seconds: list[float], q: int) -> str:
    return f"{np.percentile(np.asarray(seconds) * 1000, q):.0f}"


if __name__ == "__main__":
    main()
