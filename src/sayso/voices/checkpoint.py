"""Ledger checkpoints: the signed head (count and hash) kept outside the data folder it vouches for.

The ledger's own signed head lives in the database, so whoever can write the data folder can
delete entries and put back an older head (a rollback), or delete everything. A checkpoint is
the same head, signed, written after every entry to the trust folder (beside the installation
key, apart from the data) and copied into every export. ``check`` compares a ledger with one:
fewer entries than it counts is truncation or rollback; a different hash at its count is a
rewrite (re-signed with the key, or the whole chain rebuilt); another key is a re-signing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sayso.errors import LedgerTampered, StorageError
from sayso.voices.keys import public_key_hex, verify_signature

FORMAT = "sayso-checkpoint/1"
FILE = "checkpoint.json"


@dataclass(frozen=True)
class Checkpoint:
    """The ledger held ``seq`` entries, the last with hash ``hash``, at time ``at`` (signed by ``public_key``)."""

    seq: int
    hash: str
    at: str
    public_key: str
    signature: str = ""

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return f"{FORMAT}:{self.public_key}:{self.seq}:{self.hash}:{self.at}".encode()


def make(key: Ed25519PrivateKey, seq: int, digest: str, at: str) -> Checkpoint:
    """A checkpoint of the head ``seq``/``digest``, signed with ``key``."""
    unsigned = Checkpoint(seq, digest, at, public_key_hex(key))
    return Checkpoint(seq, digest, at, unsigned.public_key, key.sign(unsigned.message()).hex())


def write(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint at ``path`` whole (a temporary file renamed over it), owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(checkpoint) | {"format": FORMAT}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path`` (a checkpoint file or a ledger export holding one), or None if there is none."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StorageError(f"The checkpoint {path} cannot be read; give a checkpoint or a ledger export.") from error
    found = from_data(data.get("checkpoint", data) if isinstance(data, dict) else None)
    if found is None:
        raise StorageError(f"{path} holds no ledger checkpoint; give a checkpoint or a ledger export.")
    return found


def from_data(data: Any) -> Checkpoint | None:
    """A checkpoint from its JSON form (None if ``data`` is not one)."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        return None
    try:
        return Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["public_key"]),
                          str(data["signature"]))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


def as_data(checkpoint: Checkpoint | None) -> dict[str, Any] | None:
    """The JSON form of a checkpoint (what exports carry)."""
    return None if checkpoint is None else asdict(checkpoint) | {"format": FORMAT}


def check(entries: Sequence[Mapping[str, Any]], checkpoint: Checkpoint, public_key: str) -> None:
    """LedgerTampered unless the (already chain-checked) ``entries`` extend ``checkpoint``."""
    when = f"its checkpoint of {checkpoint.at}"
    if not verify_signature(checkpoint.public_key, checkpoint.signature, checkpoint.message()):
        raise LedgerTampered(f"The ledger's checkpoint of {checkpoint.at} is not validly signed: it was forged.")
    if checkpoint.public_key != public_key:
        raise LedgerTampered(
            f"The ledger is signed by key {public_key[:16]}..., not the key of {when}: it was re-signed."
        )
    if len(entries) < checkpoint.seq:
        raise LedgerTampered(
            f"The ledger holds {len(entries)} entries but {when} counts {checkpoint.seq}: entries were deleted "
            "or an older copy was restored (rolled back); restore the database from a backup."
        )
    if checkpoint.seq and entries[checkpoint.seq - 1]["hash"] != checkpoint.hash:
        raise LedgerTampered(
            f"Ledger entry {checkpoint.seq} differs from {when}: the ledger was rewritten and re-signed; "
            "restore the database from a backup."
        )
