"""Are the answers right? Everyday questions with keyed answers, through the real Mind.

    .venv/bin/python bench/answers.py [--model qwen2.5-coder-1.5b] [--model smollm2-135m]
        [--set dev|heldout|heldout2|all] [--mode alone|conversation|both] [--limit N] [--show]

Questions (bench/answers/dev.tsv, the set prompts are tuned on; bench/answers/heldout.tsv, written
with the dev file before any tuning but measured since, so its misses have been seen; and
bench/answers/heldout2.tsv, written later and committed alone before the next round of tuning,
never tuned on) cover facts, how-to, advice,
arithmetic in words, follow-ups that need the previous turn, statements that carry a question,
and questions a stored memory must shape ("I'm allergic to peanuts", then "Suggest a snack").
Each goes through ``sayso.mind.mind.Mind`` with the real embedded model, all-MiniLM-L6-v2
memory and a temporary data directory, so skills, memory and safeguards take part; asked
(a) ``alone``: each item in a fresh conversation and data directory, and (b) ``conversation``:
all items in order in one long conversation.

A reply is right when its key holds (lenient: any of several words, a number in digits or
words, or a pattern) and it is not a refusal. Prints, per model, set and mode: % right, refusals,
the rate of repeated openers (an LLM reply whose first four words equal an earlier LLM reply's in
the same run) and LLM replies that copy a sentence (four words or more) of an earlier one.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from num2words import num2words

import _common  # noqa: F401  (puts the repository on sys.path and sets HF_HUB_OFFLINE)
from sayso.config import LOCAL_MODELS, Settings
from sayso.mind.llm.base import LLM
from sayso.mind.mind import Mind
from sayso.realtime.models import Models
from sayso.speech.clauses import sentences

HERE = Path(__file__).resolve().parent / "answers"
SETS = {"dev": HERE / "dev.tsv", "heldout": HERE / "heldout.tsv", "heldout2": HERE / "heldout2.tsv"}
OPENER_WORDS = 4
COPY_WORDS = 4
REFUSAL = re.compile(
    r"\b(?:i can(?:'|’)?t|i cannot|i(?:'|’)m unable to|i am unable to|i(?:'|’)m not able to|i won(?:'|’)t)"
    r" (?:help|assist|provide|suggest|recommend|answer|give|offer|do that)"
)


@dataclass(frozen=True)
class Item:
    """One question: its category, the turns said in order (the last is graded) and its key."""

    category: str
    turns: tuple[str, ...]
    key: str

    def right(self, reply: str) -> bool:
        """True when every clause of the key holds for ``reply``, which is no refusal."""
        text = _plain(reply)
        return not REFUSAL.search(text) and all(_holds(clause.strip(), text) for clause in self.key.split(" ; "))


@dataclass
class Run:
    """What one model said in one mode on one set."""

    answers: list[tuple[Item, str, bool]] = field(default_factory=list)
    llm_replies: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def summary(self, label: str) -> str:
        right = sum(ok for _, _, ok in self.answers)
        refusals = sum(bool(REFUSAL.search(_plain(reply))) for _, reply, _ in self.answers)
        openers, copies = repeated_openers(self.llm_replies), copied_sentences(self.llm_replies)
        n, llm = len(self.answers), max(1, len(self.llm_replies))
        return (
            f"{label:<40} right {100 * right / max(1, n):5.1f}% ({right}/{n}), refusals {refusals}, "
            f"repeated openers {100 * openers / llm:4.1f}% ({openers}/{len(self.llm_replies)}), "
            f"copied sentences {len(copies)}, reply median {statistics.median(self.seconds or [0]):.1f} s"
        )


def load(path: Path, limit: int = 0) -> list[Item]:
    """The items of a question file (the first ``limit`` only, when above zero)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            category, turns, key = line.split("\t")
            items.append(Item(category, tuple(t.strip() for t in turns.split(" // ")), key))
    return items[:limit] if limit > 0 else items


def _plain(text: str) -> str:
    """Lower case, straight quotes, no thousands separators, hyphens as spaces."""
    text = text.lower().replace("’", "'").replace("-", " ")
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


def _holds(clause: str, text: str) -> bool:
    negate = clause.startswith("!")
    clause = clause[1:] if negate else clause
    if clause.startswith("/") and clause.endswith("/"):
        found = re.search(clause[1:-1], text) is not None
    else:
        found = any(_said(word, text) for word in clause.split("|"))
    return found != negate


