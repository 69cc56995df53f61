"""The safety screen, run on every utterance before anything else, and the guard on what the LLM says.

Rules and a classifier, not the LLM, decide: the embedded model is far too small to be trusted with
this (asked for the log-odds of "yes" with a few-shot prompt, Qwen2.5-Coder-1.5B ranks crisis lines
far worse than the classifier: bench/crisis_llm.py, docs/performance.md). The rules catch the common
wordings and can be read, tested and argued about; the classifier (``sayso.mind.crisis``, MiniLM
embeddings) catches what they miss because it does not depend on the exact words, and vetoes a
rule's match it is sure is the words used for something else. Hyperbole ("this traffic is killing
me", "I could die of embarrassment") is told apart from statements of suicidal ideation or
self-harm. Imminent danger (means at hand, an act under way, a time set soon) gets a reply that says
to call for help now, before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sayso.mind import crisis
from sayso.mind.crisis import Verdict

CRISIS_LINES = {
    "US": "In the US you can call or text 988, the Suicide and Crisis Lifeline, any time, day or night",
    "CA": "In Canada you can call or text 988, the Suicide Crisis Helpline, any time",
    "GB": "In the UK you can call Samaritans on 116 123, free, any time",
    "UK": "In the UK you can call Samaritans on 116 123, free, any time",
    "IE": "In Ireland you can call Samaritans on 116 123, free, any time",
    "AU": "In Australia you can call Lifeline on 13 11 14, any time",
    "NZ": "In New Zealand you can call or text 1737, any time",
    "FR": "In France you can call 3114, any time",
    "DE": "In Germany you can call the Telefonseelsorge on 0800 111 0 111, any time",
}
ANY_LINE = "You can find a free, confidential helpline near you at findahelpline.com"
EMERGENCY = {"US": "911", "CA": "911", "GB": "999", "UK": "999", "IE": "112", "AU": "000", "NZ": "111"}

_SELF = r"(?:my ?self|my own life|my life)"
_CRISIS = re.compile(
    "|".join(
        (
            rf"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|end|ending|take|taking|burn|burning|starve)\s+{_SELF}",
            r"\b(?:want|wanna|wanted|wish|going|planning|plan|ready|tempted|thinking about|thought about|thinking of"
            r"|decided|deserve) (?:to )?(?:die|be dead|not be alive|not exist|disappear forever"
            r"|end (?:it|it all|things|everything))\b",
            r"\bsuicidal\b",
            r"\b(?:i|i'm|i've|i am|me|my)\b.{0,40}\bsuicide\b|\bsuicide\b.{0,30}\b(?:i|me|my)\b",
            r"\bbetter off (?:dead|without me|if i (?:was|were) (?:dead|gone))\b",
            r"\b(?:better|happier|easier)(?: off)? (?:if|when) i (?:wasn't|weren't|was not|were not"
            r"|wasnt) (?:here|around|alive"
            r"|born)\b|\b(?:i'm|i am) (?:so )?(?:done|finished) with (?:life|living|being alive|it all|this life)\b",
            r"\b(?:no|any|a) (?:reason|point) (?:to|in|for) (?:live|living|keep living|go on|going on"
            r"|keep going|carry on"
            r"|carrying on|being alive|be alive|exist|existing)(?: anymore)?$|\bno (?:reason"
            r"|point) (?:to live|in living)\b",
            r"\b(?:i've been|i have been|i started|i keep|i kept|i'm) cutting(?: myself)?(?: again)?$"
            r"|\bcutting again\b",
            r"\bwant (?:it all|everything|all of (?:it|this)|my life|the pain|this life) to (?:end|stop|be over)\b",
            r"\b(?:don't|do not|dont) want to (?:live|be alive|be here anymore|exist|wake up"
            r"|go on living|keep living)\b",
            r"\b(?:wish|hope) i (?:was|were|'d|would|could) (?:dead|never born|never wake up|not wake up|just die)\b",
            r"\bwish i'd never been born\b|\bwish i had never been born\b",
            r"\bself[ -]?harm|\bhurt(?:ing)? my ?self\b|\bcut(?:ting)? my (?:arms?|wrists?|legs?)\b"
            r"|\bslit my wrists?\b",
            r"\b(?:take|took|swallow|swallowed) (?:all|a bunch of|a lot of) (?:my |the |these "
            r"|those )?(?:pills|tablets)\b",
            r"\boverdos(?:e|ing)\b.{0,20}\b(?:on purpose|tonight|myself)\b|\b(?:going|want) to overdose\b",
            r"\b(?:jump|jumping) (?:off|from) (?:a|the|this) (?:bridge|building|roof|cliff|balcony)\b",
            r"\bhang(?:ing)? my ?self\b|\bend(?:ing)? it all\b|\bend my life\b|\btake my own life\b",
            r"\bnobody (?:would|will) (?:miss|care) (?:me )?if i (?:died|was gone|were gone|disappeared)\b",
            r"\bcan't (?:go on|keep going) (?:like this |anymore|living)|\bdon't want to be here anymore\b",
            r"\bthoughts? of (?:dying|death|ending it)\b",
            r"\b(?:life|living|my life) (?:isn't|is not|isnt|ain't|is no longer) worth (?:it|living)\b"
            r"|\bnot worth living\b",
            r"\b(?:what's|what is) the point (?:of|in) (?:living|life|going on|being alive|being here|carrying on)\b",
            r"\b(?:better|happier|easier) (?:off )?(?:if|when|once) i(?:'m| am| was| were| am) (?:gone"
            r"|dead|not here|not around)\b",
            r"\bdisappear (?:and never come back|forever|for good|for ever)\b|\b(?:sleep"
            r"|go to sleep) and never wake up\b",
            r"\b(?:have|got|made) a plan to (?:die|end (?:it|things|my life))\b",
        )
    )
)
# Hyperbole and idiom that use the same words without meaning them.
_NOT_CRISIS = re.compile(
    r"\b(?:die|dying) (?:of|from) (?:embarrassment|laughter|laughing|boredom|shame|cringe|happiness|cuteness|thirst"
    r"|hunger|(?:the )?heat|(?:the )?cold|curiosity)\b"
    r"|\bdying (?:to|of laughter|laughing)\b|\bdied laughing\b|\bto die for\b"
    r"|\bif i (?:have|had) to (?:\w+ ){1,8}(?:again|one more|1 more|another)\b.*\bkill myself\b"
    r"|\bsuicide squad\b|\bsuicide (?:prevention|awareness|doors?)\b"
    r"|\b(?:want|wanna) to die (?:of|from|laughing)\b|\bkill (?:myself )?laughing\b"
)
# Cues that a crisis is imminent: a time set soon, means at hand, an act under way or done, a last goodbye.
_IMMINENT = re.compile(
    r"\b(?:right now|now|tonight|today|tomorrow|this (?:morning|afternoon|evening|weekend|week)"
    r"|by (?:the )?(?:morning|tonight|tomorrow)|in (?:an|a few|\d+) (?:hours?|minutes?)|(?:minutes?|an hour|hours?) ago"
    r"|after (?:work|school|my shift)|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|when every(?:one|body)(?:'s| is) (?:asleep|out|gone))\b"
    r"|\b(?:in my hands?|in front of me|right here|(?:is|are|it's) (?:loaded|ready)|i'm ready"
    r"|already (?:taken|took|swallowed|done)|just (?:took|taken|swallowed|drank|cut)"
    r"|(?:i've|i have) (?:taken|swallowed|drunk|cut)|i (?:took|swallowed|drank)"
    r"|(?:i'm|i am) (?:standing |sitting )?(?:on|at|in) (?:the )?(?:edge|ledge|bridge|roof|railing|tracks|platform"
    r"|cliff|balcony|top)|last (?:message|night alive|day|goodbye)|final goodbye|this is (?:my )?goodbye"
    r"|noose|bleeding)\b"
)
_IDENTIFY = re.compile(
    r"\b(?:who(?:'s| is| was)|whose voice|identify|recogni[sz]e|tell me who|figure out who|work out who|know who"
    r"|find out who|match)\b.{0,40}\b(?:voice|voices|speaking|talking|speaker|recording|clip|tape|caller"
    r"|audio|voicemail"
    r"|voice message|on the (?:phone|call))\b|\bwhose voice\b|\bis (?:this|that) (?:the )?voice of\b"
    r"|\bis (?:this|that) \w+(?: \w+)?'s voice\b"
)
_NOT_IDENTIFY = re.compile(
    r"\bspeaker of the house\b|\b(?:talking|speaking) (?:about|of)\b|\bvoice (?:of reason|actor)\b"
)
_HUMAN_QUESTION = re.compile(
    r"\bare you (?:a |an )?(?:real |actual |living |human )?(?:human|person|people|man|woman|robot|bot"
    r"|ai|machine|computer"
    r"|alive|real|conscious|sentient)\b|\b(?:am i|are we) (?:talking|speaking|chatting) (?:to"
    r"|with) (?:a |an )?(?:real |actual )?"
    r"(?:human|person|bot|machine|robot|ai|computer)\b|\bis (?:this|there) a (?:real )?(?:person|human|bot)\b"
)
_MINOR_AGE = re.compile(
    r"\b(?:i'm|i am|im) (?:only |just )?(?P<age>[4-9]|1[0-7])(?: years old| year old| yrs old)?$"
    r"|\b(?:i'm|i am|im) (?:only |just )?(?P<age2>[4-9]|1[0-7]) years? old\b"
    r"|\b(?:i'm|i am|im) in (?:the )?(?:[1-9]|1[0-2])(?:st|nd|rd|th)? grade\b|\bi'm a kid\b|\bi am a kid\b"
)
_ADULT = re.compile(
    r"\b(?:sex|sexy|sexual|porn\w*|nude|nudes|naked|horny|kiss me|make out|be my (?:girlfriend|boyfriend|lover)"
    r"|date me|romantic|flirt\w*|drunk|beer|wine|vodka|whiskey|cocktails?|liquor|alcohol|weed|marijuana|cocaine|drugs?"
    r"|vape|vaping|cigarettes?|smoking|tobacco"
    r"|gambl\w*|casino|betting|gun|guns|gore)\b"
)
_HUMAN_CLAIM = re.compile(
    r"\b(?:i am|i'm|im)\s+(?:just\s+|also\s+|really\s+|actually\s+)?(?:a\s+)?(?:real\s+|actual\s+|living\s+)?"
    r"(?:human(?: being)?|person|man|woman|girl|boy|guy)\b(?!['’]s)"
    r"|\b(?:i am|i'm)\s+not\s+(?:an?\s+)?(?:ai|bot|robot|machine|computer|program|chatbot|language model|artificial)\b"
    r"|\bas a (?:human|person)\b|\bi(?:'m| am) (?:also )?alive\b|\bi have a (?:body|family|childhood)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Screen:
    """What the safety screen found in an utterance: the route and, for a minor, whether the age was said."""

    route: str  # "safety:crisis", "safety:identify", "safety:disclosure", "safety:minor"
    minor_age_said: bool = False
    imminent: bool = False  # for a crisis: danger now, so the reply says to call for help now


def by_meaning(text: str) -> Verdict:
    """The classifier's verdict on ``text``, from the shared model (loaded on first use)."""
    return crisis.model().judge(text)


