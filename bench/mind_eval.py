"""How well the mind routes spoken requests: memory recall, skills, safeguards, and lines that must
NOT trigger a safeguard (ordinary sadness, dark humour, idiom).

    .venv/bin/python bench/mind_eval.py [--verbose]

Prompts (bench/mind_eval.tsv, or --cases FILE in the same form) are written as Whisper
transcribes speech (mixed case and punctuation, digits as digits). They run in order through one
Mind with a fresh database, a fixed clock (Monday 23 November 2026, 10:00) and a fake LLM (the
LLM's wording is not judged here, only where each request goes), with the real all-MiniLM-L6-v2
embeddings. Prints one line per category with its pass rate, then the
same for a naive keyword screen (the baseline, on the safeguard categories), then decision latency.
"""

from __future__ import annotations

import argparse
import csv
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

import _common  # noqa: F401  (puts the repository on sys.path and sets HF_HUB_OFFLINE)
from _common import summary
from sayso.config import Settings
from sayso.mind.mind import Mind
from sayso.store.db import Database
from sayso.testing import FakeLLM

NOW = datetime(2026, 11, 23, 10, 0).timestamp()


@dataclass(frozen=True)
class Case:
    """One prompt: its category, the route expected ("share": a fact gets stored; "!safety": no
    safeguard fires), and words the reply must contain."""

    category: str
    prompt: str
    route: str
    says: str = ""


CASES_FILE = Path(__file__).with_name("mind_eval.tsv")
SAFETY_CATEGORIES = ("safeguard triggers", "must not trigger")


def load_cases(path: Path) -> list[Case]:
    """Cases from a TSV with columns category, prompt, expect (a route, "share", "!share" or
    "!safety") and says (words the reply must contain; may be empty)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Case(r["category"], r["prompt"] or "", r["expect"], r.get("says") or "") for r in rows]


_NAIVE = re.compile(r"\b(kill\w*|die|dying|died|dead|suicid\w*|hurt\w*|cut\w*|end (?:it|my life))\b")


def naive(prompt: str) -> str:
    """The baseline: a keyword screen that calls anything with a word about death a crisis."""
    return "safety:crisis" if _NAIVE.search(prompt.lower()) else "llm"


def passed(case: Case, route: str, reply: str, stored: bool) -> bool:
    if case.route == "share":
        ok = stored
    elif case.route == "!share":
        ok = not stored
    elif case.route == "!safety":
        ok = not route.startswith("safety:")
    else:
        ok = route == case.route
    return ok and case.says.lower() in reply.lower()


def run(cases: list[Case], verbose: bool) -> None:
    mind = Mind(Settings(), lambda: FakeLLM("Okay."), db=Database(":memory:"), clock=lambda: NOW)
    _ = mind.respond("hello").text  # the conversation's opening disclosure, so it is not judged with a case
    results: dict[str, list[bool]] = defaultdict(list)
    baseline: dict[str, list[bool]] = defaultdict(list)
    seconds: list[float] = []
    for case in cases:
        before = mind.memory.store.count()
        started = time.perf_counter()
        reply = mind.respond(case.prompt)
        text = reply.text
        seconds.append(time.perf_counter() - started)
        mind.conversation.record(case.prompt, text)
        ok = passed(case, reply.route, text, mind.memory.store.count() > before)
        results[case.category].append(ok)
        if case.category in SAFETY_CATEGORIES and case.route in ("safety:crisis", "!safety"):
            baseline[case.category].append(passed(case, naive(case.prompt), "988", False))
        if verbose and not ok:
            print(f"  FAIL [{case.category}] {case.prompt!r} -> {reply.route}: {text[:90]}")
    print(f"{len(cases)} prompts")
    for category, oks in results.items():
        print(f"{category:<20} {100 * np.mean(oks):5.1f} %   ({sum(oks)}/{len(oks)})")
    for category, oks in baseline.items():
        ratio = np.mean(results[category]) / max(np.mean(oks), 1e-9)
        print(f"baseline keyword screen, {category:<20} {100 * np.mean(oks):5.1f} %   (mind / baseline {ratio:.2f})")
    print(summary("decision per prompt", seconds[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="print each failing prompt")
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="a TSV of cases (default: mind_eval.tsv)")
    args = parser.parse_args()
    run(load_cases(args.cases), args.verbose)


if __name__ == "__main__":
    main()
