"""Memory in conversation: "what do you remember about me?", "forget that", private and off modes,
answering questions about the user from what they shared, and noticing facts worth keeping."""

from __future__ import annotations

import re
from collections.abc import Callable

from sayso.mind.memory import Memory, MemoryStore, fact_in, kin_in
from sayso.mind.skills import SkillResult
from sayso.mind.text import second_person

RECALL_SCORE = 0.4  # a fact this close to a question about the user answers it (if about the same people)
NEAR = 0.08  # facts this close to the best one answer the question with it
NEAR_KIN = 0.15  # wider for facts about the same person or pet, where the newest one wins
FORGET_SCORE = 0.45
CONTEXT_SCORE = 0.3  # facts this close go into the LLM's prompt

_LIST = re.compile(
    r"\bwhat (?:do|did|else do) you (?:know|remember|recall) about me\b|\bwhat have i told you\b"
    r"|\btell me what you (?:know|remember) about me\b|\bwhat do you remember$|\bwhat things do you know about me\b"
    r"|\bwhat(?:'s| is) in your memory\b|\bwhat do you have (?:on|about) me\b"
)
_FORGET_LAST = re.compile(
    r"^(?:please |okay |ok |actually |no |oh )*(?:forget|delete|erase|scratch|unlearn|remove) (?:that|it|this|what i "
    r"(?:just )?(?:said|told you)|the last thing(?: i said)?)(?: please)?$|^forget$|^(?:don't"
    r"|do not) remember (?:that|this)$"
)
_FORGET_ALL = re.compile(
    r"\bforget (?:everything|all of it|all about me|all that you know)\b|\b(?:delete|erase"
    r"|wipe) (?:all )?(?:your|my) memor"
)
_FORGET_WHAT = re.compile(
    r"^(?:please |okay |ok |actually )*(?:forget|delete|erase) (?:about |that |the fact that )?(?P<what>.+)$"
)
_OFF = re.compile(
    r"\b(?:turn|switch|shut) off (?:your )?memory\b|\b(?:turn|switch) (?:your )?memory off\b"
    r"|\bdisable (?:your )?memory\b"
    r"|\bstop remembering\b|\bdon't remember anything\b|\bmemory off\b|\b(?:start|go into|turn on|enter) private mode\b"
    r"|\bprivate mode on\b"
)
_ON = re.compile(
    r"\b(?:turn|switch) on (?:your )?memory\b|\b(?:turn|switch) (?:your )?memory (?:back )?on\b"
    r"|\benable (?:your )?memory\b"
    r"|\bstart remembering\b|\bmemory on\b|\b(?:stop|end|leave|exit|turn off) private mode\b|\bprivate mode off\b"
    r"|\byou can remember (?:things )?again\b"
)
PRIVATE = re.compile(
    r"\b(?:this is|it's|that's) (?:private|secret|confidential)\b|\bkeep (?:this|it|that) (?:private"
    r"|secret|between us)\b"
    r"|\boff the record\b|\b(?:don't|do not) (?:remember|save|store|write down) (?:this|that|it)\b|\bjust between us\b"
    r"|\bbetween you and me\b|\bdon't tell anyone\b"
)
_QUESTION = re.compile(
    r"^(?:so |and |hey |okay |ok |um |uh )*(?:what|who|where|when|which|how|do you|did i|do i|am i|is my|are my|have i"
    r"|was i|is there|are there|can you remember|remind me what|tell me)\b"
)
_ABOUT_ME = re.compile(r"\b(?:my|mine|i|me|i'm|am i)\b")
_SURELY_RECALL = re.compile(
    r"\b(?:what(?:'s| is| are| was)|who(?:'s| is| are)|where(?:'s| is| do| does)|when(?:'s| is)) my\b"
    r"|\bdo you (?:know|remember)\b.*\b(?:my|i|me)\b|\bdid i (?:tell|mention)\b|\bwhat did i (?:tell|say)\b"
    r"|\bhow old am i\b|\bwhat(?:'s| is) my name\b|\bwho am i\b|\bwhere do i (?:live|work)\b"
    r"|\bwhat do i (?:do|eat|like)\b"
)


_WANTS_HELP = re.compile(
    r"\b(?:what|how|where|which) (?:can|should|could|would) (?:i|we)\b|\b(?:suggest|recommend|any ideas|tips|advice)\b"
)
"""A request for advice or a suggestion ("what can I put in my coffee?"): the LLM answers it, with the
user's facts in its prompt; memory only answers questions about the user ("what's my sister's name?")."""
_ASKS = re.compile(
    r"\b(?:any|some) (?:tips|ideas|advice|suggestions|thoughts|recommendations)\b"
    r"|\b(?:what|how|which|where|when|why|who|should|can|could|would|will|is|are|do|does) (?:i|you|we|it|that|this"
    r"|there|should|can|could|would|do|does|to)\b"
    r"|\b(?:help me|tell me|give me|suggest|recommend|advise|ideas?|tips)\b"
)
"""Words that ask for something: an utterance with them wants an answer, not only to be remembered."""


def asks_something(original: str, normalised: str) -> bool:
    """True when an utterance asks a question or for help ("... I'm nervous. Any tips?")."""
    return "?" in original or _ASKS.search(normalised) is not None


