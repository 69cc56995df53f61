"""The installation's Ed25519 signing key: one PEM file in the data directory, owner-only (0600).

Created on first use. Whoever holds the file can sign ledger entries, so it is also what
proves an administrator (``sayso voices revoke --admin``); the public key verifies exports.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sayso.errors import StorageError

KEY_FILE = "installation_key.pem"


def key_path(data_dir: Path) -> Path:
    """Where the installation key lives."""
    return data_dir / KEY_FILE


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The installation key, created (mode 0600, never overwritten) if there is none yet."""
    path = key_path(data_dir)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once must not each write a different key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_key(data_dir)
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
