"""'What can you do?' lists Sayso's skills, and each skill it names answers for real."""

from __future__ import annotations

import pytest

from sayso.config import Settings
from sayso.mind.mind import Mind
from sayso.mind.skills.abilities import ABILITIES
from sayso.store.db import Database
from sayso.testing import FakeLLM


def mind() -> Mind:
    return Mind(Settings(), lambda: FakeLLM("I can do a lot of things."), db=Database(":memory:"))


@pytest.mark.parametrize(
    "line",
    ["What can you do?", "Hey, what can you help me with?", "So what are you able to do?", "What are your skills?",
     "How can you help me?", "help"],
)  # fmt: skip
def test_asking_what_sayso_can_do_lists_its_skills(line: str) -> None:
    reply = mind().respond(line)
    assert reply.route == "skill:abilities" and reply.text.endswith(ABILITIES)  # after the first-turn disclosure


@pytest.mark.parametrize(
    "line", ["What can you do about my essay?", "What do you do when you're bored?", "Can you help my son with maths?"]
)
def test_a_request_that_only_starts_alike_goes_to_the_llm(line: str) -> None:
    assert mind().respond(line).route == "llm"


@pytest.mark.parametrize(
    ("line", "route"),
    [
        ("Set a timer for five minutes.", "skill:timer"),
        ("Remind me to call Ana at 6 pm.", "skill:reminder"),
        ("Add milk to my shopping list.", "skill:list"),
        ("What's 17 times 23?", "skill:math"),
        ("What time is it?", "skill:time"),
        ("Speak slower.", "skill:rate"),
    ],
)
def test_each_skill_the_answer_names_is_real(line: str, route: str) -> None:
    assert mind().respond(line).route.startswith(route)
