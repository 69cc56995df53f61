"""Field types for request bodies, checked at the API edge before any model or database sees them.

``Text`` is free text a person wrote (a chat message, words to speak, a name): it may not hold a
NUL or other control character (C libraries such as eSpeak cut or fail on them) nor a lone UTF-16
surrogate (``"\\ud800"`` is valid JSON but not text: tokenizers, SQLite and encoders reject it).
``RowId`` is a database row number: SQLite integers stop at 2**63 - 1.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

from sayso.errors import BadRequest

_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SQLITE_MAX_INT = 2**63 - 1


def text_problem(value: str) -> str | None:
    """What makes ``value`` not plain text (a sentence), or None when it is."""
    found = _NOT_TEXT.search(value)
    if found is None:
        return None
    return (
        f"the text holds the character U+{ord(found.group()):04X} at position {found.start()}, "
        "which is not text (a control character or half of a UTF-16 pair); remove it"
    )


def check_text(value: str) -> str:
    """``value`` unchanged; BadRequest if it is not plain text (for messages outside pydantic)."""
    problem = text_problem(value)
    if problem:
        raise BadRequest(problem[0].upper() + problem[1:] + ".")
    return value


def _validate(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)  # pydantic turns it into a 400 naming the field
    return value


Text = Annotated[str, AfterValidator(_validate)]
RowId = Annotated[int, Path(ge=1, le=SQLITE_MAX_INT, description="a row number (1 to 2**63 - 1)")]
