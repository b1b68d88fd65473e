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
