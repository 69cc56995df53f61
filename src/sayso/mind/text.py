"""Text as Whisper writes it, made easy to match: lower case, plain punctuation, number words as digits."""

from __future__ import annotations

import re

_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = "|".join([*_SMALL, *_TENS, *_SCALES])
_NUMBER_RUN = re.compile(rf"\b(?:(?:{_NUMBER_WORD})(?:[\s-]+(?:and\s+(?=(?:{_NUMBER_WORD})\b))?)?)+\b")
_FILLERS = {"um", "uh", "hmm", "mm", "er", "ah", "oh", "huh", "erm", "mhm", "uhm", "so", "like", "the", "a"}


def clean(text: str) -> str:
    """Lower case, curly quotes made straight, sentence punctuation dropped (decimals and times kept)."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", " ").replace("”", " ")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)  # "7 a.m." -> "7 am"
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # "1,000" -> "1000"
    text = re.sub(r"(?<!\d)[.](?!\d)|[.](?=\s|$)", " ", text)
    text = re.sub(r"(?<!\d):|:(?!\d)", " ", text)  # colons stay only in clock times
    text = re.sub(r"[!?,;\"()\[\]…]+", " ", text)
    return " ".join(text.split())


def _value(words: list[str]) -> int:
    total, current = 0, 0
    for word in words:
        if word in _SMALL:
            current += _SMALL[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current


def digits(text: str) -> str:
    """Number words written as digits, as Whisper mostly does already ("twenty five" -> "25")."""

    def spell(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match[0]) if w and w != "and"]
        trailing = " " if match[0].endswith((" ", "-")) else ""
        return str(_value(words)) + trailing

    return _NUMBER_RUN.sub(spell, text)


def normal(text: str) -> str:
    """The form every rule matches against: ``clean`` then ``digits``."""
    return " ".join(digits(clean(text)).split())


def is_nonsense(text: str) -> bool:
    """True when an utterance has no words to act on (empty, fillers, stray symbols)."""
    words = re.findall(r"[a-z0-9']+", clean(text))
    return not [w for w in words if w not in _FILLERS and (len(w) > 1 or w.isdigit() or w == "i")]


_SWAPS = {
    "my": "your", "mine": "yours", "i": "you", "me": "you", "myself": "yourself", "i'm": "you're",
    "im": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "am": "are", "was": "were",
    "your": "my", "you're": "I'm", "yours": "mine",
}  # fmt: skip


def second_person(text: str) -> str:
    """A first-person statement turned round to speak it back ("my sister is clara" -> "your sister is clara")."""
    words = text.split()
    out = []
    for index, word in enumerate(words):
        core = word.rstrip(".,!?")
        swapped = _SWAPS.get(core.lower())
        if core.lower() == "was" and (index == 0 or words[index - 1].lower() not in ("i",)):
            swapped = None  # only "I was" becomes "you were"
        if core.lower() == "am" and (index == 0 or words[index - 1].lower() != "i"):
            swapped = None
        out.append(word.replace(core, swapped) if swapped else word)
    return " ".join(out)


def say_number(value: float) -> str:
    """A number as it reads well aloud: whole when it is, else at most 2 decimals (3 significant if small)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "too large to say"
    if abs(value - round(value)) < 1e-9 and abs(value) < 1e15:
        return str(round(value))
    if abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.2f}".rstrip("0").rstrip(".")