def screen(text: str, minor: bool, meaning: Callable[[str], Verdict] | None = by_meaning) -> Screen | None:
    """The safeguard an utterance (already ``normal``-ised) calls for, if any.

    ``meaning`` judges crisis lines by meaning beside the rules; ``None`` leaves the rules alone."""
    if (found := crisis_screen(text, meaning)) is not None:
        return found
    if _IDENTIFY.search(text) and not _NOT_IDENTIFY.search(text):
        return Screen("safety:identify")
    if _HUMAN_QUESTION.search(text):
        return Screen("safety:disclosure")
    said_minor = _MINOR_AGE.search(text) is not None
    if (minor or said_minor) and _ADULT.search(text):
        return Screen("safety:minor", said_minor)
    if said_minor:
        return Screen("safety:minor_age", True)
    return None


def crisis_screen(text: str, meaning: Callable[[str], Verdict] | None = by_meaning) -> Screen | None:
    """``safety:crisis`` if ``text`` (``normal``-ised) is a crisis of the speaker's own, else None."""
    if _NOT_CRISIS.search(text):
        return None
    ruled = _CRISIS.search(text) is not None
    if meaning is None:
        return Screen("safety:crisis", imminent=_IMMINENT.search(text) is not None) if ruled else None
    verdict = meaning(text)
    if verdict.crisis >= crisis.TRIGGER or (ruled and verdict.crisis >= crisis.VETO):
        imminent = _IMMINENT.search(text) is not None or verdict.imminent >= crisis.IMMINENT
        return Screen("safety:crisis", imminent=imminent)
    return None


