"""C2PA Content Credentials: the open provenance standard, embedded in every whole audio file delivered.

A C2PA manifest is a signed claim bound to the file's bytes (a hash of everything but itself),
which any C2PA verifier reads (c2patool, the Content Authenticity Initiative's Verify site,
c2pa-python's ``Reader``). Sayso's says: the audio was created by a trained algorithm (IPTC
digital source type ``trainedAlgorithmicMedia``, the machine-readable AI marking EU AI Act
Art. 50 asks for) and, in an ``org.sayso.speech`` assertion, which voices speak in it, under
which consent records, and the ledger entry (number and hash) that records the delivery.

It is signed with Ed25519 by a certificate chain made for the installation at first use and kept
in the trust folder: ``c2pa_root.pem`` (a self-made root), ``c2pa_chain.pem`` (signer then root)
and ``c2pa_key.pem``. A verifier finds such a manifest well-formed and its signature valid, but
reports the signer as untrusted (``signingCredential.untrusted``): no public trust list knows
this root. An operator who has a certificate from a CA on the C2PA trust list puts its chain and
key in place of ``c2pa_chain.pem`` and ``c2pa_key.pem`` (docs/provenance.md).

WAV, FLAC and MP3 carry a manifest; C2PA does not define one for OGG (Vorbis or Opus), so those
files, and raw PCM streams, are found by their delivery record and watermark alone.
"""

from __future__ import annotations

import datetime
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sayso import __version__

MIME_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg"}
ASSERTION = "org.sayso.speech"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ROOT_FILE, CHAIN_FILE, KEY_FILE = "c2pa_root.pem", "c2pa_chain.pem", "c2pa_key.pem"
_VALID_YEARS = 10


@dataclass(frozen=True)
class Manifest:
    """What a file's Content Credentials say; ``state`` is C2PA's (Invalid, Valid or Trusted)."""

    state: str
    failures: tuple[str, ...]
    signer: str
    ai_generated: bool
    sayso: dict[str, Any] | None


class Credentials:
    """The installation's C2PA signer (its certificate chain is made on first use)."""

    def __init__(self, trust_dir: Path) -> None:
        self.trust_dir = trust_dir
        if not (trust_dir / CHAIN_FILE).exists():
            _make_chain(trust_dir)
        self._chain = (trust_dir / CHAIN_FILE).read_bytes()
        self._key = (trust_dir / KEY_FILE).read_bytes()

    @property
    def root_pem(self) -> str:
        """The installation's root certificate (PEM): a verifier that trusts it shows its files as Trusted."""
        return (self.trust_dir / ROOT_FILE).read_text(encoding="ascii") if (self.trust_dir / ROOT_FILE).exists() else ""

    def sign(self, data: bytes, fmt: str, claim: dict[str, Any]) -> bytes:
        """``data`` (a ``fmt`` file) with a manifest embedding ``claim`` as Sayso's assertion."""
        import c2pa

        manifest = {
            "claim_generator_info": [{"name": "Sayso", "version": __version__}],
            "title": f"Sayso speech.{fmt}",
            "assertions": [
                {"label": "c2pa.actions.v2",
                 "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": SOURCE_TYPE}]}},
                {"label": ASSERTION, "data": claim},
            ],
        }  # fmt: skip
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ED25519, self._chain, self._key, None)
        signed = io.BytesIO()
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            builder.sign(signer, MIME_TYPES[fmt], io.BytesIO(data), signed)
        return signed.getvalue()


def read_manifest(path: Path, anchors: str | None = None) -> Manifest | None:
    """The Content Credentials in the file at ``path``, validated (trusting the root certificates in
    PEM ``anchors``, if given); None if it carries none."""
    import c2pa

    mime = MIME_TYPES.get(path.suffix.lower().lstrip("."))
    if mime is None:
        return None
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": anchors}}) if anchors else None
    try:
        with path.open("rb") as handle, c2pa.Reader(mime, handle, context=context) as reader:
            active = reader.get_active_manifest() or {}
            state = reader.get_validation_state() or "Invalid"
            results = (reader.get_validation_results() or {}).get("activeManifest", {})
    except c2pa.C2paError:  # no manifest, or one too damaged to parse
        return None
    assertions = {a.get("label"): a.get("data") for a in active.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or {}).get("actions", [])
    return Manifest(
        state=state,
        failures=tuple(entry["code"] for entry in results.get("failure", [])),
        signer=str((active.get("signature_info") or {}).get("common_name", "")),
        ai_generated=any(a.get("digitalSourceType") == SOURCE_TYPE for a in actions),
        sayso=assertions.get(ASSERTION),
    )


def _make_chain(trust_dir: Path) -> None:
    """A self-made root and an Ed25519 signing certificate it issues, for this installation."""
    now = datetime.datetime.now(datetime.UTC)
    root_key, signer_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    root_name = _name("Sayso installation root")
    root = _certificate(root_name, root_name, root_key, root_key, now, ca=True)
    signer = _certificate(_name("Sayso installation signer"), root_name, signer_key, root_key, now, ca=False)
    pem = serialization.Encoding.PEM
    trust_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(trust_dir / KEY_FILE, signer_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    (trust_dir / ROOT_FILE).write_bytes(root.public_bytes(pem))
    # the chain last: its presence is what says the set is complete
    (trust_dir / CHAIN_FILE).write_bytes(signer.public_bytes(pem) + root.public_bytes(pem))


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sayso")])  # fmt: skip


def _certificate(subject: x509.Name, issuer: x509.Name, key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey,
                 now: datetime.datetime, *, ca: bool) -> x509.Certificate:  # fmt: skip
    """A certificate as C2PA's profile wants it: a CA that only signs certificates, or a signer for
    documents (digital signature, email protection) that is not a CA."""
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                           "encipher_only", "decipher_only"), False)  # fmt: skip
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * _VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )  # fmt: skip
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, None)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def describe(manifest: Manifest) -> str:
    """One sentence on a file's Content Credentials, for `sayso provenance check`."""
    claim = manifest.sayso or {}
    voices = ", ".join(repr(v) for v in claim.get("voices", [])) or "no Sayso voice"
    marked = "marked AI-generated (trainedAlgorithmicMedia)" if manifest.ai_generated else "NOT marked AI-generated"
    if manifest.state == "Invalid" or any(not f.startswith("signingCredential.untrusted") for f in manifest.failures):
        return (f"It carries C2PA Content Credentials naming {voices} (ledger entry {claim.get('ledger_entry')}), "
                f"but they do not validate ({', '.join(manifest.failures) or manifest.state}): "
                "the file was altered after they were signed.")  # fmt: skip
    trust = (
        "its certificate chains to this installation's root"
        if manifest.state == "Trusted"
        else "its certificate is a Sayso installation's own, which no public trust list knows"
    )
    return (f"Its C2PA Content Credentials are valid ({manifest.state}: signed by {manifest.signer!r}; {trust}), "
            f"{marked}, in {voices}, delivery ledger entry {claim.get('ledger_entry')}.")  # fmt: skip
