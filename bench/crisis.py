"""How well the safety screen tells a crisis from lines that only look dangerous, on lines it was
not written from.

    .venv/bin/python bench/crisis.py [--verbose]

Three sets of spoken-style lines (text, label crisis/ok, imminent yes/no): bench/crisis_dev.tsv, on
which the screen's thresholds were chosen; bench/crisis_heldout.tsv, the first held-out set, whose
misses were measured and listed in docs/performance.md, so it is reported as "seen" (it may have
been tuned on since); and bench/crisis_heldout2.tsv, written in new styles and committed alone
before any later tuning, and never tuned on. For each set it prints crisis recall, the false-trigger rate
(ok lines screened as a crisis) and imminent-danger recall (imminent lines that get the "call now"
reply), for the rules alone (the previous head's screen, whose reply never said to call now: its
imminent recall is 0) and for the screen (rules beside the MiniLM classifier, ``sayso.mind.crisis``).
Then the decision latency per line, median and p95, for both, and their ratio, measured in the
same run (the classifier's one-off model load is left out and printed on its own).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import _common  # noqa: F401  (puts the repository on sys.path and sets HF_HUB_OFFLINE)
from _common import summary
from sayso.mind import crisis, safety
from sayso.mind.crisis import Exemplar, read_lines
from sayso.mind.text import normal

HERE = Path(__file__).parent
SETS = {
    "dev": HERE / "crisis_dev.tsv",
    "held-out 1 (seen)": HERE / "crisis_heldout.tsv",
    "held-out 2": HERE / "crisis_heldout2.tsv",
}
Screener = Callable[[str], safety.Screen | None]


def rules(text: str) -> safety.Screen | None:
    """The previous head's screen: the rules alone, with no imminent reply."""
    found = safety.crisis_screen(text, None)
    return None if found is None else safety.Screen(found.route)


def screen(text: str) -> safety.Screen | None:
    """The screen as the Mind runs it: the rules beside the classifier."""
    return safety.crisis_screen(text)


def rates(lines: list[Exemplar], screener: Screener, seconds: list[float], verbose: bool) -> str:
    """One line of figures for ``screener`` on ``lines`` (appends each decision's time to ``seconds``)."""
    hits, imminent = [], []
    for line in lines:
        started = time.perf_counter()
        found = screener(normal(line.text))
        seconds.append(time.perf_counter() - started)
        hits.append(found is not None)
        if line.imminent:
            imminent.append(found is not None and found.imminent)
        if verbose and hits[-1] != line.crisis:
            print(f"    {'MISSED' if line.crisis else 'FALSE '} {line.text}")
        elif verbose and line.imminent and not imminent[-1]:
            print(f"    NOT IMMINENT {line.text}")
    crises = np.array([line.crisis for line in lines])
    found_at = np.array(hits)
    return (
        f"recall {100 * found_at[crises].mean():5.1f} % ({found_at[crises].sum()}/{crises.sum()})   "
        f"false triggers {100 * found_at[~crises].mean():4.1f} % ({found_at[~crises].sum()}/{(~crises).sum()})   "
        f"imminent recall {100 * np.mean(imminent):5.1f} % ({sum(imminent)}/{len(imminent)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="print each line screened wrongly")
    args = parser.parse_args()
    started = time.perf_counter()
    crisis.model().judge("hello")
    print(f"classifier loaded (MiniLM and weights) in {time.perf_counter() - started:.1f} s")
    timings: dict[str, list[float]] = {"rules (previous head)": [], "screen (rules + classifier)": []}
    for name, path in SETS.items():
        lines = read_lines(path)
        print(f"{name}: {sum(line.crisis for line in lines)} crisis lines, {sum(not line.crisis for line in lines)} ok")
        for (label, seconds), screener in zip(timings.items(), (rules, screen), strict=True):
            print(f"  {label:<28} {rates(lines, screener, seconds, args.verbose)}")
    print_times(timings, "screen (rules + classifier)", "rules (previous head)")


def print_times(timings: dict[str, list[float]], new: str, base: str) -> None:
    """Median and p95 of each decision's times, and the ratio of ``new``'s median to ``base``'s."""
    for label, seconds in timings.items():
        print(summary(f"decision, {label}", seconds, width=42))
    ratio = np.median(timings[new]) / np.median(timings[base])
    print(f"median decision time, {new} / {base}: {ratio:.0f}x")


if __name__ == "__main__":
    main()
