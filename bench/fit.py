"""What fitting a prompt to the model's context (``sayso.mind.llm.base.fit``) adds to a turn.

Every reply now counts its prompt's tokens before the LLM reads it. This times ``fit`` on the
embedded model's own tokenizer, against a baseline measured in the same run: one tokenization
of the same prompt, which ``LlamaLLM.stream`` does for every reply anyway. Two prompts: Sayso's
own conversation (persona + 6 turns, nothing to drop) and a client's 60-turn conversation sent
to ``/v1/chat/completions`` (~4,800 tokens, trimmed to 2048).

    .venv/bin/python bench/fit.py [--runs 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import _common  # noqa: F401  (puts the repository on the path, sets HF_HUB_OFFLINE)
from _common import summary
from sayso.mind.dialogue import Conversation
from sayso.mind.llm.base import Message, fit
from sayso.mind.llm.llama import LlamaLLM, smollm2_model_path


def timed(run: Callable[[], object], runs: int) -> list[float]:
    """Seconds per call of ``run``, ``runs`` times."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def prompts() -> dict[str, list[Message]]:
    """Sayso's own 6-turn prompt, and a client's 60-turn one."""
    own = Conversation()
    for turn in range(6):
        own.record(f"What is a good name for a cat, idea {turn}?", "How about Pepper? It is short and friendly.")
    client = Conversation()
    for turn in range(60):
        client.history += [
            Message("user", f"Question {turn}: tell me something about the number {turn}."),
            Message("assistant", f"The number {turn} comes after {turn - 1}. " * 5),
        ]
    return {
        "own, 6 turns": own.messages_for("And one for a dog?"),
        "client, 60 turns": client.messages_for("And what about the number 1000?"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    llm = LlamaLLM(smollm2_model_path(), threads=2)
    for name, messages in prompts().items():
        kept = fit(llm, messages, 96)
        tokens, fitted = llm.count_tokens(messages), llm.count_tokens(kept)
        print(f"{name}: {len(messages)} messages, {tokens} tokens -> {len(kept)} messages, {fitted} tokens")
        baseline = timed(partial(llm.prompt_tokens, messages), args.runs)
        fitting = timed(partial(fit, llm, messages, 96), args.runs)
        print("  " + summary("tokenize once (base)", baseline, decimals=3))
        print("  " + summary("fit", fitting, decimals=3))
        ratio = sorted(fitting)[len(fitting) // 2] / sorted(baseline)[len(baseline) // 2]
        print(f"  ratio fit / base (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
