"""Lending a voice and taking it back, with proof: a voice captcha, a speaker check, the likeness guard.

Lending is two steps, so the challenge is fresh: ``start_lending`` draws a random challenge phrase
(four distinct words of ``CHALLENGE_WORDS``, shown with commas so they are read as separate words;
a session lasts 30 minutes and one attempt) and builds the consent statement (name, scope,
challenge) for the person to read aloud;
``finish_lending`` takes their voice samples and the consent recording and accepts only if
(a) the recording's transcript matches the statement and contains the challenge (tolerant
matching on normalised words), (b) the recording's speaker is the samples' speaker (Resemblyzer
cosine over ``SPEAKER_THRESHOLD``) and (c) the likeness guard passes the samples. The outcome and
scores go to the ledger either way. An accepted voice is stored with its reference voiceprint
(the samples' speaker embedding), which the likeness guard checks its every utterance against.
An owner revokes the same way (``start_revocation``,
``finish_revocation``: a fresh statement matched against the lent voice's reference); an admin
revokes with ``revoke_as_admin``. Revocation erases the voiceprint and the reference
recording (the ledger keeps the record of the consent and its withdrawal).

``SPEAKER_THRESHOLD`` was calibrated with Resemblyzer on the shared speech set (VCTK p225-p228,
LibriSpeech test-other, 10 LJ Speech clips: 15 speakers): each recording scored against the mean
embedding of three other recordings by its speaker (150 same-speaker trials) and of three by
every other speaker (6300 different-speaker trials). False refusals / false accepts: 0.76: 0% /
0.92%; 0.80: 2.0% / 0.57%; 0.82: 2.7% / 0.41%; 0.84: 6.7% / 0.13%; 0.86: 12% / 0%. A false
accept lends someone else's voice, so it costs more than a retake: 0.82.
"""

from __future__ import annotations

import difflib
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.audio.vad import VAD, speech_in
from sayso.errors import ConsentRefused, InputError, UnknownVoice
from sayso.speech.normalize import normalize
from sayso.store.db import Database
from sayso.voices.catalog import Consent, Provenance, Voice, VoiceStore
from sayso.voices.embedding import SpeakerEmbedder, enrolment_vector
from sayso.voices.guard import LikenessGuard
from sayso.voices.ledger import Ledger, now

SPEAKER_THRESHOLD = 0.82
STATEMENT_MATCH = 0.7  # share of the statement's words heard in order (difflib ratio); Whisper tiny mishears some
MIN_SAMPLE_SPEECH = 8.0  # seconds of speech across the samples: enough for a stable voiceprint
SESSION_MINUTES = 30  # a challenge older than this is no longer fresh
# words Whisper tiny.en hears reliably, even from eSpeak
CHALLENGE_WORDS = (
    "apple", "river", "candle", "garden", "window", "tiger", "purple", "silver", "rocket", "pencil",
    "forest", "castle", "yellow", "dragon", "pocket", "winter", "summer", "basket", "mountain", "harbor",
    "penguin", "thunder", "copper", "kitchen", "rabbit", "doctor", "paper", "bottle", "table", "monkey",
)  # fmt: skip
CHALLENGE_LENGTH = 4
CHALLENGE_MISSES = 1  # a fresh challenge still proves liveness if one word of four is misheard

Transcribe = Callable[[Audio], str]


def m001_sessions(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE consent_sessions (id TEXT PRIMARY KEY, purpose TEXT NOT NULL, voice_id TEXT NOT NULL, "
        "details TEXT NOT NULL, statement TEXT NOT NULL, challenge TEXT NOT NULL, created_at TEXT NOT NULL, "
        "used INTEGER NOT NULL DEFAULT 0)"
    )


MIGRATIONS = (m001_sessions,)


@dataclass(frozen=True)
class Scope:
    """What the owner agrees to: who may use the voice, for what, and until when (ISO date, or empty)."""

    who: str = "the people who use this Sayso installation"
    purpose: str = "spoken replies from the assistant"
    until: str = ""

    def text(self) -> str:
        until = f" until {self.until}" if self.until else " until I withdraw it"
        return f"for {self.purpose}, used by {self.who},{until}"


@dataclass(frozen=True)
class Session:
    """A statement to read aloud, with its fresh challenge; ``id`` finishes it."""

    id: str
    purpose: str
    voice_id: str
    statement: str
    challenge: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checks:
    """The models the checks use; ``guard`` None means no likeness guard is installed (recorded as such)."""

    transcribe: Transcribe
    embedder: SpeakerEmbedder
    vad: VAD
    guard: LikenessGuard | None = None
    threshold: float = SPEAKER_THRESHOLD


@dataclass
class Outcome:
    """What a check found: ``reasons`` is empty when it passed."""

    reasons: list[str] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)

    def refuse(self, reason: str) -> None:
        self.reasons.append(reason)


