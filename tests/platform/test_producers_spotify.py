"""spotify emits its domain events: platform playlists through GraphQL, and the library
sync job's imports and its end."""

from __future__ import annotations

import pytest

from subgraphs.spotify.catalogue.offline import load_sample
from tests.spotify.test_spotify_sync_job import SYNC, _link, _run_worker, served  # noqa: F401
from tests.support.domain_events import assert_no_secrets, domain_stream
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted

T = [track["id"] for track in load_sample()["tracks"][:4]]
CREATE = "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { playlist { id snapshotId } } }"
ADD = "mutation($i: AddTracksToPlaylistInput!) { addTracksToPlaylist(input: $i) { playlist { id } } }"
REMOVE = (
    "mutation($i: RemoveTracksFromPlaylistInput!) { removeTracksFromPlaylist(input: $i) { playlist { id } } }"
)
REORDER = "mutation($i: ReorderPlaylistInput!) { reorderPlaylist(input: $i) { playlist { id snapshotId } } }"


@pytest.fixture
async def spotify(settings, redis_server, database, accounts):
    async with hosted("spotify", settings, redis_server.url, database) as spotify:
        yield spotify.runtime, spotify.client, accounts[1]


async def _ok(client, query, variables, token):
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


async def test_playlist_mutations_emit_created_and_changed(spotify):
    runtime, client, accounts_client = spotify
    owner = await sign_up(accounts_client)
    token = owner["token"]
    created = (await _ok(client, CREATE, {"i": {"name": "Release plan", "public": True}}, token))[
        "createPlaylist"
    ]["playlist"]
    playlist_id = created["id"]
    await _ok(client, ADD, {"i": {"playlistId": playlist_id, "trackIds": T}}, token)
    await _ok(client, REMOVE, {"i": {"playlistId": playlist_id, "trackIds": [T[0]]}}, token)
    current = (
        await gql(
            client, "query($id: ID!) { playlist(id: $id) { snapshotId } }", {"id": playlist_id}, token=token
        )
    )["data"]["playlist"]["snapshotId"]
    reorder = {
        "playlistId": playlist_id,
        "rangeStart": 0,
        "rangeLength": 1,
        "insertBefore": 3,
        "snapshotId": current,
    }
    await _ok(client, REORDER, {"i": reorder}, token)

    events = [event for event in await domain_stream(runtime.redis, "spotify")]
    assert [event.type for event in events] == ["spotify.playlist.created"] + ["spotify.playlist.changed"] * 3
    assert all(event.actor_id == owner["user"]["id"] and event.tenant_id for event in events)
    assert events[0].payload == {
        "playlist_id": playlist_id,
        "owner_id": owner["user"]["id"],
        "name": "Release plan",
        "description": None,
        "public": True,
        "version": 1,
    }
    changes = [(e.payload["change"], e.payload["version"], e.payload["track_ids"]) for e in events[1:]]
    assert changes == [
        ("tracks_added", 2, T),
        ("tracks_removed", 3, T[1:]),
        ("reordered", 4, [T[2], T[3], T[1]]),
    ]
    await assert_no_secrets(runtime.redis, "spotify", [token, owner["refresh"]])


async def test_the_library_sync_emits_its_imports_and_its_completion(
    served,  # noqa: F811 (the sync job tests' fixture)
    accounts,
    settings,
    redis_server,
):
    redis, client, _, account = served
    await _link(accounts[1], account["token"])
    job = (await gql(client, SYNC, token=account["token"]))["data"]["syncMySpotifyLibrary"]["job"]
    await _run_worker(settings, redis_server.url)

    events = await domain_stream(redis, "spotify")
    types = [event.type for event in events]
    assert types == ["spotify.library_playlist.upserted"] * 12 + [
        "spotify.plays.ingested",
        "spotify.library_sync.completed",
    ]
    user_id = account["user"]["id"]
    upserted = events[0].payload
    assert upserted["user_id"] == user_id and upserted["spotify_playlist_id"] and upserted["name"]
    plays = events[12].payload
    assert plays["user_id"] == user_id and plays["new"] == 50 and len(plays["plays"]) == 50
    assert set(plays["plays"][0]) == {"track_id", "played_at"}
    assert events[13].payload == {
        "job_id": job["id"],
        "user_id": user_id,
        "playlists": 12,
        "plays": 50,
        "new_plays": 50,
    }
    await assert_no_secrets(redis, "spotify", [account["token"], account["refresh"]])