def _said(word: str, text: str) -> bool:
    forms = {_plain(word)}
    if word.isdigit():
        spelled = _plain(num2words(int(word)))
        forms |= {spelled, spelled.replace(" and ", " ")}
    return any(re.search(rf"(?<![\w.]){re.escape(form)}(?![\w]|\.\d)", text) for form in forms)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", _plain(text))


def repeated_openers(replies: list[str]) -> int:
    """Replies whose first words equal an earlier reply's."""
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for reply in replies:
        opener = tuple(_words(reply)[:OPENER_WORDS])
        if len(opener) == OPENER_WORDS:
            repeats += opener in seen
            seen.add(opener)
    return repeats


def copied_sentences(replies: list[str]) -> list[str]:
    """Sentences (of ``COPY_WORDS`` words or more) that also appear in an earlier reply."""
    seen: set[tuple[str, ...]] = set()
    copies = []
    for reply in replies:
        mine = {tuple(_words(s)) for s in sentences(reply) if len(_words(s)) >= COPY_WORDS}
        copies += [" ".join(s) for s in mine & seen]
        seen |= mine
    return copies


class Asker:
    """Minds for one model: each says what it replies, with the disclosure taken off."""

    def __init__(self, llm: LLM, settings: Settings, scratch: Path) -> None:
        self.llm, self.settings, self.scratch = llm, settings, scratch
        self.disclosure = settings.ai_disclosure.format(name=settings.assistant_name)

    def mind(self) -> Mind:
        """A Mind with a new, empty data directory."""
        home = Path(tempfile.mkdtemp(dir=self.scratch))
        return Mind(dataclasses.replace(self.settings, home=str(home)), lambda: self.llm)

    def ask(self, mind: Mind, text: str, run: Run) -> str:
        started = time.perf_counter()
        reply = mind.respond(text)
        said = reply.text
        run.seconds.append(time.perf_counter() - started)
        mind.conversation.record(text, said)
        said = said.removeprefix(self.disclosure).strip()
        if reply.route == "llm":
            run.llm_replies.append(said)
        return said

    def run(self, items: list[Item], mode: str, show: bool) -> Run:
        run = Run()
        together = self.mind() if mode == "conversation" else None
        for item in items:
            mind = together or self.mind()
            said = ""
            for turn in item.turns:
                said = self.ask(mind, turn, run)
            ok = item.right(said)
            run.answers.append((item, said, ok))
            if show:
                print(f"  {'ok ' if ok else 'BAD'} [{item.category}] {' // '.join(item.turns)}\n      -> {said}")
        return run


def _models(names: list[str]) -> Iterator[str]:
    for name in names:
        if name not in LOCAL_MODELS:
            raise SystemExit(f"--model must be one of {', '.join(LOCAL_MODELS)}, not {name!r}.")
        yield name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help=f"embedded model(s): {', '.join(LOCAL_MODELS)}")
    parser.add_argument("--set", choices=(*SETS, "all"), default="all")
    parser.add_argument("--mode", choices=("alone", "conversation", "both"), default="both")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    parser.add_argument("--only", default="", help="only these categories (comma-separated), for a quick look")
    parser.add_argument(
        "--threads", type=int, default=1, help="LLM threads (1: steadiest on a shared CPU; answers do not depend on it)"
    )
    parser.add_argument("--show", action="store_true", help="print every graded question and reply")
    args = parser.parse_args()
    sets = tuple(SETS) if args.set == "all" else (args.set,)
    modes = ("alone", "conversation") if args.mode == "both" else (args.mode,)
    lines = []
    with tempfile.TemporaryDirectory(prefix="sayso-answers-") as scratch:
        for name in _models(args.model or [Settings().local_model]):
            settings = Settings(home=scratch, local_model=name, break_minutes=0, threads=args.threads)
            asker = Asker(Models(settings).llm, settings, Path(scratch))
            for which in sets:
                items = load(SETS[which], args.limit)
                items = [i for i in items if not args.only or i.category in args.only.split(",")]
                for mode in modes:
                    print(f"{name}, {which}, {mode}: {len(items)} questions")
                    run = asker.run(items, mode, args.show)
                    lines.append(run.summary(f"{name} {which} {mode}"))
                    print(lines[-1])
                    for copy in copied_sentences(run.llm_replies):
                        print(f"    copied: {copy}")
    print("\nsummary (the CPU is shared; times are noisy):")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
