"""The spotify subgraph over the offline catalogue: queries, batching to the Web API's
limits, the Redis read-through cache, and call budgets."""

from __future__ import annotations

import math

import pytest

from subgraphs.spotify.catalogue.offline import load_sample
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import hosted, runtime_of

SAMPLE = load_sample()
BIG_PLAYLIST = next(p for p in SAMPLE["playlists"] if len(p["track_ids"]) == 500)
TRACKS = {t["id"]: t for t in SAMPLE["tracks"]}


@pytest.fixture
async def spotify(settings, redis_server, database, accounts):
    """The spotify subgraph beside accounts (which issues the tokens), sharing Redis."""
    _, accounts_client = accounts
    runtime = runtime_of("spotify", settings, redis_server.url, database)
    await runtime.services.accounts_http.aclose()
    runtime.services.accounts_http = accounts_client  # the internal call, in-process
    runtime.config.accounts_internal_url = str(accounts_client.base_url).rstrip("/")
    async with hosted("spotify", settings, redis_server.url, database, runtime=runtime) as spotify:
        account = await sign_up(accounts_client)
        yield runtime, spotify.client, account["token"]


async def test_artist_album_and_track(spotify):
    _, client, token = spotify
    track = SAMPLE["tracks"][0]
    body = await gql(
        client,
        "query($id: ID!) { track(id: $id) { id name durationMs artists { id name } album { id name albumType } } }",
        {"id": track["id"]},
        token=token,
    )
    assert "errors" not in body, body
    got = body["data"]["track"]
    assert got["name"] == track["name"] and got["durationMs"] == track["duration_ms"]
    assert [a["id"] for a in got["artists"]] == [a["id"] for a in track["artists"]]
    assert got["album"]["id"] == track["album"]["id"]


