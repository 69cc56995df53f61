from __future__ import annotations

from sayso.speech.clauses import clauses, speakable


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_sentences_come_out_as_soon_as_they_end() -> None:
    out = list(clauses(pieces("Sure thing. The capital of France is Paris! Anything else?")))
    assert out == ["Sure thing.", "The capital of France is Paris!", "Anything else?"]


def test_long_clause_is_cut_at_a_comma_but_short_ones_are_not() -> None:
    text = "Well, if you want to bake bread tonight, start the dough early and let it rise."
    assert list(clauses(pieces(text))) == [
        "Well, if you want to bake bread tonight,",
        "start the dough early and let it rise.",
    ]


def test_markdown_is_not_read_aloud() -> None:
    assert speakable("**Bold** and `code` and [a link](http://x)") == "Bold and code and a link"
    assert list(clauses(["# Title\n", "* item one"])) == ["Title item one"]


def test_decimals_do_not_end_a_sentence() -> None:
    assert list(clauses(pieces("Pi is about 3.14 and e is 2.72."))) == ["Pi is about 3.14 and e is 2.72."]


def test_empty_stream_gives_nothing() -> None:
    assert list(clauses([])) == []
    assert list(clauses(["  ", "**"])) == []
