"""The signed revocation list: every voice whose consent was withdrawn (or that was blocked), and when.

Anyone holding a Sayso file learns its voice and ledger entry from ``sayso provenance check`` or
its Content Credentials; this list, signed with the installation key, tells them whether that
voice's consent was later withdrawn. It names the ledger head it was made at, so a later list
can be told from an earlier one. ``verify_revocations`` needs only the list and the public key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sayso.errors import LedgerTampered
from sayso.voices.keys import verify_signature
from sayso.voices.ledger import Ledger, canonical, now

FORMAT = "sayso-revocations/1"


def revocation_list(ledger: Ledger) -> dict[str, Any]:
    """The installation's revocation list, signed."""
    withdrawn = [e for e in ledger.entries("revoke") if e.body.get("accepted")] + ledger.entries("block")
    items = [
        {"voice_id": e.body.get("voice_id"), "status": "revoked" if e.kind == "revoke" else "blocked",
         "by": e.body.get("by", ""), "at": e.at, "ledger_entry": e.seq, "ledger_entry_hash": e.hash}
        for e in sorted(withdrawn, key=lambda entry: entry.seq)
    ]  # fmt: skip
    head = ledger.db.query("SELECT seq, hash FROM ledger_head WHERE id = 1")
    unsigned = {
        "format": FORMAT,
        "issued_at": now(),
        "public_key": ledger.public_key,
        "ledger_head": dict(head[0]) if head else {"seq": 0, "hash": ""},
        "revocations": items,
    }
    return unsigned | {"signature": ledger.sign(canonical(unsigned))}


def verify_revocations(data: Mapping[str, Any], public_key: str) -> list[dict[str, Any]]:
    """The revocations in a list signed by ``public_key`` (hex); LedgerTampered if it is not."""
    if data.get("format") != FORMAT:
        raise LedgerTampered(f"This is not a Sayso revocation list (format {data.get('format')!r}).")
    unsigned = {key: value for key, value in data.items() if key != "signature"}
    if data.get("public_key") != public_key or not verify_signature(
        public_key, str(data.get("signature", "")), canonical(unsigned)
    ):
        raise LedgerTampered("The revocation list is not signed by this installation's key: it was altered or forged.")
    return list(data["revocations"])
