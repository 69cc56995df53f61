"""The local skills offered to a capable remote LLM as functions (OpenAI tool calling).

Each tool phrases its arguments as the spoken request the skill already understands and runs the
skill, so a tool call and a spoken request behave the same: one way of doing each thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sayso.mind.llm.base import Tool
from sayso.mind.skills import SkillResult
from sayso.mind.text import normal

Skill = Callable[[str], SkillResult | None]


def _string(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]}


def _two(first: tuple[str, str], second: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            first[0]: {"type": "string", "description": first[1]},
            second[0]: {"type": "string", "description": second[1]},
        },
        "required": [first[0], second[0]],
    }


# name, description, JSON schema, how the arguments are said as a request
_SPECS: tuple[tuple[str, str, dict[str, Any], Callable[[Mapping[str, Any]], str]], ...] = (
    ("set_timer", "Start a countdown timer.", _string("duration", "how long, e.g. '10 minutes'"),
     lambda a: f"set a timer for {a.get('duration', '')}"),
    ("set_alarm", "Set an alarm for a clock time.", _string("time", "e.g. '7:30 am' or '6 pm tomorrow'"),
     lambda a: f"set an alarm for {a.get('time', '')}"),
    ("set_reminder", "Remind the user of something at a time.",
     _two(("task", "what to remind the user to do"), ("when", "e.g. 'in 20 minutes' or 'at 5 pm tomorrow'")),
     lambda a: f"remind me to {a.get('task', '')} {a.get('when', '')}"),
    ("add_to_list", "Add items to one of the user's lists.",
     _two(("items", "the items, comma separated"), ("list", "the list's name, e.g. 'shopping'")),
     lambda a: f"add {a.get('items', '')} to my {a.get('list', '')} list"),
    ("read_list", "Read one of the user's lists.", _string("list", "the list's name, e.g. 'shopping'"),
     lambda a: f"what's on my {a.get('list', '')} list"),
    ("calculate", "Do arithmetic or convert units.", _string("question", "e.g. '12 times 7' or '5 miles in km'"),
     lambda a: f"what is {a.get('question', '')}"),
    ("date_and_time", "The current date and time.", {"type": "object", "properties": {}},
     lambda a: "what time is it"),
)  # fmt: skip


def skill_tools(skills: Skill, recall: Callable[[str], list[str]]) -> list[Tool]:
    """The skills as tools; ``skills`` answers a spoken-style request, ``recall`` finds memories."""

    def runner(phrase: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any]], str]:
        def run(arguments: Mapping[str, Any]) -> str:
            result = skills(normal(phrase(arguments)))
            return result.text if result else "That request could not be understood; ask the user to rephrase."

        return run

    tools = [Tool(name, text, schema, runner(phrase)) for name, text, schema, phrase in _SPECS]
    tools.append(
        Tool(
            "recall_memories",
            "Look up what the user has told you about themselves.",
            _string("query", "what to look for, e.g. 'sister' or 'food preferences'"),
            lambda a: "; ".join(recall(str(a.get("query", "")))) or "Nothing remembered about that.",
        )
    )
    return tools
