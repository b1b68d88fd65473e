"""RS256 signing keys: generated into the data dir in dev, read from env or a secret file
in production. Public keys are published as a JWKS.

A key ring rotates without logging anyone out: configure several PEM private keys, newest
first. The first signs; the others are only published, so the access tokens they signed stay
valid until they expire (15 minutes), after which the old key can be dropped."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk

from shared.config import Settings


def _b64(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_jwk: dict[str, str]


def signing_key_from_pem(private_pem: bytes) -> SigningKey:
    private = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("JWT signing key must be RSA")
    numbers = private.public_key().public_numbers()
    e, n = _b64(numbers.e), _b64(numbers.n)
    # RFC 7638 thumbprint as the key id: stable for the same key.
    thumbprint = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(thumbprint.encode()).digest()).rstrip(b"=")
    public = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid.decode(), "n": n, "e": e}
    return SigningKey(kid=kid.decode(), private_pem=private_pem, public_jwk=public)


_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S)


def signing_keys_from_pem(text: bytes) -> list[SigningKey]:
    """Every PEM private key in `text`, in order: the first is the one that signs."""
    blocks = [match.group(0) for match in _PEM_PRIVATE_KEY.finditer(text)]
    if not blocks:
        raise ValueError("no PEM private key found in the JWT signing key setting")
    ring = [signing_key_from_pem(block) for block in blocks]
    if len({key.kid for key in ring}) != len(ring):
        raise ValueError("the same JWT signing key is configured twice")
    return ring


def _generate_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_keys(settings: Settings) -> list[SigningKey]:
    """The key ring, newest (signing) key first."""
    if settings.jwt_private_key:
        return signing_keys_from_pem(settings.jwt_private_key.encode())
    if settings.jwt_private_key_file:
        return signing_keys_from_pem(settings.jwt_private_key_file.read_bytes())
    if settings.env == "production":
        raise RuntimeError("set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE in production")
    path = settings.data_dir / "keys" / "jwt-signing.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_generate_pem())
        tmp.chmod(0o600)
        # Another process may win the race: a hard link fails when the name exists, so
        # every process ends up with whichever key landed first.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return signing_keys_from_pem(path.read_bytes())


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in keys]}


def public_key_objects(jwks_document: dict[str, Any]) -> dict[str, Any]:
    """kid -> prepared jose key (pre-built keys verify ~1.5x faster)."""
    return {
        entry["kid"]: jwk.construct(entry, algorithm="RS256")
        for entry in jwks_document.get("keys", [])
        if entry.get("kty") == "RSA" and entry.get("kid")
    }
