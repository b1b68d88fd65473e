"""The catalogue through the router, beside accounts in one supergraph."""

from __future__ import annotations

from hashlib import sha256

import httpx
import pytest

from subgraphs.spotify.catalogue.offline import load_sample
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
  playlists(first: $playlists) { edges { node { name coverArt { url }
    tracks(first: $tracks) { edges { node { name artists { name } album { name } } } } } } } } }"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


async def _cover_art_for_every_playlist(router: httpx.AsyncClient, token: str) -> None:
    """Uploads one cover through the router (presigned PUT to S3) and sets it on each playlist."""
    created = await gql(
        router,
        """mutation($i: CreateUploadInput!) { createUpload(input: $i) {
             asset { id } upload { url headers { name value } } } }""",
        {
            "i": {
                "kind": "COVER_ART",
                "contentType": "image/png",
                "size": len(PNG),
                "checksum": sha256(PNG).hexdigest(),
            }
        },
        token=token,
    )
    upload = created["data"]["createUpload"]
    headers = {header["name"]: header["value"] for header in upload["upload"]["headers"]}
    async with httpx.AsyncClient() as s3:
        assert (await s3.put(upload["upload"]["url"], content=PNG, headers=headers)).status_code == 200
    asset_id = upload["asset"]["id"]
    done = await gql(
        router,
        "mutation($id: ID!) { completeUpload(id: $id) { asset { status } } }",
        {"id": asset_id},
        token=token,
    )
    assert done["data"]["completeUpload"]["asset"]["status"] == "READY", done
    mine = await gql(router, "{ me { playlists(first: 10) { edges { node { id } } } } }", token=token)
    for edge in mine["data"]["me"]["playlists"]["edges"]:
        chosen = await gql(
            router,
            "mutation($i: SetPlaylistCoverArtInput!) { setPlaylistCoverArt(input: $i) { playlist { id } } }",
            {"i": {"playlistId": edge["node"]["id"], "assetId": asset_id}},
            token=token,
        )
        assert "errors" not in chosen, chosen


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
        await _cover_art_for_every_playlist(router, account["token"])
        fetches = []
        for playlists, tracks in ((2, 5), (10, 50)):
            platform.fetches.clear()
            s3_requests = platform.storage.requests
            body = await gql(
                router, LIBRARY, {"playlists": playlists, "tracks": tracks}, token=account["token"]
            )
            assert "errors" not in body, body
            edges = body["data"]["me"]["playlists"]["edges"]
            assert len(edges) == playlists and all(e["node"]["tracks"]["edges"] for e in edges)
            assert all(
                e["node"]["coverArt"]["url"].startswith(platform.storage_settings.s3_endpoint_url)
                for e in edges
            )
            assert platform.storage.requests == s3_requests  # signed URLs cost no S3 request
            fetches.append(dict(platform.fetches))
    # One fetch to accounts (me), one _entities fetch each to spotify and storage, whatever the page sizes.
    assert fetches[0] == fetches[1] == {"accounts": 1, "spotify": 1, "storage": 1}


async def test_one_trace_id_follows_a_request_through_every_subgraph(platform, caplog):
    artist = load_sample()["artists"][0]["id"]
    query = f'{{ me {{ displayName }} artists(ids: ["{artist}"]) {{ name }} }}'
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as router:
        token = (await sign_up(router))["token"]
        caplog.clear()
        made = await router.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )
        given = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
        kept = await router.post(
            "/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {token}", "traceparent": given},
        )
    assert "errors" not in made.json() and "errors" not in kept.json()
    made_id = made.headers["traceparent"].split("-")[1]
    assert kept.headers["traceparent"] == given
    logged = [
        (record.subgraph, record.trace_id)  # type: ignore[attr-defined]
        for record in caplog.records
        if record.getMessage() == "graphql operation"
    ]
    assert sorted(logged) == sorted(
        [("accounts", made_id), ("spotify", made_id), ("accounts", "ab" * 16), ("spotify", "ab" * 16)]
    )
