"""Secrets at rest (Spotify refresh tokens): a Fernet key ring that supports rotation.
The newest key encrypts; every key of the ring decrypts."""

from __future__ import annotations

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import Settings


class SecretDecryptionError(Exception):
    """The ciphertext was tampered with, or no key of the ring made it."""


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("the key ring needs at least one key")
        self._ring = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._ring.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._ring.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptionError("secret could not be decrypted") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypts under the newest key (run after adding a key to the front)."""
        try:
            return self._ring.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptionError("secret could not be decrypted") from exc


def _generated_keys(settings: Settings) -> list[str]:
    path = settings.data_dir / "keys" / "secrets.keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(Fernet.generate_key().decode() + "\n")
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _key_ring(settings: Settings) -> list[str]:
    if settings.encryption_keys:
        return [key.strip() for key in settings.encryption_keys.split(",") if key.strip()]
    if settings.env == "production":
        raise RuntimeError("set ENCRYPTION_KEYS in production")
    return _generated_keys(settings)


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose (e.g. signing URLs), derived from the newest key of the ring,
    so one secret to provision and no key reused across purposes."""
    newest = base64.urlsafe_b64decode(_key_ring(settings)[0])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(newest)


INVITATION_MAIL = "collaboration-invitation-mail"
"""Collaboration seals a workspace invitation's code for notifications' mail."""


def sealed_for(settings: Settings, purpose: str) -> Fernet:
    """Encryption one platform service uses to hand another a secret through a domain event
    (stored in the outbox and on a stream as ciphertext only): a key derived for `purpose`."""
    return Fernet(base64.urlsafe_b64encode(derive_key(settings, purpose)))


def load_secret_box(settings: Settings) -> SecretBox:
    return SecretBox(_key_ring(settings))
