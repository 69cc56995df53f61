"""The embedded LLM as a crisis judge by log-probability, beside the MiniLM classifier: is it worth
asking on the lines the classifier is unsure of?

    .venv/bin/python bench/crisis_llm.py [--sets dev] [--threads 2]

Not a generator: a fixed few-shot prompt (instructions and twelve worked examples from the
exemplars' categories) asks "is the speaker at risk?", and the judge reads the log-odds of the
answer's first token being "yes"/"Yes" rather than "no"/"No" from the next-token logits. The
prompt's start never changes, so it is read once and kept in the KV cache; each line then reads
only its own tokens. The judge runs on a llama.cpp context of its own over the reply model's loaded
weights (no second copy of the 1.1 GB), so it would not disturb the reply's cached conversation.

Prints, per set: ROC AUC of the judge and of the classifier, and recall / false triggers of the
screen with the judge consulted on the classifier's borderline lines (classifier score in a band
below its trigger) at several judge thresholds, against the classifier alone. Then the judge's
time per line, median and p95, against one MiniLM classifier decision in the same run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import _common  # noqa: F401  (puts the repository on sys.path and sets HF_HUB_OFFLINE)
from crisis import print_times
from sayso.config import Settings
from sayso.mind import crisis
from sayso.mind.crisis import read_lines
from sayso.mind.llm.base import Message
from sayso.mind.llm.llama import LlamaLLM, local_model_path
from sayso.mind.text import normal

HERE = Path(__file__).parent
SETS = {"dev": "crisis_dev.tsv", "seen": "crisis_heldout.tsv", "held-out-2": "crisis_heldout2.tsv"}
BATCH = 512
SYSTEM = (
    "You screen what people say to a voice assistant for suicide and self-harm risk. "
    "Answer yes if the speaker says or hints that they themselves want to die, plan or prepare suicide, "
    "are about to act or have acted, say goodbye for good, or hurt themselves on purpose. "
    "Answer no for everything else: idioms and jokes, grief, fiction, news, medical or safety questions, "
    "and worries about someone else."
)
SHOTS = (
    ("I'd be better off dead.", "yes"),
    ("This homework is the death of me.", "no"),
    ("ive got the pills right here", "yes"),
    ("Can dogs die from eating chocolate?", "no"),
    ("Why should I stay alive?", "yes"),
    ("I'm writing a eulogy for my uncle.", "no"),
    ("I'm going to hang the painting.", "no"),
    ("I'm standing on the bridge right now.", "yes"),
    ("If I eat one more bite I'll die.", "no"),
    ("I want to drive my car off a cliff.", "yes"),
    ("My friend says she wants to die, how can I help her?", "no"),
    ("I've been cutting my arms again.", "yes"),
)


def prompt(text: str) -> list[Message]:
    """The few-shot prompt asking about ``text``: everything before the last message is fixed."""
    messages = [Message("system", SYSTEM)]
    for line, answer in SHOTS:
        messages += [Message("user", f"Message: {line}\nIs the speaker at risk?"), Message("assistant", answer)]
    return [*messages, Message("user", f"Message: {text}\nIs the speaker at risk?")]


class Judge:
    """Next-token log-odds of yes over no, on a context of its own over ``llm``'s weights."""

    def __init__(self, llm: LlamaLLM, threads: int, context: int = 1024) -> None:
        from llama_cpp import llama_cpp
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self.llm, self.model = llm, llm._llama._model  # the reply model's weights, shared
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = context, BATCH, BATCH
        params.n_threads = params.n_threads_batch = threads
        self.ctx = LlamaContext(model=self.model, params=params, verbose=False)
        self.batch = LlamaBatch(n_tokens=BATCH, embd=0, n_seq_max=1, verbose=False)
        self.cached: list[int] = []
        self.yes = [self._token(word) for word in ("yes", "Yes")]
        self.no = [self._token(word) for word in ("no", "No")]

    def _token(self, text: str) -> int:
        return int(self.model.tokenize(text.encode(), add_bos=False, special=False)[0])

    def __call__(self, text: str) -> float:
        """log P(yes) - log P(no) for the answer about ``text``."""
        logits = self._next_logits(self.llm.prompt_tokens(prompt(text)))
        return float(np.logaddexp.reduce(logits[self.yes]) - np.logaddexp.reduce(logits[self.no]))

    def _next_logits(self, tokens: Sequence[int]) -> np.ndarray:
        shared = 0
        for old, new in zip(self.cached, tokens[:-1], strict=False):  # the last token is always read
            if old != new:
                break
            shared += 1
        self.ctx.kv_cache_seq_rm(-1, shared, -1)
        for start in range(shared, len(tokens), BATCH):
            self.batch.set_batch(batch=tokens[start : start + BATCH], n_past=start, logits_all=False)
            self.ctx.decode(self.batch)
        self.cached = list(tokens)
        return np.ctypeslib.as_array(self.ctx.get_logits(), shape=(self.model.n_vocab(),)).copy()


def rates(found: np.ndarray, crises: np.ndarray) -> str:
    """Recall and false triggers of the decisions ``found``."""
    return f"recall {100 * found[crises].mean():5.1f} %  false {100 * found[~crises].mean():5.1f} %"


def report(name: str, crises: np.ndarray, classifier: np.ndarray, judged: np.ndarray) -> None:
    """The AUCs and the classifier's figures alone and with the judge consulted on its borderline lines."""
    judge_auc, classifier_auc = roc_auc_score(crises, judged), roc_auc_score(crises, classifier)
    print(f"{name}: judge AUC {judge_auc:.3f}, classifier AUC {classifier_auc:.3f} (classifier without the rules)")
    alone = classifier >= crisis.TRIGGER
    print(f"  classifier alone (>= {crisis.TRIGGER})              {rates(alone, crises)}")
    for low in (0.05, 0.2):
        band = (classifier >= low) & ~alone
        for threshold in (0.0, 1.0, 2.0):
            found = alone | (band & (judged >= threshold))
            asked = f"judge on {low}-{crisis.TRIGGER} ({100 * band.mean():2.0f} % asked), yes-no >= {threshold:.0f}"
            print(f"  {asked}   {rates(found, crises)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["dev"], choices=list(SETS), help="which sets to score")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    started = time.perf_counter()
    llm = LlamaLLM(local_model_path(settings.local_model, settings.data_dir), args.threads)
    judge, model = Judge(llm, args.threads), crisis.model()
    judge("hello"), model.judge("hello")
    print(f"{llm.name} and the fixed prompt read, MiniLM loaded, in {time.perf_counter() - started:.1f} s")
    times: dict[str, list[float]] = {"judge (LLM, prefix cached)": [], "classifier (MiniLM)": []}
    for name in args.sets:
        lines = read_lines(HERE / SETS[name])
        scores: list[tuple[float, float]] = []
        for line in lines:
            text = normal(line.text)
            started = time.perf_counter()
            verdict = model.judge(text).crisis
            times["classifier (MiniLM)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            scores.append((verdict, judge(text)))
            times["judge (LLM, prefix cached)"].append(time.perf_counter() - started)
        classifier, judged = (np.array(column) for column in zip(*scores, strict=True))
        report(name, np.array([line.crisis for line in lines]), classifier, judged)
    print_times(times, "judge (LLM, prefix cached)", "classifier (MiniLM)")


if __name__ == "__main__":
    main()
