"""Ed25519 signatures over issued documents' canonical data, and the key they use.

The canonical form is compact JSON with sorted keys and UTF-8 text (Persian unescaped), so
anyone holding the published public key can check a document's facts with a few lines of
code. The private key comes from configuration (base64 or a PEM file); a development machine
without one gets a generated key in instance/, never committed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, current_app

#: The generated development key, inside the instance folder.
DEV_KEY_FILE = "document-signing-key.pem"


class SigningKeyMissing(RuntimeError):
    """Production has no document signing key configured."""


def canonical_json(data: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass(frozen=True)
class SigningKey:
    """The private key and what verifiers see of it."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        """A short fingerprint: the first 16 hex digits of SHA-256 over the raw public key."""
        return hashlib.sha256(public_raw(self.public)).hexdigest()[:16]

    def sign(self, data: Any) -> str:
        """Sign the canonical form of `data`; the signature in base64."""
        return base64.b64encode(self.private.sign(canonical_json(data))).decode("ascii")

    def public_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo), as published."""
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def public_raw(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_signature(data: Any, signature: str | None, key: Ed25519PublicKey) -> bool:
    """Whether `signature` (base64) is the key's signature over the canonical form of `data`."""
    if not signature:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical_json(data))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _from_base64(value: str) -> Ed25519PrivateKey:
    raw = base64.b64decode(value.strip())
    if raw.startswith(b"-----BEGIN"):
        return _from_pem(raw)
    return Ed25519PrivateKey.from_private_bytes(raw)


def _from_pem(data: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the document signing key must be an Ed25519 key")
    return key


def _generated_dev_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return _from_pem(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created readable by the owner only, and never overwritten (documents depend on it).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker generated it first
        return _from_pem(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def load_signing_key(app: Flask) -> SigningKey:
    """The configured key: base64 setting, then PEM path, then (development) a generated one.

    :raises SigningKeyMissing: in production without a configured key.
    """
    config = app.config
    if config.get("DOCUMENT_SIGNING_KEY"):
        return SigningKey(_from_base64(config["DOCUMENT_SIGNING_KEY"]))
    if config.get("DOCUMENT_SIGNING_KEY_PATH"):
        return SigningKey(_from_pem(Path(config["DOCUMENT_SIGNING_KEY_PATH"]).read_bytes()))
    if config.get("PARVANEH_ENV") == "production":
        raise SigningKeyMissing(
            "DOCUMENT_SIGNING_KEY or DOCUMENT_SIGNING_KEY_PATH must be set in production"
        )
    return SigningKey(_generated_dev_key(Path(app.instance_path) / DEV_KEY_FILE))


def signing_key() -> SigningKey:
    """The app's signing key, loaded once."""
    key = current_app.extensions.get("parvaneh.signing_key")
    if key is None:
        key = load_signing_key(current_app)
        current_app.extensions["parvaneh.signing_key"] = key
    return key  # type: ignore[no-any-return]
