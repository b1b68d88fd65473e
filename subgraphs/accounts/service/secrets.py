"""Secrets handed to clients (refresh tokens, API keys, invitation codes) are random and
high-entropy, so a SHA-256 digest is a safe at-rest form; passwords use argon2."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), expected_digest)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_refresh_token() -> str:
    return "srt_" + secrets.token_urlsafe(32)


def new_invitation_code() -> str:
    return "inv_" + secrets.token_urlsafe(18)


def new_api_key() -> tuple[str, str]:
    """Returns (visible prefix, full key). The key is shown once."""
    prefix = secrets.token_hex(4)
    return prefix, f"sak_{prefix}_{secrets.token_urlsafe(32)}"
