from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet

from shared.config import Settings
from shared.crypto import SecretBox, SecretDecryptionError, load_secret_box
from subgraphs.accounts import spotify_link
from subgraphs.accounts.config import AccountsSettings
from tests.support.replay import SpotifyReplay


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


def test_sample_account_is_deterministic():
    first = spotify_link.sample_account("usr_1")
    assert first == spotify_link.sample_account("usr_1")
    assert first.refresh_token.startswith("offline-sample:")


async def test_refresh_keeps_the_old_refresh_token_when_spotify_sends_none():
    replay = SpotifyReplay(refresh_returns_new_token=False)
    transport = httpx.ASGITransport(app=replay.app())
    settings = AccountsSettings(
        spotify_client_id="c", spotify_client_secret="s", spotify_accounts_url="http://spotify.test"
    )
    async with httpx.AsyncClient(transport=transport) as http:
        tokens = await spotify_link.refresh_access_token(settings, "AQD-old", http)
    assert tokens.refresh_token == "AQD-old" and tokens.access_token == "BQD-access-2"
    assert replay.requests[0]["auth"].startswith("Basic ")  # confidential client: HTTP Basic