async def test_artist_albums_and_top_tracks_paginate(spotify):
    _, client, token = spotify
    artist = SAMPLE["artists"][0]
    query = """query($id: ID!, $after: String) { artist(id: $id) { name topTracks { popularity }
      albums(first: 1, after: $after) { edges { cursor node { id releaseDate } } pageInfo { hasNextPage endCursor } } } }"""
    body = await gql(client, query, {"id": artist["id"]}, token=token)
    data = body["data"]["artist"]
    popularity = [t["popularity"] for t in data["topTracks"]]
    assert popularity == sorted(popularity, reverse=True) and 1 <= len(popularity) <= 10
    mine = [a for a in SAMPLE["albums"] if any(x["id"] == artist["id"] for x in a["artists"])]
    seen = [edge["node"]["id"] for edge in data["albums"]["edges"]]
    after = data["albums"]["pageInfo"]["endCursor"]
    while data["albums"]["pageInfo"]["hasNextPage"]:
        data = (await gql(client, query, {"id": artist["id"], "after": after}, token=token))["data"]["artist"]
        seen += [edge["node"]["id"] for edge in data["albums"]["edges"]]
        after = data["albums"]["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(a["id"] for a in mine)


async def test_unknown_ids_are_null_and_limits_are_enforced(spotify):
    _, client, token = spotify
    known = SAMPLE["artists"][1]["id"]
    body = await gql(
        client,
        "query($ids: [ID!]!) { artists(ids: $ids) { id } }",
        {"ids": ["nope", known, "nope"]},
        token=token,
    )
    assert body["data"]["artists"] == [None, {"id": known}, None] and "errors" not in body
    too_many = await gql(
        client, "query($ids: [ID!]!) { artists(ids: $ids) { id } }", {"ids": [known] * 51}, token=token
    )
    assert codes(too_many) == ["BAD_USER_INPUT"]
    bad_cursor = await gql(
        client,
        '{ playlist(id: "' + BIG_PLAYLIST["id"] + '") { tracks(after: "zzz") { edges { cursor } } } }',
        token=token,
    )
    assert codes(bad_cursor) == ["BAD_USER_INPUT"]
    assert (await gql(client, '{ track(id: "missing") { id } }', token=token))["data"]["track"] is None


async def test_the_catalogue_needs_a_signed_in_caller(spotify):
    _, client, _ = spotify
    body = await gql(client, '{ track(id: "x") { id } }')
    assert codes(body) == ["UNAUTHENTICATED"]


PLAYLIST_QUERY = """query($id: ID!, $first: Int!) { playlist(id: $id) { name
  tracks(first: $first) { edges { node { name artists { name } album { name } } } } } }"""


@pytest.mark.budget
async def test_500_track_playlist_cold_then_warm_cache(spotify, database):
    runtime, client, token = spotify
    catalogue = runtime.services.catalogue
    tracks = [TRACKS[id] for id in BIG_PLAYLIST["track_ids"]]
    artists = {a["id"] for t in tracks for a in t["artists"]}
    albums = {t["album"]["id"] for t in tracks}
    catalogue.calls.clear()
    with count_statements(database) as cold_sql:
        body = await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"], "first": 500}, token=token)
    assert "errors" not in body, body["errors"][:2]
    assert len(body["data"]["playlist"]["tracks"]["edges"]) == 500
    assert catalogue.calls["track"] <= math.ceil(500 / 50)
    assert catalogue.calls["artist"] <= math.ceil(len(artists) / 50)
    assert catalogue.calls["album"] <= math.ceil(len(albums) / 20)
    assert catalogue.calls["playlist_tracks"] == 500 // 100
    # Offline, each catalogue call is one SQL statement, and nothing else runs per item.
    assert cold_sql.count == sum(catalogue.calls.values())

    catalogue.calls.clear()
    with count_statements(database) as warm_sql:
        again = await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"], "first": 500}, token=token)
    assert again == body
    assert catalogue.calls["track"] == catalogue.calls["artist"] == catalogue.calls["album"] == 0
    assert warm_sql.count == catalogue.calls["playlist"] + catalogue.calls["playlist_tracks"]


@pytest.mark.budget
async def test_sql_statements_do_not_grow_with_the_list(spotify, database):
    runtime, client, token = spotify
    counts = []
    for first in (50, 100):
        await runtime.redis.flushall()
        with count_statements(database) as sql:
            await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"], "first": first}, token=token)
        counts.append(sql.count)
    # 50 -> 100 tracks: one more page of items and at most a few more object batches.
    assert counts[1] - counts[0] <= 1 + 1 + 2 + 3


ME = """{ me { id } }"""
LIBRARY = """query($id: ID!) { _entities(representations: [{__typename: "User", id: $id}]) { ... on User {
  spotifyProfile { id isSample }
  playlists(first: 2) { edges { node { name } } pageInfo { hasNextPage } }
  topTracks(first: 3) { name artists { name } }
  recentlyPlayed(first: 2) { playedAt track { name } } } } }"""


async def test_a_user_without_a_linked_account_has_no_spotify_data(spotify, accounts):
    _, client, token = spotify
    _, accounts_client = accounts
    user_id = (await gql(accounts_client, ME, token=token))["data"]["me"]["id"]
    body = await gql(client, LIBRARY, {"id": user_id}, token=token)
    assert "errors" not in body, body
    assert body["data"]["_entities"][0] == {
        "spotifyProfile": None,
        "playlists": None,
        "topTracks": None,
        "recentlyPlayed": None,
    }


async def test_linked_sample_account_library_is_the_users_only(spotify, accounts):
    _, client, token = spotify
    _, accounts_client = accounts
    user_id = (await gql(accounts_client, ME, token=token))["data"]["me"]["id"]
    state = (await gql(accounts_client, "{ spotifyAuthorizeUrl { state } }", token=token))["data"][
        "spotifyAuthorizeUrl"
    ]["state"]
    linked = await gql(
        accounts_client,
        'mutation($s: String!) { linkSpotifyAccount(input: {code: "offline", state: $s}) { account { spotifyUserId } } }',
        {"s": state},
        token=token,
    )
    assert "errors" not in linked, linked
    body = await gql(client, LIBRARY, {"id": user_id}, token=token)
    assert "errors" not in body, body
    mine = body["data"]["_entities"][0]
    assert mine["spotifyProfile"]["isSample"] is True
    assert len(mine["playlists"]["edges"]) == 2 and mine["playlists"]["pageInfo"]["hasNextPage"] is True
    assert len(mine["topTracks"]) == 3 and len(mine["recentlyPlayed"]) == 2
    # Someone else asking for this user's library: null with FORBIDDEN, field by field.
    other = await sign_up(accounts_client)
    theirs = await gql(client, LIBRARY, {"id": user_id}, token=other["token"])
    assert theirs["data"]["_entities"][0] == {
        "spotifyProfile": None,
        "playlists": None,
        "topTracks": None,
        "recentlyPlayed": None,
    }
    assert set(codes(theirs)) == {"FORBIDDEN"}


@pytest.mark.budget
async def test_entities_resolve_in_order_one_batch_per_type(spotify):
    runtime, client, token = spotify
    catalogue = runtime.services.catalogue
    tracks = [t["id"] for t in SAMPLE["tracks"][:120]]
    artist = SAMPLE["artists"][3]["id"]
    representations = [{"__typename": "Track", "id": id} for id in tracks[:60]]
    representations += [
        {"__typename": "Artist", "id": artist},
        {"__typename": "Track", "id": "0000000000000000000000"},
    ]
    representations += [{"__typename": "Track", "id": id} for id in tracks[60:]]
    catalogue.calls.clear()
    body = await gql(
        client,
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Track { id } ... on Artist { id } } }",
        {"r": representations},
        token=token,
    )
    assert "errors" not in body, body
    got = [entity["id"] if entity else None for entity in body["data"]["_entities"]]
    assert got == [*tracks[:60], artist, None, *tracks[60:]]
    assert catalogue.calls["track"] == math.ceil(121 / 50) and catalogue.calls["artist"] == 1