class Consents:
    """Lending and revocation sessions (domain ``consent``) over the catalog's store and the ledger."""

    def __init__(self, db: Database, ledger: Ledger, store: VoiceStore, voices_dir: Path) -> None:
        self.db, self.ledger, self.store, self.voices_dir = db, ledger, store, voices_dir
        db.migrate("consent", MIGRATIONS)

    def start_lending(self, name: str, scope: Scope) -> Session:
        """A lending session: the statement (with its challenge) ``name`` must read aloud."""
        name = " ".join(name.split())
        if not re.search(r"[A-Za-z]", name):
            raise InputError("Give the name of the person lending their voice (--name).")
        if scope.until:
            parse_date(scope.until)
        statement = f"I am {name}. I agree that Sayso may speak in my voice {scope.text()}."
        voice_id = f"{_slug(name)}-{secrets.token_hex(2)}"
        details = {"name": name, "who": scope.who, "purpose": scope.purpose, "until": scope.until}
        return self._new_session("lend", voice_id, statement, details)

    def start_revocation(self, voice_id: str) -> Session:
        """A revocation session for the owner of lent voice ``voice_id`` to read aloud."""
        voice = self._lent(voice_id)
        statement = f"I am {voice.consent.owner}. I withdraw my consent for Sayso to speak in my voice."
        return self._new_session("revoke", voice_id, statement, {"name": voice.consent.owner})

    def finish_lending(self, session_id: str, samples: Sequence[Audio], consent: Audio, checks: Checks,
                       engine: str, params: dict[str, Any]) -> Voice:  # fmt: skip
        """Check the recordings against the session; the new active voice, or ConsentRefused with every reason."""
        session = self._open_session(session_id, "lend")
        outcome = Outcome()
        # every check runs that can, so the ledger holds every score and the person every reason
        if _check_samples(samples, checks.vad, outcome):
            _check_guard(samples, checks.guard, outcome)
            if _check_statement(session, consent, checks, outcome):
                _check_speaker(consent, samples, checks, outcome)
        body = {"session": session.id, "voice_id": session.voice_id, **session.details,
                "statement": session.statement, "accepted": not outcome.reasons, "reasons": outcome.reasons,
                "scores": outcome.scores}  # fmt: skip
        if outcome.reasons:
            self._refused("lend", body, outcome, session.id)
        reference = write_audio(self.voices_dir / session.voice_id / "reference.wav", _joined(samples))
        voice = replace(
            _lent_voice(session, engine, {"voice": session.voice_id, **params, "reference": str(reference)}),
            voiceprint=enrolment_vector([checks.embedder.voiceprint(audio) for audio in samples]),
        )
        with self.ledger.transaction() as conn:
            entry = self.ledger.append_in(conn, "lend", body)
            self.store.add_in(conn, _with_record(voice, entry.seq))
            _use_session(conn, session.id)
        return _with_record(voice, entry.seq)

    def finish_revocation(self, session_id: str, recording: Audio, checks: Checks) -> int:
        """Revoke the session's voice if ``recording`` is its owner reading the statement; the ledger entry."""
        session = self._open_session(session_id, "revoke")
        voice = self._lent(session.voice_id)
        outcome = Outcome()
        if _check_statement(session, recording, checks, outcome):
            reference = read_audio(voice.params["reference"])
            _check_speaker(recording, [reference], checks, outcome)
        body = {"session": session.id, "voice_id": voice.id, "by": "owner", "accepted": not outcome.reasons,
                "reasons": outcome.reasons, "scores": outcome.scores}  # fmt: skip
        if outcome.reasons:
            self._refused("revoke", body, outcome, session.id)
        return self._revoke(voice, body, "revoked by its owner", session.id)

    def revoke_as_admin(self, voice_id: str, reason: str) -> int:
        """Revoke lent voice ``voice_id`` as the installation's administrator; the ledger entry."""
        voice = self._lent(voice_id)
        body = {"voice_id": voice_id, "by": "admin", "accepted": True, "reasons": [], "reason": reason}
        return self._revoke(
            voice, body, f"revoked by an administrator: {reason}" if reason else "revoked by an administrator", None
        )

    def block(self, voice_id: str, reason: str) -> int:
        """Block a voice, lent or preset (the likeness guard refused its speech); the ledger entry."""
        body = {"voice_id": voice_id, "by": "likeness guard", "reason": reason}
        with self.ledger.transaction() as conn:
            entry = self.ledger.append_in(conn, "block", body)
            self.store.set_status_in(conn, voice_id, "blocked", reason)
        return entry.seq

    def _revoke(self, voice: Voice, body: dict[str, Any], reason: str, session_id: str | None) -> int:
        with self.ledger.transaction() as conn:
            entry = self.ledger.append_in(conn, "revoke", body)
            self.store.set_status_in(conn, voice.id, "revoked", reason)
            if session_id:
                _use_session(conn, session_id)
        # After the commit: a crash in between leaves a file to delete, never a revocation undone.
        if voice.params.get("reference"):
            Path(voice.params["reference"]).unlink(missing_ok=True)
        return entry.seq

    def _refused(self, kind: str, body: dict[str, Any], outcome: Outcome, session_id: str) -> NoReturn:
        with self.ledger.transaction() as conn:  # a refused attempt uses up its challenge: retries get a fresh one
            entry = self.ledger.append_in(conn, kind, body)
            _use_session(conn, session_id)
        raise ConsentRefused(
            f"Refused: {'; '.join(outcome.reasons)} (recorded in ledger entry {entry.seq}); "
            "start again for a fresh phrase and record once more."
        )

    def _new_session(self, purpose: str, voice_id: str, statement: str, details: dict[str, Any]) -> Session:
        words = secrets.SystemRandom().sample(CHALLENGE_WORDS, CHALLENGE_LENGTH)
        challenge, spoken = " ".join(words), ", ".join(words)
        session = Session(
            secrets.token_hex(6), purpose, voice_id, f"{statement} My phrase is: {spoken}.", challenge, details
        )
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO consent_sessions (id, purpose, voice_id, details, statement, challenge, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session.id, purpose, voice_id, json.dumps(details), session.statement, challenge, now()),
            )
        return session

    def _open_session(self, session_id: str, purpose: str) -> Session:
        rows = self.db.query("SELECT * FROM consent_sessions WHERE id = ? AND purpose = ?", (session_id, purpose))
        if not rows:
            start = "sayso voices lend --name YOUR NAME" if purpose == "lend" else "sayso voices revoke ID"
            raise ConsentRefused(f"There is no {purpose} session {session_id!r}; start one with `{start}`.")
        row = rows[0]
        if row["used"]:
            raise ConsentRefused(f"The session {session_id!r} was already used; start a new one for a fresh phrase.")
        age = datetime.now(UTC) - datetime.fromisoformat(row["created_at"])
        if age > timedelta(minutes=SESSION_MINUTES):
            raise ConsentRefused(
                f"The session {session_id!r} is older than {SESSION_MINUTES} minutes, so its phrase is not fresh; "
                "start a new one."
            )
        return Session(
            row["id"], purpose, row["voice_id"], row["statement"], row["challenge"], json.loads(row["details"])
        )

    def _lent(self, voice_id: str) -> Voice:
        voice = self.store.get(voice_id)
        if voice is None:
            raise UnknownVoice(
                f"There is no lent voice called {voice_id!r}; see `sayso voices` (presets cannot be revoked)."
            )
        if voice.status != "active":
            raise ConsentRefused(f"The voice {voice_id!r} is already {voice.status}; nothing to revoke.")
        return voice


