from __future__ import annotations

from sayso.speech.clauses import clauses, sentences, speakable


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_sentences_come_out_as_soon_as_they_end() -> None:
    out = list(clauses(pieces("Sure thing. The capital of France is Paris! Anything else?")))
    assert out == ["Sure thing.", "The capital of France is Paris!", "Anything else?"]


def test_a_later_clause_is_cut_at_a_comma_but_short_ones_are_not() -> None:
    text = "Sure. Well, if you want to bake bread tonight, start the dough early and let it rise."
    assert list(clauses(pieces(text))) == [
        "Sure.",
        "Well, if you want to bake bread tonight,",
        "start the dough early and let it rise.",
    ]


def test_markdown_is_not_read_aloud() -> None:
    assert speakable("**Bold** and `code` and [a link](http://x)") == "Bold and code and a link"
    assert list(clauses(["# Title\n", "* item one"])) == ["Title item one"]


def test_decimals_do_not_end_a_sentence() -> None:
    text = "Sure. Pi is about 3.14 and e is 2.72."
    assert list(clauses(pieces(text))) == ["Sure.", "Pi is about 3.14 and e is 2.72."]


def test_the_first_clause_is_cut_early_so_speech_starts_sooner() -> None:
    # a comma after two words, or a joining word or preposition after four, ends the first clause only
    assert list(clauses(pieces("Good question, the sky is blue, and it is. Yes, it is."))) == [
        "Good question,",
        "the sky is blue, and it is.",
        "Yes, it is.",
    ]
    assert list(clauses(pieces("The moon is far away and it moves away a little every year but slowly."))) == [
        "The moon is far away",
        "and it moves away a little every year but slowly.",
    ]
    assert list(clauses(pieces("One of the best ways to cook rice is to rinse it first."))) == [
        "One of the best ways",
        "to cook rice is to rinse it first.",
    ]
    assert list(clauses(pieces("Rice is easy and quick."))) == ["Rice is easy and quick."]
    assert list(clauses(pieces("Rice and beans."))) == ["Rice and beans."]


def test_empty_stream_gives_nothing() -> None:
    assert list(clauses([])) == []
    assert list(clauses(["  ", "**"])) == []


def test_a_text_known_in_full_is_cut_at_its_sentences() -> None:
    text = "Just so you know, I'm Sayso, an AI assistant. Ask me anything"
    assert list(sentences(text)) == ["Just so you know, I'm Sayso, an AI assistant.", "Ask me anything"]
    assert list(sentences("Okay, I've set a timer for ten minutes")) == ["Okay, I've set a timer for ten minutes"]
    assert list(sentences("")) == []
