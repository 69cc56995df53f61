"""Provenance: a signed ledger record for every utterance, and the check that reads it back.

Each utterance is recorded as a ledger entry of kind ``utterance``: its id, the voice, the
consent record it was spoken under, the time and the sha256 of its text and of its audio.
The audio hash is over the 16-bit PCM a WAV file of it holds, so a file Sayso wrote is found
exactly; audio changed since (resampled, compressed) still carries the watermark but no longer
matches a record, and the check says so.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.voices.catalog import Voice
from sayso.voices.keys import verify_signature
from sayso.voices.ledger import Entry, Ledger, entry_hash
from sayso.voices.watermark import Watermarker


@dataclass(frozen=True)
class Finding:
    """What ``check_file`` found: ``sayso`` is whether the audio is Sayso speech; ``message`` says it all."""

    sayso: bool
    watermark_score: float
    record: Entry | None
    message: str


def audio_sha256(audio: Audio) -> str:
    """The sha256 of ``audio`` as 16-bit PCM, exactly as a WAV file of it stores it."""
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format="WAV", subtype="PCM_16")
    buffer.seek(0)
    pcm, _ = sf.read(buffer, dtype="int16")
    return _pcm_sha256(pcm)


def _pcm_sha256(pcm: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pcm, dtype="<i2").tobytes()).hexdigest()


def text_sha256(text: str) -> str:
    """The sha256 of the utterance's text (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


def record_utterance(ledger: Ledger, voice: Voice, text: str, audio: Audio) -> Entry:
    """Sign and store the provenance record of one utterance (``audio`` already watermarked)."""
    return ledger.append(
        "utterance",
        {
            "utterance_id": uuid.uuid4().hex,
            "voice_id": voice.id,
            "consent_record": voice.consent.record,
            "text_sha256": text_sha256(text),
            "audio_sha256": audio_sha256(audio),
            "seconds": round(audio.duration, 3),
        },
    )


def check_file(path: Path, ledger: Ledger, watermarker: Watermarker) -> Finding:
    """Whether the audio file is Sayso speech, in which voice, and whether consent was valid then."""
    audio = read_audio(path)
    detection = watermarker.detect(audio)
    record = _exact_record(path, ledger)
    score = f"watermark score {detection.score:.2f}"
    if record is None and not detection.decidable:
        message = (
            f"{path} is too short or too narrow-band (telephone quality) to test for the Sayso watermark, "
            "and no provenance record matches it."
        )
        return Finding(False, detection.score, None, message)
    if record is None and not detection.found:
        message = f"No Sayso watermark was found in {path} ({score}), and no provenance record matches it."
        return Finding(False, detection.score, None, message)
    if record is None:
        message = (
            f"{path} carries the Sayso watermark ({score}) but matches no provenance record here: "
            "it was altered since it was made, or made elsewhere."
        )
        return Finding(True, detection.score, None, message)
    return Finding(True, detection.score, record, _describe(path, record, ledger, detection.score))


def _exact_record(path: Path, ledger: Ledger) -> Entry | None:
    try:
        pcm, _ = sf.read(str(path), dtype="int16")
    except (sf.LibsndfileError, RuntimeError):
        return None
    digest = _pcm_sha256(pcm if pcm.ndim == 1 else pcm[:, 0])
    for entry in ledger.entries("utterance"):
        if entry.body.get("audio_sha256") == digest:
            return entry
    return None


def _describe(path: Path, record: Entry, ledger: Ledger, score: float) -> str:
    body = record.body
    intact = entry_hash(record.seq, record.at, record.kind, record.body, record.prev) == record.hash and (
        verify_signature(ledger.public_key, record.signature, bytes.fromhex(record.hash))
    )
    signed = "signed record intact" if intact else "BUT ITS RECORD FAILS ITS SIGNATURE CHECK"
    head = (
        f"{path} is Sayso speech in the voice {body['voice_id']!r}, spoken {record.at} "
        f"(utterance {body['utterance_id']}, ledger entry {record.seq}, {signed}; watermark score {score:.2f})."
    )
    consent = body.get("consent_record")
    if consent is None:
        return head + " The voice is a preset: no personal consent applies (see `sayso voices`)."
    withdrawn = [
        e for e in ledger.entries("revoke") if e.body.get("voice_id") == body["voice_id"] and e.body.get("accepted")
    ]
    before = [e for e in withdrawn if e.seq < record.seq]
    if before:
        return head + f" Consent was NOT valid then: it was revoked at ledger entry {before[0].seq}."
    later = f"; it was revoked later, at ledger entry {withdrawn[0].seq}" if withdrawn else ""
    return head + f" Consent was valid when it was spoken (accepted at ledger entry {consent}{later})."