def match_statement(expected: str, challenge: str, heard: str) -> tuple[float, bool]:
    """How closely ``heard`` follows ``expected`` (0..1, in order) and whether the challenge is in it.

    The challenge counts as said if all its words but ``CHALLENGE_MISSES`` are heard (each within
    a small spelling distance), so one misheard word does not fail a real person.
    """
    want, got = normalize(expected).split(), normalize(heard).split()
    ratio = difflib.SequenceMatcher(None, want, got, autojunk=False).ratio()
    words = normalize(challenge).split()
    heard_words = sum(bool(difflib.get_close_matches(word, got, n=1, cutoff=0.75)) for word in words)
    return ratio, heard_words >= len(words) - CHALLENGE_MISSES


def _check_samples(samples: Sequence[Audio], vad: VAD, outcome: Outcome) -> bool:
    """Whether the samples hold enough speech to check further."""
    speech = sum(s.end - s.start for audio in samples for s in speech_in(vad, audio))
    outcome.scores["sample_speech_seconds"] = round(speech, 2)
    if speech < MIN_SAMPLE_SPEECH:
        outcome.refuse(
            f"the voice samples hold {speech:.1f} s of speech, fewer than the {MIN_SAMPLE_SPEECH:.0f} s needed"
        )
    return speech >= MIN_SAMPLE_SPEECH