def crisis_reply(locale: str, line: str = "", imminent: bool = False) -> str:
    """The caring reply with crisis resources for ``locale`` (``line`` overrides the table); for
    imminent danger it opens by saying to call the emergency number now."""
    resource = line or CRISIS_LINES.get(locale.upper(), ANY_LINE)
    emergency = EMERGENCY.get(locale.upper(), "your local emergency number")
    if imminent:
        return (
            f"Please call {emergency} right now, or ask someone near you to call for you. "
            f"{resource.rstrip('.')}. You deserve help this minute, and I'm glad you told me. "
            "If you can, put what you might use out of reach and stay near other people. "
            "I'm an AI, not a counsellor, but I'm here and I'll keep talking with you while you get help."
        )
    return (
        "I'm really sorry you're feeling this way, and I'm glad you told me. "
        f"You deserve support from a person right now. {resource.rstrip('.')}. "
        f"If you're in danger or might act on these thoughts, please call {emergency}. "
        "I'm an AI, not a counsellor, but I'm here and I'll keep talking with you if you'd like."
    )


IDENTIFY_REPLY = (
    "I don't identify people from their voices. A voice belongs to the person it comes from, "
    "so I won't guess or check who is speaking."
)
MINOR_REPLY = (
    "That's not something I can talk about with you. A parent or another grown-up you trust is the best person to ask."
)
MINOR_NOTED = "Thanks for telling me. I'll keep things suitable for you. What would you like to do?"
HUMAN_REPLACEMENT = "I'm an AI, not a person."


def guard(clauses: Iterable[str], minor: bool, blocked: Callable[[], None] = lambda: None) -> Iterator[str]:
    """Pass the LLM's clauses on, replacing any claim to be human (and, for a minor, any clause on
    adult topics); ``blocked`` is called for each claim replaced.

    Clauses (``sayso.speech.clauses``) end at punctuation, or before a joining word or a preposition
    ("and", "which", "to", "for", ...). A claim is a run of words with none of these inside ("I'm a
    real human being", "I am not an AI", "as a person"), so it never spans two clauses."""
    for clause in clauses:
        yield _checked(clause, minor, blocked)


def _checked(clause: str, minor: bool, blocked: Callable[[], None]) -> str:
    if _HUMAN_CLAIM.search(clause):
        blocked()
        return HUMAN_REPLACEMENT
    if minor and _ADULT.search(clause.lower()):
        return "Let's talk about something else."
    return clause


def claims_human(text: str) -> bool:
    """True when ``text`` has Sayso claiming to be a human (what ``guard`` replaces)."""
    return _HUMAN_CLAIM.search(text) is not None
