"""The one place every synthesised utterance goes through: consent, likeness, watermark, provenance.

``ConsentedTTS`` wraps any TTS backend. At each utterance (each ``stream`` call) it re-reads the
voice's status, so a revocation or expiry takes effect at the next utterance everywhere, in a
conversation already running too (VoiceRevoked, which a caller catches to switch voice). Each
piece of audio then passes the likeness guard (if one is installed; against the protected registry
and, for a lent voice, its own reference voiceprint), is watermarked, and the
utterance gets a signed provenance record in the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sayso.audio.frames import Audio
from sayso.audio.vad import VAD
from sayso.config import Settings, default_trust_dir
from sayso.errors import VoiceRevoked
from sayso.speech.tts.base import TTS
from sayso.store.db import Database
from sayso.voices.catalog import Voice, VoiceStore, all_voices, check_active, current
from sayso.voices.checkpoint import Checkpoint
from sayso.voices.consent import Checks, Consents, Transcribe
from sayso.voices.credentials import Credentials
from sayso.voices.embedding import ResemblyzerEmbedder, SpeakerEmbedder
from sayso.voices.guard import LikenessGuard
from sayso.voices.keys import adopt_legacy_key, load_or_create_key
from sayso.voices.ledger import Ledger
from sayso.voices.provenance import record_utterance
from sayso.voices.standing import check_standing, check_statuses
from sayso.voices.watermark import Watermarker


class VoiceServices:
    """The installation's trust layer: catalog store, ledger, consents, watermarker and (optional) guard."""

    def __init__(self, data_dir: Path, guard: LikenessGuard | None = None, trust_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.trust_dir = trust_dir or default_trust_dir(data_dir)
        adopt_legacy_key(data_dir, self.trust_dir)
        self.db = Database.in_data_dir(data_dir)
        self.ledger = Ledger(self.db, load_or_create_key(self.trust_dir), self.trust_dir)
        self.store = VoiceStore(self.db)
        self.consents = Consents(self.db, self.ledger, self.store, data_dir / "voices")
        self.guard = guard

    @classmethod
    def of(cls, settings: Settings, guard: LikenessGuard | None = None) -> VoiceServices:
        """The trust layer of the installation ``settings`` name (its data and trust folders)."""
        return cls(settings.data_dir, guard, settings.trust_path)

    @cached_property
    def watermarker(self) -> Watermarker:
        """The PerTh watermarker, loaded on first use (~3 s)."""
        return Watermarker()

    @cached_property
    def credentials(self) -> Credentials:
        """The installation's C2PA signer (its certificate chain is made on first use)."""
        return Credentials(self.trust_dir)

    @cached_property
    def embedder(self) -> SpeakerEmbedder:
        """The speaker embedder for consent checks (Resemblyzer), loaded on first use."""
        return ResemblyzerEmbedder()

    def checks(self, transcribe: Transcribe, vad: VAD) -> Checks:
        """What lending and owner revocation check with: the given STT and VAD, this embedder and guard."""
        return Checks(transcribe, self.embedder, vad, self.guard)

    def check_consent(self, voice: Voice) -> Voice:
        """``voice`` as it stands now; VoiceRevoked if it may no longer speak."""
        fresh = current(voice, self.store)
        check_active(fresh)
        check_standing(self.ledger, fresh)  # the table's "active" counts only if the ledger agrees
        return fresh

    def verify(self, against: Checkpoint | None = None) -> int:
        """The ledger's entry count once it and every voice's stored status check out; LedgerTampered if not."""
        count = self.ledger.verify(against)
        check_statuses(self.ledger, all_voices(self.store))
        return count


@dataclass
class MarkingStats:
    """Seconds of audio watermarked and seconds spent doing it, for the latency report."""

    audio_seconds: float = 0.0
    watermark_seconds: float = 0.0
    per_piece_ms_per_audio_s: list[float] = field(default_factory=list)


class ConsentedTTS(TTS):
    """``inner`` speaking ``voice``, only while its consent holds, every piece marked and recorded."""

    def __init__(self, inner: TTS, voice: Voice, services: VoiceServices) -> None:
        self.inner = inner
        self.voice = voice
        self.services = services
        self.rate = inner.rate
        self.stats = MarkingStats()

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        voice = self.services.check_consent(self.voice)
        spoken: list[Audio] = []
        try:
            for piece in self.inner.stream(text, speed):
                self._guard(piece, voice)
                marked = self._watermark(piece)
                self.rate = piece.rate  # a remote server's rate is known only from its replies
                spoken.append(marked)
                yield marked
        finally:  # a barge-in closes the stream early: what was played is still recorded
            if spoken:
                record_utterance(self.services.ledger, voice, text, spoken)

    def _guard(self, piece: Audio, voice: Voice) -> None:
        guard = self.services.guard
        if guard is None:
            return
        verdict = guard.check_utterance(piece, voice.id, voice.voiceprint)
        if verdict.allowed:
            return
        if voice.lent:
            self.services.consents.block(voice.id, verdict.reason)
        raise VoiceRevoked(
            f"The voice {voice.id!r} was blocked by the likeness guard ({verdict.reason}); pick another voice.",
            voice.id,
        )

    def _watermark(self, piece: Audio) -> Audio:
        started = time.perf_counter()
        marked = self.services.watermarker.embed(piece)
        spent = time.perf_counter() - started
        self.stats.audio_seconds += piece.duration
        self.stats.watermark_seconds += spent
        if piece.duration > 0:
            self.stats.per_piece_ms_per_audio_s.append(1000 * spent / piece.duration)
        return marked
