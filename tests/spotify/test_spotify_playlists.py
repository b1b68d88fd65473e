"""Playlists made on the platform: edits with optimistic snapshots, tenant isolation, and
bad input that changes nothing."""

from __future__ import annotations

import pytest

from subgraphs.spotify.catalogue.offline import load_sample
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import hosted

SAMPLE = load_sample()
T = [track["id"] for track in SAMPLE["tracks"][:6]]
FIELDS = "id name snapshotId tracks(first: 50) { edges { node { id } } }"


def _mutation(name: str, input_type: str) -> str:
    return f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ playlist {{ {FIELDS} }} }} }}"


CREATE = _mutation("createPlaylist", "CreatePlaylistInput")
ADD = _mutation("addTracksToPlaylist", "AddTracksToPlaylistInput")
REMOVE = _mutation("removeTracksFromPlaylist", "RemoveTracksFromPlaylistInput")
REORDER = _mutation("reorderPlaylist", "ReorderPlaylistInput")
GET = f"query($id: ID!) {{ playlist(id: $id) {{ {FIELDS} }} }}"


def ids(playlist: dict) -> list[str]:
    return [edge["node"]["id"] for edge in playlist["tracks"]["edges"]]


@pytest.fixture
async def spotify(settings, redis_server, database, accounts):
    async with hosted("spotify", settings, redis_server.url, database) as spotify:
        yield spotify.client, accounts[1]


async def _playlist(client, token: str, tracks: list[str]) -> dict:
    created = (await gql(client, CREATE, {"i": {"name": "Release plan"}}, token=token))["data"][
        "createPlaylist"
    ]["playlist"]
    added = await gql(client, ADD, {"i": {"playlistId": created["id"], "trackIds": tracks}}, token=token)
    assert "errors" not in added, added
    return added["data"]["addTracksToPlaylist"]["playlist"]


async def test_create_add_remove_and_reorder(spotify):
    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    playlist = await _playlist(client, token, T[:4])
    assert ids(playlist) == T[:4]
    inserted = await gql(
        client, ADD, {"i": {"playlistId": playlist["id"], "trackIds": [T[5]], "position": 1}}, token=token
    )
    playlist = inserted["data"]["addTracksToPlaylist"]["playlist"]
    assert ids(playlist) == [T[0], T[5], T[1], T[2], T[3]]
    moved = await gql(
        client,
        REORDER,
        {
            "i": {
                "playlistId": playlist["id"],
                "rangeStart": 0,
                "rangeLength": 2,
                "insertBefore": 5,
                "snapshotId": playlist["snapshotId"],
            }
        },
        token=token,
    )
    playlist = moved["data"]["reorderPlaylist"]["playlist"]
    assert ids(playlist) == [T[1], T[2], T[3], T[0], T[5]]
    removed = await gql(
        client, REMOVE, {"i": {"playlistId": playlist["id"], "trackIds": [T[0], T[5]]}}, token=token
    )
    assert ids(removed["data"]["removeTracksFromPlaylist"]["playlist"]) == [T[1], T[2], T[3]]


async def test_stale_snapshot_gets_conflict_and_changes_nothing(spotify):
    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    playlist = await _playlist(client, token, T[:3])
    stale = playlist["snapshotId"]
    await gql(client, ADD, {"i": {"playlistId": playlist["id"], "trackIds": [T[4]]}}, token=token)
    body = await gql(
        client,
        REORDER,
        {"i": {"playlistId": playlist["id"], "rangeStart": 0, "insertBefore": 3, "snapshotId": stale}},
        token=token,
    )
    assert codes(body) == ["CONFLICT"]
    current = (await gql(client, GET, {"id": playlist["id"]}, token=token))["data"]["playlist"]
    assert body["errors"][0]["extensions"]["currentSnapshotId"] == current["snapshotId"]
    assert ids(current) == [*T[:3], T[4]]


