"""The mind decides, per utterance: the safety screen first, then a local skill when the intent is
clear (no LLM call), else the LLM with the persona and the relevant memories in its prompt.

Every reply is a stream of clauses (``sayso.speech.clauses``), so speech can start at the first
one. The AI disclosure opens each conversation (and comes back every few hours); a break
reminder closes a turn after a long session. What the LLM says is guarded so it never claims to
be human; a barge-in stops the LLM within one token (``respond``'s ``cancel``).

Every door (``sayso talk``/``chat``/``reply``, the realtime WebSocket, the OpenAI-compatible
``/v1/chat/completions``) answers through ``respond``. A door whose client keeps the
conversation (the OpenAI API sends it whole each time) passes it as a ``ClientConversation``;
the screen, skills, memory, disclosure and guard are the same, and the prompt is fitted to the
model's context (``llm.base.fit``: oldest turns dropped first) for either kind of conversation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sayso.config import Settings
from sayso.errors import PromptTooLong
from sayso.mind import safety
from sayso.mind.companion import MAX_DISCLOSURE_HOURS, SafeguardLog, Session
from sayso.mind.dialogue import Conversation
from sayso.mind.embed import Embedder, minilm
from sayso.mind.llm.base import LLM, Message, Usage, fit
from sayso.mind.memory import MemoryStore
from sayso.mind.recall import MemorySkill
from sayso.mind.skills import Action, SkillResult, abilities, calc, controls
from sayso.mind.skills.notes import Lists, NotesSkill
from sayso.mind.skills.schedule import Schedule, ScheduleSkill
from sayso.mind.text import is_nonsense, normal
from sayso.mind.tools import skill_tools
from sayso.speech.clauses import clauses, sentences
from sayso.store.db import Database
from sayso.streams import until

MINOR_BREAK_MINUTES = 60.0
MINOR_CONTEXT = "The user is a child: keep every reply suitable for a child, and gently avoid adult topics."
BREAK_REMINDER = "By the way, we've been talking for a while. It might be a good moment for a short break."
NOT_CAUGHT = "Sorry, I didn't catch that. Could you say it again?"
_COUNTED = {
    "safety:crisis": "crisis_referral",
    "safety:identify": "identify_refused",
    "safety:disclosure": "human_question",
    "safety:minor": "minor_content_blocked",
    "skill:voice_refused": "voice_refused",
}
_SELF_DISCLOSING = ("safety:crisis", "safety:disclosure")  # these replies already say Sayso is an AI


@dataclass
class Reply:
    """One reply: where it came from (e.g. "skill:timer", "memory:recall", "safety:crisis", "llm"),
    its text as a stream of clauses, an action for the caller to apply to how Sayso speaks, and the
    tokens it cost (``usage``: the prompt's at once, the reply's once the stream has ended)."""

    route: str
    pieces: Iterator[str]
    action: Action | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def text(self) -> str:
        """The whole reply (consumes the stream)."""
        return " ".join(self.pieces)


@dataclass(frozen=True)
class ClientConversation:
    """A conversation its caller keeps, answered in place of the mind's own (which it leaves as
    is): the history so far, the caller's own instructions for the model, and the longest reply
    it wants (None: ``settings.max_reply_tokens``)."""

    conversation: Conversation
    instructions: tuple[str, ...] = field(default=())
    max_tokens: int | None = None


class Mind:
    """Memory, persona, skills and safeguards for one user's conversation."""

    def __init__(
        self,
        settings: Settings,
        llm: Callable[[], LLM],
        conversation: Conversation | None = None,
        db: Database | None = None,
        clock: Callable[[], float] = time.time,
        embedder: Callable[[], Embedder] = minilm,
    ) -> None:
        self.settings, self.clock, self._llm = settings, clock, llm
        self.conversation = conversation or Conversation(settings.assistant_name, style=settings.persona_style)
        self.db = db or Database.in_data_dir(settings.data_dir)
        self.minor = settings.minor_mode.strip().lower() == "on"
        self.memory = MemorySkill(MemoryStore(self.db, settings.user, embedder), settings.memory != "off", clock)
        self.schedule = Schedule(self.db, settings.user)
        self.log = SafeguardLog(self.db)
        self.session = Session(min(settings.disclosure_hours, MAX_DISCLOSURE_HOURS) * 3600, self._break_seconds())
        self._skills = (ScheduleSkill(self.schedule, clock), NotesSkill(Lists(self.db, settings.user), clock))
        self.tools = skill_tools(self._skill, self.memory.context)

    def respond(
        self,
        user_text: str,
        rate: float = 1.0,
        cancel: threading.Event | None = None,
        client: ClientConversation | None = None,
    ) -> Reply:
        """Decide how to answer ``user_text`` and return the reply (``rate``: the current speaking
        rate; setting ``cancel`` stops the LLM at its next token; ``client``: the conversation, when
        the caller keeps it). The caller records the turn in ``self.conversation`` if it wants.

        PromptTooLong, here rather than during the stream, if ``user_text`` cannot fit the model."""
        now = self.clock()
        client = client or ClientConversation(self.conversation)
        disclose, rest = self.session.begin_turn(now)
        reply = self._decide(user_text, now, rate, cancel or threading.Event(), client)
        opening, closing = "", ""
        if disclose:
            self.log.count("disclosure", now)
            if reply.route not in _SELF_DISCLOSING:
                opening = self.settings.ai_disclosure.format(name=self.settings.assistant_name)
        if rest and not reply.route.startswith("safety:"):
            self.log.count("break_reminder", now)
            closing = BREAK_REMINDER
        pieces = _chain(sentences(opening), reply.pieces, sentences(closing))
        return Reply(reply.route, pieces, reply.action, reply.usage)

    def due_announcements(self, now: float | None = None) -> list[str]:
        """What to say now for timers, alarms and reminders that are due (each said once)."""
        return self.schedule.due(self.clock() if now is None else now)

    def _decide(
        self, user_text: str, now: float, rate: float, cancel: threading.Event, client: ClientConversation
    ) -> Reply:
        if is_nonsense(user_text):
            return _said(SkillResult("empty", NOT_CAUGHT))
        text = normal(user_text)
        if (screened := self._screen(text, now)) is not None:
            return _said(screened)
        found = self.memory.command(text) or self._speech_skill(text, rate, client) or self._skill(text)
        found = (
            found or self.memory.answer(text, user_text.rstrip().endswith("?")) or self.memory.notice(user_text, text)
        )
        if found is not None:
            if found.route in _COUNTED:
                self.log.count(_COUNTED[found.route], now)
            return _said(found)
        limit = self._reply_tokens(client)
        messages = self._messages(user_text, client, limit)  # before the stream: a prompt too long is an error now
        usage = Usage(self._llm().count_tokens(messages))
        return Reply("llm", self._chat(messages, limit, cancel, usage), usage=usage)

    def _screen(self, text: str, now: float) -> SkillResult | None:
        found = safety.screen(text, self.minor)
        if found is None:
            return None
        if found.minor_age_said and not self.minor:
            self.minor = True
            self.session.break_seconds = self._break_seconds()
            self.log.count("minor_mode_on", now)
        if found.route == "safety:minor_age":
            return None  # noted; the request itself is answered as usual, for a child
        self.log.count(_COUNTED[found.route], now)
        s = self.settings
        return SkillResult(
            found.route,
            {
                "safety:crisis": safety.crisis_reply(s.locale, s.crisis_line, found.imminent),
                "safety:identify": safety.IDENTIFY_REPLY,
                "safety:disclosure": f"No, I'm not a person. I'm {s.assistant_name}, an AI assistant on your computer.",
                "safety:minor": safety.MINOR_REPLY,
            }[found.route],
        )

    def _speech_skill(self, text: str, rate: float, client: ClientConversation) -> SkillResult | None:
        last = client.conversation.last_reply()
        return controls.repeat(text, last) or controls.speaking_rate(text, rate) or controls.voice_change(text)

    def _skill(self, text: str) -> SkillResult | None:
        """The local skill for a request, if one understands it (also what the LLM's tools run)."""
        for skill in self._skills:
            if (result := skill(text)) is not None:
                return result
        return controls.clock(text, self.clock()) or calc.calculate(text) or abilities.abilities(text)

    def prefill(self, user_text_so_far: str, stop: threading.Event) -> None:
        """Let the LLM read the prompt of a reply to what the user has said so far (``""``: only the
        history), while they are still speaking; the reply then reads only what follows. Setting
        ``stop`` ends it early."""
        own = ClientConversation(self.conversation)
        try:
            messages = self._messages(user_text_so_far, own, self._reply_tokens(own))
        except PromptTooLong:
            return  # the reply will say so; nothing worth reading ahead
        self._llm().prefill(messages, stop)

    def _reply_tokens(self, client: ClientConversation) -> int:
        # a reply may take at most half the context, so a client's large max_tokens leaves room for a prompt
        return min(client.max_tokens or self.settings.max_reply_tokens, self._llm().context // 2)

    def _messages(self, user_text: str, client: ClientConversation, reply_tokens: int) -> list[Message]:
        """The prompt for ``user_text``, fitted to the model's context: Sayso's persona first, then
        the history, then this turn's context (the caller's instructions below the minor-mode rule,
        then the memories that bear on it), then the user's words."""
        context = [MINOR_CONTEXT] if self.minor else []
        context += [text for text in client.instructions if text.strip()]
        if self.memory.on and user_text:
            facts = self.memory.context(user_text)
            context += [f"What the user has told you: {'; '.join(facts)}."] if facts else []
        return fit(self._llm(), client.conversation.messages_for(user_text, context), reply_tokens)

    def _chat(self, messages: Sequence[Message], limit: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        llm = self._llm()
        tokens = llm.stream_with_tools(messages, limit, self.tools) if llm.calls_tools else llm.stream(messages, limit)
        said = clauses(_counted(until(cancel, tokens), lambda text: _set_completion(usage, llm.count_text(text))))
        yield from safety.guard(said, self.minor, lambda: self.log.count("human_claim_blocked", self.clock()))

    def _break_seconds(self) -> float:
        minutes = self.settings.break_minutes
        if self.minor:
            minutes = min(minutes, MINOR_BREAK_MINUTES) if minutes > 0 else MINOR_BREAK_MINUTES
        return max(minutes, 0.0) * 60


def _said(result: SkillResult) -> Reply:
    return Reply(result.route, sentences(result.text), result.action)


def _counted(pieces: Iterable[str], done: Callable[[str], None]) -> Iterator[str]:
    """``pieces`` passed on; ``done`` gets all the text generated once they end (or are cut off)."""
    text: list[str] = []
    try:
        for piece in pieces:
            text.append(piece)
            yield piece
    finally:
        done("".join(text))


def _set_completion(usage: Usage, tokens: int) -> None:
    usage.completion_tokens = tokens


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part