def _check_statement(session: Session, recording: Audio, checks: Checks, outcome: Outcome) -> bool:
    """Whether the recording holds speech (whoever's it is); refuses unless it says the statement."""
    if not speech_in(checks.vad, recording):
        outcome.scores["statement_match"] = 0.0
        outcome.refuse("no speech was found in the consent recording")
        return False
    heard = checks.transcribe(recording)
    ratio, found = match_statement(session.statement, session.challenge, heard)
    outcome.scores.update(heard=heard, statement_match=round(ratio, 3), challenge_found=found)
    if ratio < STATEMENT_MATCH:
        outcome.refuse(f"the recording does not say the statement (heard {heard!r})")
    elif not found:
        outcome.refuse(f"the recording does not say the challenge phrase {session.challenge!r} (heard {heard!r})")
    return True


def _check_speaker(recording: Audio, samples: Sequence[Audio], checks: Checks, outcome: Outcome) -> None:
    reference = np.mean([checks.embedder.embed(audio) for audio in samples], axis=0)
    score = float(checks.embedder.embed(recording) @ (reference / max(float(np.linalg.norm(reference)), 1e-9)))
    outcome.scores.update(speaker_score=round(score, 3), speaker_threshold=checks.threshold)
    if score < checks.threshold:
        outcome.refuse(
            f"the consent speaker does not match the samples' speaker (score {score:.2f} < {checks.threshold})"
        )


def _check_guard(samples: Sequence[Audio], guard: LikenessGuard | None, outcome: Outcome) -> None:
    if guard is None:
        outcome.scores["guard"] = "not installed"
        return
    verdict = guard.check_enrolment(samples)
    outcome.scores["guard"] = {"allowed": verdict.allowed, "reason": verdict.reason,
                               "matches": [[m.person_id, round(m.score, 3)] for m in verdict.matches]}  # fmt: skip
    if not verdict.allowed:
        outcome.refuse(f"the likeness guard refused the voice: {verdict.reason}")


def _lent_voice(session: Session, engine: str, params: dict[str, Any]) -> Voice:
    d = session.details
    scope = Scope(d["who"], d["purpose"], d["until"])
    expires = parse_date(scope.until).isoformat(timespec="milliseconds") if scope.until else ""
    return Voice(
        id=session.voice_id,
        name=f"{d['name']} (lent)",
        engine=engine,
        params=params,
        provenance=Provenance(f"recordings lent by {d['name']}", "lent by its owner under the recorded consent"),
        consent=Consent(session.statement, d["name"], scope.text(), expires),
    )


def _with_record(voice: Voice, seq: int) -> Voice:
    return replace(voice, consent=replace(voice.consent, record=seq))


def _use_session(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("UPDATE consent_sessions SET used = 1 WHERE id = ?", (session_id,))


def _joined(samples: Sequence[Audio]) -> Audio:
    rate = samples[0].rate
    return Audio.concat([s.resampled(rate) for s in samples], rate)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "voice"


def parse_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InputError(f"The end date {text!r} is not a date; write it as YYYY-MM-DD.") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
