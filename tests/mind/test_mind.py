"""The mind's decisions and the companion safeguards, with an injected clock and a fake LLM
(the LLM's wording is not what is tested here; where each utterance goes, and what is said, is)."""

from __future__ import annotations

from typing import Any

import pytest

from sayso.cli import main
from sayso.config import Settings, load_settings
from sayso.errors import PromptTooLong
from sayso.mind import safety
from sayso.mind.llm.base import Message
from sayso.mind.mind import BREAK_REMINDER, NOT_CAUGHT, Mind
from sayso.realtime.turn import Assistant
from sayso.store.db import Database
from sayso.testing import FakeLLM, FakeTTS, fake_models
from sayso.voices.catalog import find_voice

START = 1_790_000_000.0
DISCLOSURE = "Just so you know, I'm Sayso, an AI assistant, not a person."


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def make(
    reply: str = "Nice to hear from you.", db: Database | None = None, **settings: Any
) -> tuple[Mind, FakeLLM, Clock]:
    llm, clock = FakeLLM(reply), Clock()
    return Mind(Settings(**settings), lambda: llm, db=db or Database(":memory:"), clock=clock), llm, clock


CRISIS = [
    "I want to kill myself.",
    "I don't want to be alive anymore.",
    "Sometimes I think everyone would be better off without me.",
    "I've been thinking about ending it all.",
    "i keep cutting myself",
    "Life isn't worth living.",
    "I wish I was dead.",
]
NOT_CRISIS = [
    "This traffic is killing me.",
    "I could die of embarrassment.",
    "My grandmother died last year and I miss her.",
    "Ugh, Monday again. Kill me now.",
    "If I have to sit through one more meeting, I'll kill myself.",
    "This cake is to die for.",
    "I feel so lonely today.",
    "We watched Suicide Squad last night.",
]


@pytest.mark.parametrize("line", CRISIS)
def test_crisis_lines_get_care_and_988_instead_of_chat(line: str) -> None:
    mind, llm, _ = make()
    reply = mind.respond(line)
    text = reply.text
    assert reply.route == "safety:crisis"
    assert "988" in text and "sorry you're feeling this way" in text
    assert llm.calls == []  # the model is not asked


@pytest.mark.parametrize("line", NOT_CRISIS)
def test_sad_or_dark_humour_lines_are_ordinary_chat(line: str) -> None:
    mind, llm, _ = make()
    reply = mind.respond(line)
    assert reply.route == "llm" and reply.text.endswith("Nice to hear from you.")
    assert len(llm.calls) == 1


def test_crisis_resources_follow_the_locale_or_the_configured_line() -> None:
    assert "116 123" in make(locale="GB")[0].respond("I want to die.").text
    assert "findahelpline.com" in make(locale="ZZ")[0].respond("I want to die.").text
    own = make(crisis_line="Call the Lakeside helpline on 555 0100")[0].respond("I want to die.").text
    assert "Lakeside helpline on 555 0100" in own and "988" not in own


def test_the_disclosure_opens_each_conversation_and_returns_every_3_hours() -> None:
    mind, _, clock = make()
    assert mind.respond("Hello.").text.startswith(DISCLOSURE)
    disclosed = []
    for minute in range(10, 400, 10):  # keep talking, every 10 minutes, for over 6 hours
        clock.now = START + minute * 60
        if mind.respond("Tell me more.").text.startswith(DISCLOSURE):
            disclosed.append(minute)
    assert disclosed == [180, 360]
    clock.now += 3600  # a long silence: a new conversation
    assert mind.respond("I'm back.").text.startswith(DISCLOSURE)
    assert mind.log.totals()["disclosure"] == 4


def talk_every_10_minutes(mind: Mind, clock: Clock, until_minute: int, needle: str) -> list[int]:
    """The minutes at which a reply contained ``needle``, talking every 10 minutes from START."""
    found = []
    for minute in range(10, until_minute + 1, 10):
        clock.now = START + minute * 60
        if needle in mind.respond("Go on.").text:
            found.append(minute)
    return found


def test_disclosure_hours_cannot_be_set_above_3() -> None:
    mind, _, clock = make(disclosure_hours=10.0)
    assert mind.respond("Hi.").text
    assert talk_every_10_minutes(mind, clock, 300, DISCLOSURE) == [180]


