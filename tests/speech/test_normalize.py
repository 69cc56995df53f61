from __future__ import annotations

import pytest

from sayso.speech.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wake me at 7:30, please!", "wake me at seven thirty please"),
        ("It's 3rd on the list.", "it's third on the list"),
        ("That costs 1,250 dollars", "that costs one thousand two hundred and fifty dollars"),
        ("Fifty-fifty & 10% off", "fifty fifty and ten percent off"),
        ("  “Hello,”   she said…  ", "hello she said"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
