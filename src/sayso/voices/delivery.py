"""Delivering speech: the one function every door calls when it hands audio out, and its record.

A reply is spoken clause by clause, and each clause has its own provenance record (an
``utterance`` ledger entry); what a door delivers is a whole file or stream of several clauses,
resampled and encoded. ``deliver`` encodes the audio once, records a ``delivery`` entry listing
the clause records it holds and the sha256 of the 16-bit samples a decoder gets back from the
delivered bytes, and returns those bytes. ``sayso provenance check`` decodes a file the same
way, so a file Sayso wrote or served (WAV, FLAC, OGG, MP3, or a raw PCM stream saved as WAV) is
found exactly, whatever its format. A whole WAV, FLAC or MP3 file also gets C2PA Content
Credentials (``sayso.voices.credentials``) naming the voices and that ledger entry; they change
the file's bytes, not its samples.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.errors import NotAudio
from sayso.voices.credentials import MIME_TYPES
from sayso.voices.ledger import Entry
from sayso.voices.provenance import append_indexed, audio_sha256, find_records, pcm_sha256
from sayso.voices.speaker import VoiceServices

FORMATS: dict[str, tuple[str, str | None]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "pcm": ("RAW", "PCM_16"),
}
"""What a door may deliver: soundfile's container and encoding for each name."""
FILE_SUFFIXES = {".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".mp3": "mp3"}


def encode(audio: Audio, fmt: str) -> bytes:
    """``audio`` as the bytes of a ``fmt`` file (raw little-endian 16-bit samples for ``pcm``)."""
    if fmt == "pcm":
        return audio.to_int16().astype("<i2").tobytes()
    kind, subtype = FORMATS[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format=kind, subtype=subtype)
    return buffer.getvalue()


def decoded_sha256(data: bytes, fmt: str | None = None) -> str | None:
    """The sha256 of the 16-bit samples (first channel) a decoder reads from ``data``; None if not audio."""
    if fmt == "pcm":
        return pcm_sha256(np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2"))
    try:
        pcm, _ = sf.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return None
    return pcm_sha256(pcm[:, 0])


def deliver(services: VoiceServices, pieces: Sequence[Audio], fmt: str, door: str, rate: int | None = None) -> bytes:
    """The bytes a door hands out for ``pieces`` (clause audio, in order) as one ``fmt`` file or stream.

    Resampled to ``rate`` if given; recorded as a ``delivery`` ledger entry before it is returned.
    """
    if fmt not in FORMATS:
        raise NotAudio(f"Sayso cannot deliver {fmt!r} audio; the formats are {', '.join(FORMATS)}.")
    if not pieces:
        raise ValueError("nothing to deliver")
    joined = Audio.concat([p.resampled(pieces[0].rate) for p in pieces], pieces[0].rate)
    if rate is not None and joined.rate != rate:
        joined = joined.resampled(rate)
    data = encode(joined, fmt)
    entry = record_delivery(services, pieces, data, fmt, door, joined.rate)
    if fmt not in MIME_TYPES:
        return data
    claim = {"delivery_id": entry.body["delivery_id"], "voices": [v["voice_id"] for v in entry.body["voices"]],
             "consent_records": [v["consent_record"] for v in entry.body["voices"]], "ledger_entry": entry.seq,
             "ledger_entry_hash": entry.hash, "installation_key": services.ledger.public_key}  # fmt: skip
    return services.credentials.sign(data, fmt, claim)


def record_delivery(
    services: VoiceServices, pieces: Sequence[Audio], data: bytes, fmt: str, door: str, rate: int
) -> Entry:
    """Sign and store the record of delivered ``data`` (``pieces`` encoded, at ``rate``): its clause
    records and the hash of its decoded samples. A stream's door calls this with the bytes it sent."""
    digest = decoded_sha256(data, fmt)
    ledger = services.ledger
    clauses: dict[int, Entry] = {}
    unrecorded = 0
    for piece in pieces:
        found = [e for e in find_records(ledger, audio_sha256(piece)) if e.kind == "utterance"]
        unrecorded += not found
        if found:
            clauses.setdefault(found[-1].seq, found[-1])
    voices = {e.body["voice_id"]: e.body.get("consent_record") for e in clauses.values()}
    body = {
        "delivery_id": uuid.uuid4().hex,
        "door": door,
        "format": fmt,
        "rate": rate,
        "seconds": round(sum(p.duration for p in pieces), 3),
        "audio_sha256": digest,
        "utterances": list(clauses),
        "voices": [{"voice_id": voice, "consent_record": record} for voice, record in voices.items()],
        "unrecorded_pieces": unrecorded,
    }
    return append_indexed(ledger, "delivery", body, [digest] if digest else [])


def record_stream(services: VoiceServices, sent: Sequence[tuple[Audio, bytes]], door: str, rate: int) -> None:
    """Record a streamed reply: each piece with the raw 16-bit PCM sent for it (at ``rate``), in order."""
    if sent:
        record_delivery(services, [audio for audio, _ in sent], b"".join(pcm for _, pcm in sent), "pcm", door, rate)


def write_delivered(services: VoiceServices, path: Path, pieces: Sequence[Audio], door: str) -> Path:
    """Write ``pieces`` to ``path`` in the format its name ends in, recorded as delivered by ``door``.

    Written to a temporary file beside it and renamed, so a reader never sees half a file.
    """
    path = Path(path)
    fmt = FILE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise NotAudio(f"Sayso cannot write {path.name}: end the name in {', '.join(FILE_SUFFIXES)}.")
    data = deliver(services, pieces, fmt, door)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # the user's umask applies, as before
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
