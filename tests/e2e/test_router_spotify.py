"""The catalogue through the router, beside accounts in one supergraph."""

from __future__ import annotations

import httpx
import pytest

from subgraphs.spotify.catalog.offline import load_sample
from tests.support.graphql import gql, sign_up

pytestmark = pytest.mark.e2e


async def test_one_request_reads_accounts_and_the_catalogue(platform):
    sample = load_sample()
    playlist = sample["playlists"][1]
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as router:
        account = await sign_up(router)
        body = await gql(
            router,
            """query($id: ID!) { me { displayName }
                 playlist(id: $id) { name tracks(first: 5) { edges { node { name artists { name } album { name } } } } } }""",
            {"id": playlist["id"]},
            token=account["token"],
        )
    assert "errors" not in body, body
    assert body["data"]["me"]["displayName"] == "Ada Lovelace"
    assert body["data"]["playlist"]["name"] == playlist["name"]
    assert len(body["data"]["playlist"]["tracks"]["edges"]) == 5


LIBRARY = """query($playlists: Int!, $tracks: Int!) { me { displayName
  playlists(first: $playlists) { edges { node { name
    tracks(first: $tracks) { edges { node { name artists { name } album { name } } } } } } } } }"""


@pytest.mark.budget
async def test_a_users_library_costs_a_fixed_number_of_subgraph_fetches(platform):
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=60) as router:
        account = await sign_up(router)
        state = (await gql(router, "{ spotifyAuthorizeUrl { state } }", token=account["token"]))["data"][
            "spotifyAuthorizeUrl"
        ]["state"]
        await gql(
            router,
            'mutation($s: String!) { linkSpotifyAccount(input: {code: "offline", state: $s}) { account { spotifyUserId } } }',
            {"s": state},
            token=account["token"],
        )
        fetches = []
        for playlists, tracks in ((2, 5), (10, 50)):
            platform.fetches.clear()
            body = await gql(
                router, LIBRARY, {"playlists": playlists, "tracks": tracks}, token=account["token"]
            )
            assert "errors" not in body, body
            edges = body["data"]["me"]["playlists"]["edges"]
            assert len(edges) == playlists and all(e["node"]["tracks"]["edges"] for e in edges)
            fetches.append(dict(platform.fetches))
    # One fetch to accounts (me), one _entities fetch to spotify, whatever the page sizes.
    assert fetches[0] == fetches[1] == {"accounts": 1, "spotify": 1}