class MemorySkill:
    """Speaks about and manages the user's memories; ``last`` is the fact stored most recently."""

    def __init__(self, store: MemoryStore, allowed: bool, clock: Callable[[], float]) -> None:
        self.store, self.allowed, self.clock = store, allowed, clock
        self.last: Memory | None = None

    @property
    def on(self) -> bool:
        """True when facts may be stored: allowed by the settings and not turned off by the user."""
        return self.allowed and self.store.enabled

    def command(self, text: str) -> SkillResult | None:
        """A request about memory itself (list, forget, on/off), or None."""
        if _ON.search(text):
            self.store.set_enabled(True)
            return SkillResult("memory:on", "Okay, memory is back on. I'll remember what you share with me.")
        if _OFF.search(text):
            self.store.set_enabled(False)
            return SkillResult(
                "memory:off", "Okay, memory is off. I won't remember anything you tell me until you turn it back on."
            )
        if _LIST.search(text):
            return self._listing()
        if _FORGET_ALL.search(text):
            return SkillResult(
                "memory:forget",
                "To forget everything at once, run sayso memory delete --all on your computer. "
                "By voice, I can forget one thing at a time.",
            )
        if _FORGET_LAST.search(text):
            return self._forget_last()
        if match := _FORGET_WHAT.search(text):
            return self._forget_like(match["what"])
        return None

    def _listing(self) -> SkillResult:
        memories = self.store.all()
        if not memories:
            off = " Memory is off right now." if not self.on else ""
            return SkillResult("memory:list", "I don't remember anything about you yet." + off)
        spoken = [second_person(m.text) for m in reversed(memories[-8:])]  # the newest first
        more = f" And {len(memories) - 8} more things; ask me about any of them." if len(memories) > 8 else ""
        return SkillResult("memory:list", "Here's what I remember: " + "; ".join(spoken) + "." + more)

    def _forget_last(self) -> SkillResult:
        target = self.last
        if target is None:
            return SkillResult("memory:forget", "There's nothing from just now for me to forget.")
        self.store.delete([target.id]) if any(m.id == target.id for m in self.store.all()) else None
        self.last = None
        return SkillResult("memory:forget", f"Okay, I've forgotten that {second_person(target.text)}.")

    def _forget_like(self, what: str) -> SkillResult:
        found = self.store.search(what, k=1, min_score=FORGET_SCORE)
        if not found:
            return SkillResult("memory:forget", "I don't have anything like that to forget.")
        memory = found[0][0]
        self.store.delete([memory.id])
        return SkillResult("memory:forget", f"Okay, I've forgotten that {second_person(memory.text)}.")

    def answer(self, text: str, question: bool = False) -> SkillResult | None:
        """Answer a question about the user from memory, or None to leave it to the LLM.

        ``question``: the transcript ended in a question mark (Whisper punctuates questions)."""
        if not ((question or _QUESTION.search(text)) and _ABOUT_ME.search(text)):
            return None
        if _WANTS_HELP.search(text) and not _SURELY_RECALL.search(text):  # advice fitted to them, from the LLM
            return None
        asked = kin_in(text)
        found = [(m, s) for m, s in self.store.search(text, k=3, min_score=RECALL_SCORE) if asked <= kin_in(m.text)]
        if found:
            near = [m for m, score in found if score >= found[0][1] - (NEAR_KIN if asked else NEAR)]
            if asked:  # facts about the same person: the newest is what is true now
                near = [max(near, key=lambda m: m.id)]
            facts = [second_person(m.text) for m in near[:2]]
            return SkillResult("memory:recall", "You told me " + " and ".join(facts) + ".")
        if _SURELY_RECALL.search(text):
            return SkillResult("memory:unknown", "I don't think you've told me that yet.")
        return None

    def notice(self, original: str, normalised: str) -> SkillResult | None:
        """Store a fact the user shared (unless private or memory is off). A fact said on its own, or
        with "remember that", gets a confirmation; a fact within more talk is kept quietly and the
        LLM answers the rest (None)."""
        found = fact_in(original)
        if found is None:
            return None
        fact, explicit = found
        if PRIVATE.search(normalised) or not self.on:
            if explicit:
                why = "memory is off" if not self.on else "you said it's private"
                return SkillResult("memory:private", f"I won't keep that, since {why}.")
            return None
        self.last = self.store.add(fact, self.clock())
        if explicit:
            return SkillResult("memory:store", f"Okay, I'll remember that {second_person(fact)}.")
        if len(normalised.split()) <= len(fact.split()) + 2 and not asks_something(original, normalised):
            return SkillResult("memory:store", f"Got it. I'll remember that {second_person(fact)}.")
        return None  # kept quietly: the LLM answers what else was said

    def context(self, text: str) -> list[str]:
        """What the LLM should know about the user to answer ``text``: facts in the user's own words, quoted.

        Not turned to "you": in the model's instructions "you" is the assistant, and "you're allergic
        to peanuts" there read as the assistant's allergy (it went on to suggest peanut butter)."""
        return [f'"{m.text}"' for m, _ in self.store.search(text, k=3, min_score=CONTEXT_SCORE)]
