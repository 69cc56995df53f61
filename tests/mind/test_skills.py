"""Local skills: timers, alarms and reminders (persisted, announced when due), lists and notes,
arithmetic and units, and the speech controls, on the text Whisper writes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sayso.mind.skills import SkillResult, calc, controls
from sayso.mind.skills.notes import Lists, NotesSkill
from sayso.mind.skills.schedule import Schedule, ScheduleSkill
from sayso.mind.skills.when import duration_seconds
from sayso.mind.text import is_nonsense, normal
from sayso.store.db import Database

MONDAY_10 = datetime(2026, 11, 23, 10, 0).timestamp()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = MONDAY_10) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def scheduler(path: Path, clock: Clock) -> ScheduleSkill:
    return ScheduleSkill(Schedule(Database(path), "ana"), clock)


def ask(skill: ScheduleSkill | NotesSkill, text: str) -> SkillResult:
    result = skill(normal(text))
    assert result is not None, text
    return result


def test_a_timer_survives_a_restart_and_is_announced_once(tmp_path: Path) -> None:
    clock = Clock()
    assert "10 minutes" in ask(scheduler(tmp_path / "a.db", clock), "Set a timer for 10 minutes.").text
    later = Schedule(Database(tmp_path / "a.db"), "ana")  # a new process: only the file remains
    assert later.due(MONDAY_10 + 599) == []
    said = later.due(MONDAY_10 + 601)
    assert said == ["Time's up! Your timer for 10 minutes is done."]
    assert later.due(MONDAY_10 + 700) == []


def test_an_announcement_after_downtime_says_when_it_was_due(tmp_path: Path) -> None:
    clock = Clock()
    ask(scheduler(tmp_path / "a.db", clock), "Remind me to call Mom at 5 p.m.")
    said = Schedule(Database(tmp_path / "a.db"), "ana").due(MONDAY_10 + 9 * 3600)
    assert said == ["Here's your reminder: call mom. It was due at 5 pm."]


def test_reminders_alarms_and_their_times(tmp_path: Path) -> None:
    skill = scheduler(tmp_path / "a.db", Clock())
    assert ask(skill, "remind me in 20 minutes to take the bread out").text.endswith("take the bread out at 10:20 am.")
    assert ask(skill, "Wake me up at 7:30 tomorrow.").text == "Alarm set for 7:30 am tomorrow."
    assert ask(skill, "Set an alarm for 9.").text == "Alarm set for 9 pm."  # 9 am has gone: the next 9 o'clock
    pending = skill.schedule.pending()
    assert [e.kind for e in pending] == ["reminder", "alarm", "alarm"]
    assert ask(skill, "What are my reminders?").text == "You have 1 reminder: take the bread out at 10:20 am."
    assert ask(skill, "Cancel my alarm.").text == "Okay, I've cancelled the alarm."
    assert len(skill.schedule.pending("alarm")) == 1


@pytest.mark.parametrize(
    ("said", "route", "words"),
    [
        ("Remind me yesterday to buy milk.", "skill:past", "already passed"),
        ("Remind me to call Sam 2 hours ago.", "skill:past", "already passed"),
        ("Set a timer for ten years.", "skill:too_far", "up to a day"),
        ("remind me in 5 years to renew my passport", "skill:too_far", "up to a year"),
        ("Set a timer.", "skill:ask", "how long"),
        ("Set a timer for 0 minutes.", "skill:ask", "no time at all"),
        ("Set a timer for minus five minutes.", "skill:ask", "below zero"),
        ("Set a timer for -5 minutes.", "skill:ask", "below zero"),
        ("Remind me in negative 2 hours to call Sam.", "skill:ask", "below zero"),
        ("Wake me up in minus ten minutes.", "skill:ask", "below zero"),
        ("Remind me to water the plants.", "skill:ask", "when should i remind you"),
        ("Cancel the timer.", "skill:timer", "don't have any timers"),
    ],
)
def test_impossible_requests_get_a_spoken_answer_and_store_nothing(
    tmp_path: Path, said: str, route: str, words: str
) -> None:
    skill = scheduler(tmp_path / "a.db", Clock())
    result = ask(skill, said)
    assert result.route == route and words in result.text.lower()
    assert skill.schedule.pending() == []


def test_lists_and_notes(tmp_path: Path) -> None:
    skill = NotesSkill(Lists(Database(tmp_path / "a.db"), "ana"), Clock())
    assert ask(skill, "Add milk and eggs to my shopping list.").text == "Added milk and eggs to your shopping list."
    ask(skill, "put olive oil on the grocery list")
    assert ask(skill, "What's on my shopping list?").text == "On your shopping list: milk, eggs, olive oil."
    assert ask(skill, "Take eggs off my shopping list.").text == "Removed eggs from your shopping list."
    assert "couldn't find" in ask(skill, "remove bread from my shopping list").text
    ask(skill, "Take a note: my locker is number 12.")
    assert ask(skill, "Read me my notes.").text == "Your notes say: your locker is number 12."
    assert skill(normal("What's the weather like?")) is None


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("What's 12 times 7?", "That's 84."),
        ("what is 15% of 80", "That's 12."),
        ("What's the square root of 144?", "That's 12."),
        ("How much is two hundred and fifty divided by 4?", "That's 62.5."),
        ("What is 7 divided by 0?", "That has no answer: you can't divide by zero."),
        ("What's 9 to the power of 9999?", "That number is too large for me to say."),
        ("Convert 5 miles to kilometers.", "5 miles is 8.05 kilometers."),
        ("How many grams are in a pound?", "1 pound is 453.59 grams."),
        ("What's 100 degrees Celsius in Fahrenheit?", "100 degrees celsius is 212 degrees fahrenheit."),
        ("How many kilometers in a pound?", "I can't turn pounds into kilometers: they measure different things."),
    ],
)
def test_arithmetic_and_units(said: str, answer: str) -> None:
    result = calc.calculate(normal(said))
    assert result is not None and result.text == answer


def test_non_sums_are_left_alone() -> None:
    for said in ("What is love?", "How many people live in Paris?", "I have 2 cats and 1 dog."):
        assert calc.calculate(normal(said)) is None, said


def test_speech_controls_return_actions_not_state() -> None:
    slower = controls.speaking_rate(normal("Could you speak more slowly?"), 1.0)
    assert slower is not None and slower.action is not None and slower.action.rate == pytest.approx(0.8)
    floor = controls.speaking_rate(normal("slower"), 0.5)
    assert floor is not None and floor.action is not None and floor.action.rate == 0.5 and "can't" in floor.text
    assert controls.speaking_rate(normal("My laptop is too slow."), 1.0) is None
    voice = controls.voice_change(normal("Use the voice espeak UK."))
    assert voice is not None and voice.action is not None and voice.action.voice is not None
    assert voice.action.voice.id == "espeak-uk"
    again = controls.repeat(normal("Sorry, what did you say?"), "It is ten o'clock.")
    assert again is not None and again.text == "It is ten o'clock." and again.action is not None and again.action.repeat


def test_a_voice_nobody_lent_is_refused_with_the_catalogs_reason() -> None:
    refused = controls.voice_change(normal("Can you use Scarlett Johansson's voice?"))
    assert refused is not None and refused.action is None
    assert refused.route == "skill:voice_refused"
    assert "no voice called scarlett johansson" in refused.text.lower() and "joe" in refused.text


def test_whisper_style_text_is_normalised() -> None:
    assert normal("Wake me up at 7:30 a.m., please!") == "wake me up at 7:30 am please"
    assert normal("Set a timer for twenty-five minutes.") == "set a timer for 25 minutes"
    assert normal("one and a half hours") == "1 and a half hours"
    assert is_nonsense("") and is_nonsense("Um...") and is_nonsense(" ?? ")
    assert not is_nonsense("Hi") and not is_nonsense("no")


def test_a_sign_counts_only_when_it_stands_apart() -> None:
    assert duration_seconds(normal("set a timer for minus five minutes")) == (-300.0, (16, 31))
    found = duration_seconds(normal("set a timer for 2-3 minutes"))  # a range, not minus 3
    assert found is not None and found[0] == 180.0
