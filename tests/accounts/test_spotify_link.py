"""Linking a Spotify account: offline sample, and the live PKCE flow against a replay."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from shared.crypto import load_secret_box
from subgraphs.accounts.models import SpotifyLink
from tests.support.graphql import codes, gql, sign_up
from tests.support.replay import SpotifyReplay
from tests.support.servers import ServerThread

AUTHORIZE = "{ spotifyAuthorizeUrl { url state offline } }"
LINK = "mutation($code: String!, $state: String!) { linkSpotifyAccount(input: {code: $code, state: $state}) { account { spotifyUserId displayName isSample } } }"


async def test_offline_link_attaches_a_sample_account_with_an_encrypted_token(accounts, database):
    runtime, client = accounts
    account = await sign_up(client)
    started = (await gql(client, AUTHORIZE, token=account["token"]))["data"]["spotifyAuthorizeUrl"]
    assert started["offline"] is True
    linked = await gql(client, LINK, {"code": "offline", "state": started["state"]}, token=account["token"])
    assert "errors" not in linked, linked
    assert linked["data"]["linkSpotifyAccount"]["account"]["isSample"] is True
    async with database.read() as session:
        row = (await session.execute(select(SpotifyLink))).scalars().one()
    assert "offline-sample" not in row.refresh_token_encrypted
    assert (
        load_secret_box(runtime.settings).decrypt(row.refresh_token_encrypted).startswith("offline-sample:")
    )
    me = await gql(client, "{ me { spotifyAccount { spotifyUserId isSample } } }", token=account["token"])
    assert me["data"]["me"]["spotifyAccount"]["isSample"] is True


async def test_state_is_single_use_and_bound_to_the_user(accounts):
    _, client = accounts
    alice, mallory = await sign_up(client), await sign_up(client)
    state = (await gql(client, AUTHORIZE, token=alice["token"]))["data"]["spotifyAuthorizeUrl"]["state"]
    stolen = await gql(client, LINK, {"code": "offline", "state": state}, token=mallory["token"])
    assert codes(stolen) == ["BAD_USER_INPUT"]
    # The state was consumed by the failed attempt too: a replay gets nothing.
    replay = await gql(client, LINK, {"code": "offline", "state": state}, token=alice["token"])
    assert codes(replay) == ["BAD_USER_INPUT"]


@pytest.fixture
def spotify():
    replay = SpotifyReplay()
    server = ServerThread(replay.app()).start()
    yield replay, server.url
    server.stop()


async def test_live_link_uses_pkce_and_stores_the_refresh_token_encrypted(accounts, database, spotify):
    runtime, client = accounts
    replay, url = spotify
    runtime.config.spotify_client_id = "client-123"
    runtime.config.spotify_accounts_url = url
    runtime.config.spotify_api_url = f"{url}/v1"
    account = await sign_up(client)
    started = (await gql(client, AUTHORIZE, token=account["token"]))["data"]["spotifyAuthorizeUrl"]
    query = parse_qs(urlparse(started["url"]).query)
    assert started["offline"] is False
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [started["state"]]
    assert query["client_id"] == ["client-123"]
    replay.codes["auth-code-1"] = query["code_challenge"][0]

    linked = await gql(
        client, LINK, {"code": "auth-code-1", "state": started["state"]}, token=account["token"]
    )
    assert "errors" not in linked, linked
    assert linked["data"]["linkSpotifyAccount"]["account"] == {
        "spotifyUserId": "lunavega.music",
        "displayName": "Luna Vega",
        "isSample": False,
    }
    token_request = replay.requests[0]["form"]
    assert token_request["grant_type"] == "authorization_code" and token_request["client_id"] == "client-123"
    async with database.read() as session:
        row = (await session.execute(select(SpotifyLink))).scalars().one()
    assert "AQD-refresh-1" not in row.refresh_token_encrypted
    assert load_secret_box(runtime.settings).decrypt(row.refresh_token_encrypted) == "AQD-refresh-1"


async def test_live_link_with_a_refused_code_changes_nothing(accounts, database, spotify):
    runtime, client = accounts
    _, url = spotify
    runtime.config.spotify_client_id = "client-123"
    runtime.config.spotify_accounts_url = url
    account = await sign_up(client)
    state = (await gql(client, AUTHORIZE, token=account["token"]))["data"]["spotifyAuthorizeUrl"]["state"]
    body = await gql(client, LINK, {"code": "wrong", "state": state}, token=account["token"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["spotifyError"] == "invalid_grant"
    async with database.read() as session:
        assert (await session.execute(select(SpotifyLink))).scalars().first() is None


async def test_internal_token_call_caches_and_refreshes_on_request_at_most_once(accounts, spotify):
    """The spotify subgraph asks again with `refresh=1` when Spotify answered 401: the cached
    token is dropped and a new one fetched; asking in a loop does not hammer Spotify."""
    runtime, client = accounts
    replay, url = spotify
    runtime.config.spotify_client_id = "client-123"
    runtime.config.spotify_accounts_url = url
    runtime.config.spotify_api_url = f"{url}/v1"
    account = await sign_up(client)
    started = (await gql(client, AUTHORIZE, token=account["token"]))["data"]["spotifyAuthorizeUrl"]
    replay.codes["auth-code-2"] = parse_qs(urlparse(started["url"]).query)["code_challenge"][0]
    linked = await gql(
        client, LINK, {"code": "auth-code-2", "state": started["state"]}, token=account["token"]
    )
    assert "errors" not in linked, linked
    headers = {"Authorization": f"Bearer {account['token']}"}

    def refresh_grants() -> int:
        return sum(
            1 for request in replay.requests if request.get("form", {}).get("grant_type") == "refresh_token"
        )

    first = (await client.post("/internal/spotify-token", headers=headers)).json()
    second = (await client.post("/internal/spotify-token", headers=headers)).json()
    assert first["access_token"] == second["access_token"] == "BQD-access-2"
    assert refresh_grants() == 1  # the second came from the cache
    renewed = await client.post("/internal/spotify-token?refresh=1", headers=headers)
    assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
    assert refresh_grants() == 2
    again = await client.post("/internal/spotify-token?refresh=1", headers=headers)
    assert again.json()["access_token"] == "BQD-access-2"
    assert refresh_grants() == 2  # within the interval: the fresh cached token, no new grant
    anonymous = await client.post("/internal/spotify-token?refresh=1")
    assert anonymous.status_code == 401