async def test_bad_input_changes_nothing(spotify):
    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    playlist = await _playlist(client, token, T[:2])
    cases = [
        (ADD, {"playlistId": playlist["id"], "trackIds": ["0000000000000000000000"]}, "trackIds"),
        (ADD, {"playlistId": playlist["id"], "trackIds": [T[3]], "position": 9}, "position"),
        (ADD, {"playlistId": playlist["id"], "trackIds": [T[0]] * 101}, "trackIds"),
        (REMOVE, {"playlistId": playlist["id"], "trackIds": [T[5]]}, "trackIds"),
        (
            REORDER,
            {
                "playlistId": playlist["id"],
                "rangeStart": 1,
                "rangeLength": 5,
                "insertBefore": 0,
                "snapshotId": playlist["snapshotId"],
            },
            "rangeStart",
        ),
        (
            REORDER,
            {"playlistId": playlist["id"], "rangeStart": 0, "insertBefore": 1, "snapshotId": "garbage"},
            "snapshotId",
        ),
        (CREATE, {"name": "  "}, "name"),
    ]
    for mutation, variables, field in cases:
        body = await gql(client, mutation, {"i": variables}, token=token)
        assert codes(body) == ["BAD_USER_INPUT"], (variables, body)
        assert body["errors"][0]["extensions"]["field"] == field
    current = (await gql(client, GET, {"id": playlist["id"]}, token=token))["data"]["playlist"]
    assert ids(current) == T[:2] and current["snapshotId"] == playlist["snapshotId"]


async def test_another_tenants_playlist_does_not_exist_for_you(spotify):
    client, accounts_client = spotify
    alice, mallory = (await sign_up(accounts_client))["token"], (await sign_up(accounts_client))["token"]
    playlist = await _playlist(client, alice, T[:2])
    assert (await gql(client, GET, {"id": playlist["id"]}, token=mallory))["data"]["playlist"] is None
    body = await gql(client, ADD, {"i": {"playlistId": playlist["id"], "trackIds": [T[3]]}}, token=mallory)
    assert codes(body) == ["NOT_FOUND"]
    assert ids((await gql(client, GET, {"id": playlist["id"]}, token=alice))["data"]["playlist"]) == T[:2]


DETAILS = """mutation($i: ChangePlaylistDetailsInput!) {
  changePlaylistDetails(input: $i) { playlist { id name description public snapshotId } }
}"""


async def test_change_details_is_versioned_and_published(spotify, database):
    from sqlmodel import select

    from shared.domain_events.models import OutboxEvent

    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    playlist = await _playlist(client, token, T[:2])
    changed = await gql(
        client,
        DETAILS,
        {
            "i": {
                "playlistId": playlist["id"],
                "public": True,
                "description": "Summer",
                "snapshotId": playlist["snapshotId"],
            }
        },
        token=token,
    )
    details = changed["data"]["changePlaylistDetails"]["playlist"]
    assert (details["name"], details["description"], details["public"]) == ("Release plan", "Summer", True)
    assert details["snapshotId"] != playlist["snapshotId"]

    stale = await gql(
        client,
        DETAILS,
        {"i": {"playlistId": playlist["id"], "name": "X", "snapshotId": playlist["snapshotId"]}},
        token=token,
    )
    assert codes(stale) == ["CONFLICT"]
    nothing = await gql(client, DETAILS, {"i": {"playlistId": playlist["id"]}}, token=token)
    assert codes(nothing) == ["BAD_USER_INPUT"]
    too_long = await gql(
        client, DETAILS, {"i": {"playlistId": playlist["id"], "name": "n" * 101}}, token=token
    )
    assert codes(too_long) == ["BAD_USER_INPUT"]
    private = await gql(
        client,
        DETAILS,
        {"i": {"playlistId": playlist["id"], "public": False, "description": ""}},
        token=token,
    )
    assert private["data"]["changePlaylistDetails"]["playlist"]["description"] is None
    after = (await gql(client, GET, {"id": playlist["id"]}, token=token))["data"]["playlist"]
    assert after["name"] == "Release plan"

    async with database.read() as session:
        rows = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.type == "spotify.playlist.details_changed")
            )
        ).scalars()
        published = [(row.payload["public"], row.payload["changed"]) for row in rows]
    assert published == [(True, ["description", "public"]), (False, ["description", "public"])]