def test_a_break_is_suggested_after_a_long_session_and_more_often_for_a_minor() -> None:
    mind, _, clock = make(break_minutes=90.0)
    assert mind.respond("Hi.").text
    assert talk_every_10_minutes(mind, clock, 200, BREAK_REMINDER) == [90, 180]
    minor, _, clock = make(break_minutes=90.0, minor_mode="on")
    assert minor.respond("Hi.").text
    assert talk_every_10_minutes(minor, clock, 130, BREAK_REMINDER) == [60, 120]
    assert minor.log.totals()["break_reminder"] == 2


def test_the_llm_never_gets_to_claim_it_is_human() -> None:
    mind, _, _ = make("Of course! I am a real person, just like you. I love tea.")
    text = mind.respond("Are we friends?").text
    assert "real person" not in text and "I'm an AI, not a person." in text and "I love tea." in text
    assert mind.log.totals()["human_claim_blocked"] == 1
    assert safety.claims_human("As a human, I get it.") and not safety.claims_human("I'm not a human, I'm an AI.")


@pytest.mark.parametrize(
    "said",
    [
        "Well honestly I am a real human being and I love to chat with you.",  # the first clause is cut early
        "Let me say this to you as a person who cares about you.",  # cut before "to", the claim comes after
    ],
)
def test_a_claim_is_caught_however_the_reply_is_cut_into_clauses(said: str) -> None:
    mind, _, _ = make(said)
    reply = list(mind.respond("Are we friends?").pieces)
    assert len(reply) >= 2 and "I'm an AI, not a person." in reply
    assert mind.log.totals()["human_claim_blocked"] == 1


def test_asking_whether_sayso_is_human_gets_the_truth_without_the_llm() -> None:
    mind, llm, _ = make()
    reply = mind.respond("Am I talking to a real person?")
    assert reply.route == "safety:disclosure" and "not a person" in reply.text and llm.calls == []


def test_identifying_people_by_voice_is_refused() -> None:
    mind, llm, _ = make()
    for line in ("Who is speaking in this recording?", "Can you tell me whose voice this is?"):
        reply = mind.respond(line)
        assert reply.route == "safety:identify" and "don't identify people" in reply.text
    assert llm.calls == [] and mind.log.totals()["identify_refused"] == 2
    assert mind.respond("Who is the speaker of the house?").route == "llm"


def test_minor_mode_blocks_adult_topics_and_a_stated_age_turns_it_on() -> None:
    adult, _, _ = make()
    assert adult.respond("What beer goes with pizza?").route == "llm"
    kid, llm, _ = make()
    assert kid.respond("I'm 12 years old.").text
    assert kid.respond("Tell me about volcanoes.").text
    assert kid.minor and "child" in llm.calls[-1][-2].content
    assert kid.respond("What beer goes with pizza?").route == "safety:minor"
    assert kid.log.totals() == {"disclosure": 1, "minor_mode_on": 1, "minor_content_blocked": 1}
    strict, _, _ = make("You could try a glass of wine with it.", minor_mode="on")
    assert "wine" not in strict.respond("What goes well with pasta?").text


@pytest.mark.parametrize("said", ["", "   ", "Um...", "?!", "uh uh"])
def test_empty_or_nonsense_utterances_get_a_spoken_answer(said: str) -> None:
    mind, llm, _ = make()
    reply = mind.respond(said)
    assert reply.route == "empty" and reply.text.endswith(NOT_CAUGHT) and llm.calls == []


def test_skills_answer_without_the_llm_and_timers_are_announced_when_due() -> None:
    mind, llm, clock = make()
    assert "5 minutes" in mind.respond("Set a timer for 5 minutes.").text
    assert mind.respond("What's 12 times 7?").text == "That's 84."
    assert llm.calls == []
    assert mind.due_announcements(clock.now + 60) == []
    assert mind.due_announcements(clock.now + 301) == ["Time's up! Your timer for 5 minutes is done."]


