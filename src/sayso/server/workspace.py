"""What one server holds for all its users, and what each user may see of it.

Every request carries a user id (see ``security``). Personal things are keyed by it:
- voices: the presets are everyone's; a lent voice is visible only to the user who lent it
  through the API (``Lenders``), or, for a voice lent with the CLI, the user whose id is the
  owner's name (a loopback server without tokens has one user, who sees every voice);
- the mind (conversation, long-term memories, notes, reminders): one per user, built with the
  user id as ``settings.user``, so ``sayso.mind`` keeps each user's data apart.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from functools import cached_property

from sayso.audio.vad import VAD, SileroVAD
from sayso.config import Settings
from sayso.errors import ConfigError, TooFast, UnknownVoice
from sayso.mind.embed import Embedder, minilm
from sayso.mind.memory import Memory, MemoryStore
from sayso.mind.mind import Mind
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant
from sayso.server.backends import SharedModels
from sayso.server.lenders import Lenders
from sayso.server.security import FailedAuth, ServerOptions
from sayso.store.db import Database
from sayso.voices.catalog import Voice, VoiceStore, all_voices, find_voice
from sayso.voices.likeness import Guard
from sayso.voices.speaker import VoiceServices

MAX_SESSIONS_PER_USER = 4
"""Realtime conversations one user may hold open at once (each holds a VAD and a turn's work)."""

ENGINES = ("engine", "simple")
"""The realtime WebSocket's turn engines: the streaming engine, or whole-utterance turns."""


class Workspace:
    """The server's shared models and stores, and each user's own mind."""

    def __init__(
        self, models: Models, options: ServerOptions, embedder: Callable[[], Embedder] = minilm, engine: str = "engine"
    ) -> None:
        if engine not in ENGINES:
            raise ConfigError(f"The realtime engine must be one of {', '.join(ENGINES)}, not {engine!r}.")
        self.engine = engine
        self.settings = models.settings
        self.options = options
        self.models = models if isinstance(models, SharedModels) else SharedModels(models)
        self.embedder = embedder
        # Each realtime session needs its own VAD: the stream's state is per connection.
        self.new_vad: Callable[[], VAD] = SileroVAD
        self.ready = False  # every model loaded (see warm)
        self._minds: dict[str, Mind] = {}
        self._lock = threading.Lock()
        self.failed_auth = FailedAuth()
        self._open: collections.Counter[str] = collections.Counter()  # realtime sessions by user

    @contextlib.contextmanager
    def session_slot(self, user: str) -> Iterator[None]:
        """Hold one of ``user``'s realtime session slots; TooFast when all are taken."""
        with self._lock:
            if self._open[user] >= MAX_SESSIONS_PER_USER:
                raise TooFast(
                    f"You have {MAX_SESSIONS_PER_USER} conversations open already; close one (another tab?) first."
                )
            self._open[user] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[user] -= 1

    @cached_property
    def db(self) -> Database:
        """The installation's database (opened on first use)."""
        return Database.in_data_dir(self.settings.data_dir)

    @cached_property
    def voice_store(self) -> VoiceStore:
        """Lent voices."""
        return VoiceStore(self.db)

    @cached_property
    def lenders(self) -> Lenders:
        """Which user started each consent session and lent each voice."""
        return Lenders(self.db)

    @property
    def trust(self) -> VoiceServices:
        """The trust layer the voices speak through (its guard is the one every utterance passes)."""
        return self.models.voice_services

    @property
    def guard(self) -> Guard:
        """The likeness guard and its protected registry, shared with every voice of this server."""
        guard = self.trust.guard
        if not isinstance(guard, Guard):
            raise ConfigError("This server runs without a likeness guard, so there is no protected registry.")
        return guard

    def settings_for(self, user: str) -> Settings:
        """The server's settings, acting for ``user``."""
        return dataclasses.replace(self.settings, user=user)

    def voices(self, user: str) -> list[Voice]:
        """Every voice ``user`` may see (any status, so the picker can say why one is off)."""
        lenders = self.lenders.all()
        return [voice for voice in all_voices(self.voice_store) if self._visible(voice, user, lenders)]

    def voice(self, user: str, voice_id: str) -> Voice:
        """The active voice ``voice_id`` for ``user``; UnknownVoice (or VoiceRevoked) otherwise."""
        try:
            voice: Voice | None = find_voice(voice_id, self.voice_store)
        except UnknownVoice:  # its message names every voice, other users' lent ones too
            voice = None
        if voice is None or not self._visible(voice, user, self.lenders.all()):
            # The same answer as for a voice that does not exist: another user's voice is not revealed.
            names = ", ".join(v.id for v in self.voices(user))
            raise UnknownVoice(f"There is no voice called {voice_id!r}; the voices are: {names}.")
        return voice

    def mind(self, user: str) -> Mind:
        """``user``'s mind, shared by all their sessions on this server."""
        with self._lock:
            if user not in self._minds:
                models = self.models
                self._minds[user] = Mind(
                    self.settings_for(user), lambda: models.llm, db=self.db, embedder=self.embedder
                )
            return self._minds[user]

    def assistant(self, user: str, models: Models | None = None) -> Assistant:
        """An assistant for ``user`` in the server's default voice, with ``user``'s mind."""
        mind = self.mind(user)
        voice = self.voice(user, self.settings.voice)
        return Assistant(models or self.models, voice, mind.conversation, mind=mind)

    def warm(self) -> float:
        """Load every model a conversation needs (the memory embedder too); returns the seconds."""
        started = time.perf_counter()
        self.models.warm(self.voice("", self.settings.voice))
        if self.settings.memory != "off":
            self.embedder()
        self.ready = True
        return time.perf_counter() - started

    def memories(self, user: str) -> MemoryStore:
        """``user``'s long-term memories."""
        return MemoryStore(self.db, user, self.embedder)

    def forget(self, user: str, memory_id: int | None = None) -> int:
        """Forget one of ``user``'s memories (all, when ``memory_id`` is None); returns how many."""
        store = self.memories(user)
        return store.delete_all() if memory_id is None else store.delete([memory_id])

    def _visible(self, voice: Voice, user: str, lenders: dict[str, str]) -> bool:
        return not voice.lent or not self.options.tokens or lenders.get(voice.id, voice.consent.owner) == user


__all__ = ["Memory", "Workspace"]
