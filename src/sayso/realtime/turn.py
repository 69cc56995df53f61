"""One spoken turn: listen (VAD + STT), think (LLM, streamed), speak (clause by clause)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from sayso.audio.frames import Audio
from sayso.audio.vad import speech_in
from sayso.errors import EmptyAudio, VoiceRevoked
from sayso.mind.dialogue import Conversation
from sayso.mind.mind import Mind
from sayso.realtime.models import Models
from sayso.voices.catalog import Voice, fallback_voice


@dataclass
class TurnTimings:
    """Seconds spent per stage of one turn; ``first_audio`` runs from the end of the input."""

    stt: float = 0.0
    llm_first_token: float = 0.0
    llm_total: float = 0.0
    tts_first_audio: float = 0.0
    first_audio: float = 0.0
    total: float = 0.0

    def lines(self) -> list[str]:
        return [f"{name:<16} {value * 1000:7.0f} ms" for name, value in vars(self).items()]


@dataclass
class SpokenReply:
    """A reply as it is spoken: clause texts and their audio, in order."""

    clauses: list[str] = field(default_factory=list)
    audio: list[Audio] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.clauses)


@dataclass
class TurnResult:
    transcript: str
    reply: SpokenReply
    timings: TurnTimings


class Assistant:
    """Answers the user, keeping the conversation; speaks in ``voice``."""

    def __init__(
        self, models: Models, voice: Voice, conversation: Conversation | None = None, mind: Mind | None = None
    ) -> None:
        self.models = models
        self.voice = voice
        self.speaking_rate = 1.0  # TTS speed; "slower" / "faster" change it
        settings = models.settings
        self.conversation = conversation or Conversation(settings.assistant_name, style=settings.persona_style)
        self.mind = mind or Mind(settings, lambda: models.llm, self.conversation)

    def listen(self, audio: Audio) -> str:
        """The words in ``audio``; EmptyAudio if it holds no speech or no words."""
        if not speech_in(self.models.vad, audio):
            raise EmptyAudio("No speech was found in the recording; speak closer to the microphone and try again.")
        text = self.models.stt.transcribe(audio).text
        if not text:
            raise EmptyAudio("No words could be made out in the recording; speak clearly and try again.")
        return text

    def think(
        self, user_text: str, timings: TurnTimings | None = None, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Stream the reply to ``user_text`` clause by clause; setting ``cancel`` stops the LLM at
        its next token. The caller records the turn with ``remember``."""
        timings = timings or TurnTimings()
        started = time.perf_counter()
        first = True
        reply = self.mind.respond(user_text, self.speaking_rate, cancel)
        if reply.action is not None:  # a skill changed how Sayso speaks: the new voice is used from the next turn
            self.voice = reply.action.voice or self.voice
            self.speaking_rate = reply.action.rate if reply.action.rate is not None else self.speaking_rate
        for piece in reply.pieces:
            if first:
                timings.llm_first_token = time.perf_counter() - started
                first = False
            yield piece
        timings.llm_total = time.perf_counter() - started

    def remember(self, user_text: str, reply_heard: str, interrupted: bool = False) -> None:
        """Record a finished turn: ``reply_heard`` is what the user actually heard of the reply
        (``interrupted``: they cut it off)."""
        self.conversation.record(user_text, reply_heard.strip(), interrupted)

    def speak(self, user_text: str, timings: TurnTimings, since: float) -> Iterator[tuple[str, Audio]]:
        """Stream the spoken reply clause by clause, then record the turn as spoken in full.

        ``since`` is when the user stopped speaking, for ``timings.first_audio``.
        """
        spoken: list[str] = []
        for clause in self.think(user_text, timings):
            tts_started = time.perf_counter()
            for text, pieces in groupby(self.spoken(clause), key=lambda said: said[0]):
                parts = [piece for _, piece in pieces]
                audio = Audio.concat(parts, parts[0].rate)
                if not timings.first_audio:
                    timings.tts_first_audio = time.perf_counter() - tts_started
                    timings.first_audio = time.perf_counter() - since
                spoken.append(text)
                yield text, audio
        self.remember(user_text, " ".join(spoken))

    def spoken(self, clause: str) -> Iterator[tuple[str, Audio]]:
        """``clause`` as audio pieces in the current voice, each with the text it speaks.

        If that voice may no longer speak (its consent was revoked or expired, or the likeness
        guard blocked it), Sayso switches to the fallback voice (the default one, or a synthetic
        one if the default is blocked), says so, and speaks the clause in it: the notice and the
        clause come out as two texts.
        """
        try:
            for piece in self.models.tts(self.voice).stream(clause, self.speaking_rate):
                yield clause, piece
        except VoiceRevoked as error:
            notice = self.switch_to_default(error)
            tts = self.models.tts(self.voice)
            for text in (notice, clause):
                for piece in tts.stream(text, self.speaking_rate):
                    yield text, piece

    def switch_to_default(self, error: VoiceRevoked) -> str:
        """Speak in the fallback voice from now on; returns the sentence that tells the user why."""
        self.voice = fallback_voice(self.models.voice_services.store)
        if self.voice.imitates_no_one:
            return (
                f"The voice I was using is no longer available ({error.voice_id}), and my usual voice is blocked, "
                "so I will carry on in a synthetic voice."
            )
        return f"The voice I was using is no longer available ({error.voice_id}), so I will carry on in my own voice."

    def reply_to(self, audio: Audio) -> TurnResult:
        """One whole spoken turn from a recording whose end is 'now'."""
        timings = TurnTimings()
        ended = time.perf_counter()
        transcript = self.listen(audio)
        timings.stt = time.perf_counter() - ended
        reply = SpokenReply()
        for clause, piece in self.speak(transcript, timings, since=ended):
            reply.clauses.append(clause)
            reply.audio.append(piece)
        timings.total = time.perf_counter() - ended
        return TurnResult(transcript, reply, timings)
