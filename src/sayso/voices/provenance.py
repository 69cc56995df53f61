"""Provenance: a signed ledger record for every utterance, and the check that reads it back.

Each utterance is recorded as a ledger entry of kind ``utterance``: its id, the voice, the
consent record it was spoken under, the time and the sha256 of its text and of its audio (and of
each streamed piece of it). The audio hash is over the 16-bit PCM a WAV file of it holds. What a
door hands out (a whole reply, resampled and encoded) has its own ``delivery`` record listing
its utterances (``sayso.voices.delivery``); the check decodes a file and finds either. Audio
changed since (resampled, compressed, cut) still carries the watermark but no longer matches a
record, and the check says so.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.voices.catalog import Voice
from sayso.voices.credentials import describe, read_manifest
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
    return pcm_sha256(pcm)


def pcm_sha256(pcm: np.ndarray) -> str:
    """The sha256 of 16-bit samples as little-endian bytes (what every audio hash here is)."""
    return hashlib.sha256(np.ascontiguousarray(pcm, dtype="<i2").tobytes()).hexdigest()


def text_sha256(text: str) -> str:
    """The sha256 of the utterance's text (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


def record_utterance(ledger: Ledger, voice: Voice, text: str, pieces: Sequence[Audio]) -> Entry:
    """Sign and store the provenance record of one utterance (its pieces, in order, already watermarked)."""
    audio = Audio.concat(list(pieces), pieces[0].rate)
    digest = audio_sha256(audio)
    body: dict[str, Any] = {
        "utterance_id": uuid.uuid4().hex,
        "voice_id": voice.id,
        "consent_record": voice.consent.record,
        "text_sha256": text_sha256(text),
        "audio_sha256": digest,
        "seconds": round(audio.duration, 3),
    }
    piece_hashes = [audio_sha256(piece) for piece in pieces] if len(pieces) > 1 else []
    if piece_hashes:  # a stream delivers pieces, not whole utterances: each is found too
        body["piece_sha256"] = piece_hashes
    return append_indexed(ledger, "utterance", body, [digest, *piece_hashes])


def append_indexed(ledger: Ledger, kind: str, body: Mapping[str, Any], hashes: Sequence[str]) -> Entry:
    """Append an entry and index it under each audio hash it names, in one transaction."""
    with ledger.transaction() as conn:
        entry = ledger.append_in(conn, kind, body)
        conn.executemany(
            "INSERT INTO provenance_audio (audio_sha256, seq) VALUES (?, ?)", [(h, entry.seq) for h in hashes]
        )
    return entry


def find_records(ledger: Ledger, digest: str) -> list[Entry]:
    """The entries (oldest first) whose audio, or one of whose pieces, has sample hash ``digest``.

    The index only points: an entry counts only if its own (signed) body names the hash.
    """
    rows = ledger.db.query("SELECT DISTINCT seq FROM provenance_audio WHERE audio_sha256 = ? ORDER BY seq", (digest,))
    found = [ledger.entry(row["seq"]) for row in rows]
    return [
        e for e in found if e is not None and digest in (e.body.get("audio_sha256"), *e.body.get("piece_sha256", []))
    ]


def check_file(path: Path, ledger: Ledger, watermarker: Watermarker, anchors: str | None = None) -> Finding:
    """Whether the audio file is Sayso speech, in which voice, and whether consent was valid then
    (from its watermark, its record in ``ledger`` and its C2PA Content Credentials, trusting the
    root certificates in PEM ``anchors``)."""
    finding = _check_audio(path, ledger, watermarker)
    manifest = read_manifest(path, anchors)
    if manifest is None:
        return finding
    said = describe(manifest)
    claimed = (manifest.sayso or {}).get("ledger_entry_hash")
    if finding.record is not None and claimed and claimed != finding.record.hash:
        said += " They name a different ledger entry than the one that matches the audio."
    return replace(finding, sayso=finding.sayso or manifest.sayso is not None, message=f"{finding.message} {said}")


def _check_audio(path: Path, ledger: Ledger, watermarker: Watermarker) -> Finding:
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
    """The record of exactly this audio: a delivery (a whole reply) before a single utterance."""
    try:
        pcm, _ = sf.read(str(path), dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return None
    found = find_records(ledger, pcm_sha256(pcm[:, 0]))
    deliveries = [e for e in found if e.kind == "delivery"]
    return (deliveries or found)[-1] if found else None


def _intact(record: Entry, ledger: Ledger) -> str:
    intact = entry_hash(record.seq, record.at, record.kind, record.body, record.prev) == record.hash and (
        verify_signature(ledger.public_key, record.signature, bytes.fromhex(record.hash))
    )
    return "signed record intact" if intact else "BUT ITS RECORD FAILS ITS SIGNATURE CHECK"


def _describe(path: Path, record: Entry, ledger: Ledger, score: float) -> str:
    body = record.body
    if record.kind == "delivery":
        return _describe_delivery(path, record, ledger, score)
    head = (
        f"{path} is Sayso speech in the voice {body['voice_id']!r}, spoken {record.at} "
        f"(utterance {body['utterance_id']}, ledger entry {record.seq}, {_intact(record, ledger)}; "
        f"watermark score {score:.2f})."
    )
    return head + " " + _consent_then(ledger, body["voice_id"], body.get("consent_record"), record.seq)


def _describe_delivery(path: Path, record: Entry, ledger: Ledger, score: float) -> str:
    body = record.body
    utterances = [e for e in (ledger.entry(seq) for seq in body.get("utterances", [])) if e is not None]
    voices: dict[str, Entry] = {}
    for utterance in utterances:
        voices.setdefault(utterance.body["voice_id"], utterance)
    named = ", ".join(repr(v) for v in voices) or "no recorded voice"
    lines = [
        f"{path} is Sayso speech in the voice {named}, delivered {record.at} by {body['door']} as {body['format']} "
        f"(delivery {body['delivery_id']}, ledger entry {record.seq}, {_intact(record, ledger)}; "
        f"{len(utterances)} clause record(s): {', '.join(str(u.seq) for u in utterances) or 'none'}; "
        f"watermark score {score:.2f})."
    ]
    for voice_id, first in voices.items():
        consent = _consent_then(ledger, voice_id, first.body.get("consent_record"), first.seq)
        lines.append(f"Voice {voice_id!r}: {consent}")
    if body.get("unrecorded_pieces"):
        lines.append(f"{body['unrecorded_pieces']} piece(s) of it had no clause record when it was delivered.")
    return " ".join(lines)


def _consent_then(ledger: Ledger, voice_id: str, consent: int | None, seq: int) -> str:
    """Whether consent for ``voice_id`` held at ledger entry ``seq`` (and whether it was withdrawn since)."""
    if consent is None:
        return "The voice is a preset: no personal consent applies (see `sayso voices`)."
    withdrawn = [e for e in ledger.entries("revoke") if e.body.get("voice_id") == voice_id and e.body.get("accepted")]
    before = [e for e in withdrawn if e.seq < seq]
    if before:
        return f"Consent was NOT valid then: it was revoked at ledger entry {before[0].seq}."
    later = f"; it was revoked later, at ledger entry {withdrawn[0].seq}" if withdrawn else ""
    return f"Consent was valid when it was spoken (accepted at ledger entry {consent}{later})."
