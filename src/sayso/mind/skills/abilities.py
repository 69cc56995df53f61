"""'What can you do?': the skills Sayso really has, said plainly (the LLM would only guess)."""

from __future__ import annotations

import re

from sayso.mind.skills import SkillResult

# The whole request must be the question: "what can you do about my essay?" is a question for the LLM.
_ASK = re.compile(
    r"^(?:(?:so|okay|ok|hey|well|and|sayso|please|tell me) )*"
    r"(?:what (?:can|could) you (?:do|help (?:me )?with|help with)(?: for me)?"
    r"|what are you (?:able to do|good at|for)|what do you do|what can i (?:ask|say to) you"
    r"|what are your (?:skills|features|abilities|commands)|what skills do you have"
    r"|how (?:can|could) you help(?: me)?|what (?:sort|kind)s? of things can you do|help)"
    r"(?: please)?$"
)

ABILITIES = (
    "I can chat and answer everyday questions; set timers, alarms and reminders; keep notes and "
    "shopping or to-do lists; work out sums; tell you the time and date; remember things you tell me, "
    "and say or forget what I remember when you ask; and speak slower, faster, or in another voice. "
    "You can interrupt me any time by talking."
)


def abilities(text: str) -> SkillResult | None:
    """Sayso's skills, when the user asks what it can do."""
    return SkillResult("skill:abilities", ABILITIES) if _ASK.search(text) else None
