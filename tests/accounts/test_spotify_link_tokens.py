"""The accounts side of a Spotify link, pure: the offline sample account and the token refresh
against a replay of Spotify's accounts service."""

from __future__ import annotations

import httpx

from subgraphs.accounts.config import AccountsSettings
from subgraphs.accounts.spotify_accounts import oauth
from tests.support.replay import SpotifyReplay


def test_sample_account_is_deterministic():
    first = oauth.sample_account("usr_1")
    assert first == oauth.sample_account("usr_1")
    assert first.refresh_token.startswith("offline-sample:")


async def test_refresh_keeps_the_old_refresh_token_when_spotify_sends_none():
    replay = SpotifyReplay(refresh_returns_new_token=False)
    transport = httpx.ASGITransport(app=replay.app())
    settings = AccountsSettings(
        spotify_client_id="c", spotify_client_secret="s", spotify_accounts_url="http://spotify.test"
    )
    async with httpx.AsyncClient(transport=transport) as http:
        tokens = await oauth.refresh_access_token(settings, "AQD-old", http)
    assert tokens.refresh_token == "AQD-old" and tokens.access_token == "BQD-access-2"
    assert replay.requests[0]["auth"].startswith("Basic ")  # confidential client: HTTP Basic
