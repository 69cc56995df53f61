"""A voice's standing (active, revoked, expired, blocked) is what the signed ledger says.

The voices table keeps each voice's status for listing and lookup, but a status is only ever
changed together with a ledger entry, so the table can be checked against the ledger: whoever
can write the database can set a revoked voice back to ``active`` (or forge a lent voice), but
not add or remove a signed entry unnoticed. Every utterance checks the ledger's standing, and
``sayso ledger verify`` reports any voice whose table status disagrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sayso.errors import LedgerTampered, VoiceRevoked
from sayso.voices.catalog import PRESETS, Voice
from sayso.voices.consent import parse_date
from sayso.voices.ledger import Ledger

_PRESET_IDS = {voice.id for voice in PRESETS}


def ledger_status(ledger: Ledger, voice: Voice) -> tuple[str, str]:
    """The status and reason the ledger's entries give ``voice`` now."""
    blocks = [e for e in ledger.entries("block") if e.body.get("voice_id") == voice.id]
    if blocks:
        return "blocked", f"blocked by the likeness guard at ledger entry {blocks[0].seq}"
    revokes = [e for e in ledger.entries("revoke") if e.body.get("voice_id") == voice.id and e.body.get("accepted")]
    if revokes:
        return "revoked", f"revoked at ledger entry {revokes[0].seq}"
    if voice.id in _PRESET_IDS:
        return "active", ""
    lend = ledger.entry(voice.consent.record) if voice.consent.record is not None else None
    if lend is None or lend.kind != "lend" or lend.body.get("voice_id") != voice.id or not lend.body.get("accepted"):
        return "revoked", "no accepted consent for it is on the ledger"
    until = str(lend.body.get("until") or "")
    if until and parse_date(until) <= datetime.now(UTC):
        return "expired", f"its consent ran until {until}"
    return "active", ""


def check_standing(ledger: Ledger, voice: Voice) -> None:
    """VoiceRevoked unless the ledger lets ``voice`` (active in its table) speak now."""
    status, reason = ledger_status(ledger, voice)
    if status != "active":
        raise VoiceRevoked(
            f"The voice {voice.id!r} is {status} on the signed ledger ({reason}) though its stored status says "
            f"{voice.status}: the voices table was edited; it cannot be used (run `sayso ledger verify`).",
            voice.id,
        )


def check_statuses(ledger: Ledger, voices: Iterable[Voice]) -> None:
    """LedgerTampered naming the first voice whose stored status disagrees with the ledger."""
    for voice in voices:
        status, reason = ledger_status(ledger, voice)
        if voice.status != status and not (voice.status == "expired" and status == "active"):
            raise LedgerTampered(
                f"The voice {voice.id!r} is stored as {voice.status} but the ledger says {status}"
                f"{f' ({reason})' if reason else ''}: the voices table was edited; restore the database from a backup."
            )
