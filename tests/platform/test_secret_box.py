"""Secrets at rest (shared.crypto): a Fernet key ring that rotates, detects tampering, and is
generated once in development but never in production."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from shared.config import Settings
from shared.crypto import SecretBox, SecretDecryptionError, load_secret_box


def test_round_trip_rotation_and_tamper_detection():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("refresh-token")
    ring = SecretBox([new, old])
    assert ring.decrypt(token) == "refresh-token"
    rotated = ring.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "refresh-token"
    with pytest.raises(SecretDecryptionError):
        ring.decrypt(token[:-4] + "AAAA")
    with pytest.raises(SecretDecryptionError):
        SecretBox([Fernet.generate_key().decode()]).decrypt(token)


def test_generated_key_ring_is_created_once(tmp_path):
    settings = Settings(env="dev", data_dir=tmp_path)
    token = load_secret_box(settings).encrypt("x")
    assert load_secret_box(settings).decrypt(token) == "x"
    assert (tmp_path / "keys" / "secrets.keys").stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_generate_keys(tmp_path):
    with pytest.raises(RuntimeError):
        load_secret_box(Settings(env="production", data_dir=tmp_path))