def test_the_assistant_applies_voice_and_rate_actions() -> None:
    llm = FakeLLM("Sure.")
    assistant = Assistant(fake_models(llm=llm, tts=FakeTTS()), find_voice("joe"))
    assert "espeak-uk" in "".join(assistant.think("Switch to the espeak UK voice."))
    assert assistant.voice.id == "espeak-uk"
    "".join(assistant.think("Slow down, please."))
    assert assistant.speaking_rate == pytest.approx(0.8)
    "".join(assistant.think("Use Scarlett Johansson's voice."))
    assert assistant.voice.id == "espeak-uk"  # a refused voice changes nothing
    assistant.remember("What time is it?", "It's noon.")
    assert "".join(assistant.think("Repeat that.")) == "It's noon."
    assert llm.calls == []


def test_the_safeguard_report_counts_events_without_content(capsys: pytest.CaptureFixture[str]) -> None:
    db = Database.in_data_dir(load_settings().data_dir)
    mind, _, _ = make(db=db)
    assert "988" in mind.respond("I want to kill myself.").text
    assert "don't identify" in mind.respond("Who is talking on this tape?").text
    assert main(["safeguards", "report"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()[1:]}
    assert lines["crisis_referral"] == 1 and lines["identify_refused"] == 1 and lines["disclosure"] == 1
    stored = db.query("SELECT * FROM safeguard_events")
    assert {tuple(row.keys()) for row in stored} == {("day", "event", "count")}  # no text is kept


def test_reminders_are_listed_by_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    db = Database.in_data_dir(load_settings().data_dir)
    mind, _, _ = make(db=db, user="default")
    assert "water the plants" in mind.respond("Remind me to water the plants in 2 hours.").text
    assert main(["reminders"]) == 0
    out = capsys.readouterr().out
    assert "1 pending" in out and "reminder" in out and "water the plants" in out


def test_the_prompt_is_fitted_to_the_context_and_a_line_too_long_for_it_is_an_error() -> None:
    mind, llm, _ = make()
    llm.context = 400  # the fake counts about 3 characters a token: a few turns fill it
    for turn in range(6):
        line = f"Tell me fact number {turn} about the sea."
        mind.conversation.record(line, mind.respond(line).text + " Here is a long fact about the sea." * 4)
    assert mind.respond("And one about rivers?").text.endswith("Nice to hear from you.")
    sent = llm.calls[-1]
    assert llm.count_tokens(sent) <= llm.context - mind.settings.max_reply_tokens
    assert sent[0].content.startswith("You are Sayso") and sent[-1].content == "And one about rivers?"
    users = [m.content for m in sent if m.role == "user"]
    assert sent[1].role == "user" and users[-2] == "Tell me fact number 5 about the sea."  # whole turns, newest kept
    assert "fact number 0" not in " ".join(users)  # the oldest went first
    with pytest.raises(PromptTooLong):
        mind.respond("Please read all of this. " * 100)
    assert mind.respond("What's 12 times 7?").text == "That's 84."  # a skill needs no prompt: still answered


def test_the_model_sees_only_the_last_two_exchanges_each_from_a_users_turn() -> None:
    mind, llm, _ = make()
    for turn in range(5):
        said = mind.respond(f"question {turn}").text
        mind.conversation.record(f"question {turn}", said)
    assert mind.respond("question 5").text
    shown = [m.content for m in llm.calls[-1] if m.role != "system"]
    assert shown == ["question 3", "Nice to hear from you.", "question 4", "Nice to hear from you.", "question 5"]
    assert len(mind.conversation.history) == 10  # what was said is still kept ("repeat that", the cut-back)
    # a client's history may open with the assistant's words
    mind.conversation.history = [Message("assistant", "Hi!"), Message("user", "q"), Message("assistant", "a")]
    assert mind.respond("question 6").text
    assert [m.content for m in llm.calls[-1] if m.role != "system"] == ["q", "a", "question 6"]


def test_a_reply_reports_the_tokens_it_cost() -> None:
    mind, llm, _ = make("One two three.")
    reply = mind.respond("Tell me something.")
    prompt = reply.usage.prompt_tokens
    assert prompt > 0 and reply.usage.completion_tokens == 0  # the reply's count: once the stream is read
    text = reply.text
    assert prompt == llm.count_tokens(llm.calls[-1])
    assert reply.usage.completion_tokens == llm.count_text("One two three.") > 0 and "One two three." in text
    timer = mind.respond("Set a timer for five minutes.")
    assert timer.route.startswith("skill:") and timer.text and timer.usage.total_tokens == 0
