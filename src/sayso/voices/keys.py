"""The installation's Ed25519 signing key: one PEM file in the trust folder, owner-only (0600).

The trust folder holds the key and the ledger's checkpoint, apart from the data folder they
vouch for (by default ``<data folder>-trust`` beside it; the ``trust_dir`` setting moves it, e.g.
to another account's folder or a removable drive). Whoever can write the data folder then
cannot re-sign what they edit. Created on first use; a key left in the data folder by an older
Sayso is moved out. Whoever holds the file can sign ledger entries, so it is also what proves an
administrator (``sayso voices revoke --admin``); the public key verifies exports.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sayso.errors import StorageError

KEY_FILE = "installation_key.pem"


def key_path(trust_dir: Path) -> Path:
    """Where the installation key lives."""
    return trust_dir / KEY_FILE


def adopt_legacy_key(data_dir: Path, trust_dir: Path) -> None:
    """Move a key an older Sayso kept in the data folder into the trust folder (if it has none)."""
    legacy, wanted = key_path(data_dir), key_path(trust_dir)
    if legacy.exists() and not wanted.exists() and legacy != wanted:
        trust_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        wanted.write_bytes(legacy.read_bytes())
        wanted.chmod(0o600)
        legacy.unlink()


def load_or_create_key(trust_dir: Path) -> Ed25519PrivateKey:
    """The installation key, created (mode 0600, never overwritten) if there is none yet."""
    path = key_path(trust_dir)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the trust folder: owner only
        try:  # O_EXCL: two processes starting at once must not each write a different key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_key(trust_dir)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise StorageError(f"The installation key {path} is damaged; restore it from a backup.") from error
    if not isinstance(loaded, Ed25519PrivateKey):
        raise StorageError(f"The installation key {path} is not an Ed25519 key; restore it from a backup.")
    return loaded


def public_key_hex(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, as hex (what an export names and a verifier needs)."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def verify_signature(public_hex: str, signature_hex: str, message: bytes) -> bool:
    """Whether ``signature_hex`` is a valid signature of ``message`` by ``public_hex``."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
