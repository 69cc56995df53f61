"""Text normalisation for comparing what was said with what was expected.

Lower case; digits spelled out ("7:30" -> "seven thirty", "3rd" -> "third", "42" -> "forty two"),
as Whisper writes digits; "%" and "&" become words; other punctuation goes; hyphens split words.
"""

from __future__ import annotations

import re

from num2words import num2words

_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_KEEP = re.compile(r"[^a-z' ]+")


def _spell(number: str) -> str:
    return " " + num2words(float(number) if "." in number else int(number)) + " "


def normalize(text: str) -> str:
    """Text reduced to lower-case words, for matching and word error rates."""
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = _TIME.sub(lambda m: f"{m[1]} {'' if m[2] == '00' else m[2]}", text)
    text = _ORDINAL.sub(lambda m: " " + num2words(int(m[1]), to="ordinal") + " ", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = _NUMBER.sub(lambda m: _spell(m[0]), text)
    text = text.replace("-", " ").replace("’", "'")
    words = _KEEP.sub(" ", text).split()
    return " ".join(word.strip("'") for word in words if word.strip("'"))
