"""Crisis detection by meaning, beside the rules of ``sayso.mind.safety``.

The rules catch the common wordings and nothing else: "I wrote my goodbye letters today" or "I have
the pills in my hand right now" use none of their words. Here an utterance is embedded with
all-MiniLM-L6-v2 (the model memory already loads) and two logistic regressions read the vector:
one for "a crisis of the speaker's own" (suicidal ideation, self-harm, plans, means, goodbyes),
one, among crises, for "imminent" (means at hand, an act under way or done, a time set soon).

Both are fitted on the exemplars in ``data/crisis_exemplars.tsv`` (crisis lines, and lines that only
look dangerous: idiom, hyperbole, grief, fiction, news, medical questions, questions about someone
else). The fitted weights are stored beside them (``data/crisis_weights.npy``) so that a process
does not embed 400 sentences at its first utterance; ``python -m sayso.mind.crisis`` fits them again
after the exemplars change (a test checks the stored weights still match the exemplars).
The thresholds were chosen on bench/crisis_dev.tsv (and re-checked on bench/crisis_heldout.tsv, now
"seen"); bench/crisis_heldout2.tsv was written before the latest exemplars and is never tuned on.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from sayso.mind.embed import Embedder, minilm
from sayso.mind.text import normal

TRIGGER = 0.5  # at or above: a crisis, whatever the rules say
VETO = 0.1  # below: a rule's match is taken as the words used for something else ("overdose on chocolate")
IMMINENT = 0.3  # at or above, for a crisis: imminent danger (low: a needless "call now" costs little)
REGULARISATION = 10.0  # the logistic regressions' C (3 and 10 tie on the dev set within one line)
_DATA = resources.files("sayso.mind") / "data"
_lock = threading.Lock()


@dataclass(frozen=True)
class Exemplar:
    """One line the screen learns from: is it a crisis of the speaker's own, and is it imminent."""

    text: str
    crisis: bool
    imminent: bool


def exemplars() -> list[Exemplar]:
    """The exemplars shipped with Sayso."""
    return read_lines(Path(str(_DATA / "crisis_exemplars.tsv")))


def read_lines(path: Path) -> list[Exemplar]:
    """Lines from a TSV with columns text, label ("crisis" or "ok") and imminent ("yes" or "no")."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Exemplar(r["text"], r["label"] == "crisis", r["imminent"] == "yes") for r in rows]


@dataclass(frozen=True)
class Verdict:
    """How likely an utterance is a crisis, and, were it one, how likely it is imminent (0 to 1)."""

    crisis: float
    imminent: float


class CrisisModel:
    """The two logistic regressions over an embedder's vectors (weights: one row each, bias last)."""

    def __init__(self, embedder: Embedder, weights: np.ndarray) -> None:
        self.embedder, self.weights = embedder, weights

    def judge(self, text: str) -> Verdict:
        """The verdict on ``text`` (raw or already ``normal``-ised: it is normalised here)."""
        vector = self.embedder.encode([normal(text)])[0]
        crisis, imminent = _sigmoid(self.weights[:, :-1] @ vector + self.weights[:, -1])
        return Verdict(float(crisis), float(imminent))


def fit(embedder: Embedder, lines: list[Exemplar]) -> np.ndarray:
    """The weights of both regressions fitted on ``lines`` (the imminent one on the crisis lines only)."""
    from sklearn.linear_model import LogisticRegression

    vectors = embedder.encode([normal(line.text) for line in lines])
    crisis = np.array([line.crisis for line in lines])
    imminent = np.array([line.imminent for line in lines])
    rows = []
    for x, y in ((vectors, crisis), (vectors[crisis], imminent[crisis])):
        model = LogisticRegression(C=REGULARISATION, max_iter=5000).fit(x, y)
        rows.append(np.append(model.coef_[0], model.intercept_[0]))
    return np.asarray(rows, dtype=np.float32)


def stored_weights() -> np.ndarray:
    """The weights fitted on the shipped exemplars (``python -m sayso.mind.crisis`` writes them)."""
    with (_DATA / "crisis_weights.npy").open("rb") as handle:
        return np.asarray(np.load(handle), dtype=np.float32)


_loaded: list[CrisisModel] = []


def model() -> CrisisModel:
    """The shared model on the shared MiniLM; the first call loads both."""
    with _lock:
        if not _loaded:
            _loaded.append(CrisisModel(minilm(), stored_weights()))
        return _loaded[0]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def main() -> None:
    """Fit the weights on the shipped exemplars again and store them in the package."""
    weights = fit(minilm(), exemplars())
    target = Path(__file__).with_name("data") / "crisis_weights.npy"
    np.save(target, weights)
    print(f"wrote {target} ({weights.shape[0]} regressions over {weights.shape[1] - 1} dimensions)")


if __name__ == "__main__":
    main()
