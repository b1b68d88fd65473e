"""Cover art and press kits: storage asset ids kept per tenant, read back as `Asset`
references in one statement per batch; bad input changes nothing."""

from __future__ import annotations

import pytest

from subgraphs.spotify.catalogue.offline import load_sample
from tests.spotify.test_spotify_playlists import CREATE, spotify  # noqa: F401  (fixture)
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up

SAMPLE = load_sample()
ARTISTS = [artist["id"] for artist in SAMPLE["artists"][:3]]
CATALOGUE_PLAYLIST = SAMPLE["playlists"][0]["id"]
COVER = "mutation($i: SetPlaylistCoverArtInput!) { setPlaylistCoverArt(input: $i) { playlist { id coverArt { id } } } }"
PRESS_KIT = (
    "mutation($i: SetArtistPressKitInput!) { setArtistPressKit(input: $i) { artist { id pressKit { id } } } }"
)
ARTISTS_QUERY = "query($ids: [ID!]!) { artists(ids: $ids) { id pressKit { id } } }"
A1, A2, A3 = (f"ast_{n:012x}{'0' * 16}" for n in (1, 2, 3))


async def test_cover_art_for_platform_and_catalogue_playlists(spotify):  # noqa: F811
    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    made = (await gql(client, CREATE, {"i": {"name": "Draft"}}, token=token))["data"]["createPlaylist"][
        "playlist"
    ]
    for playlist_id in (made["id"], CATALOGUE_PLAYLIST):
        body = await gql(client, COVER, {"i": {"playlistId": playlist_id, "assetId": A1}}, token=token)
        assert body["data"]["setPlaylistCoverArt"]["playlist"]["coverArt"] == {"id": A1}, body
    changed = await gql(client, COVER, {"i": {"playlistId": made["id"], "assetId": A2}}, token=token)
    assert changed["data"]["setPlaylistCoverArt"]["playlist"]["coverArt"] == {"id": A2}
    cleared = await gql(client, COVER, {"i": {"playlistId": made["id"], "assetId": None}}, token=token)
    assert cleared["data"]["setPlaylistCoverArt"]["playlist"]["coverArt"] is None

    other = (await sign_up(accounts_client, tenant_name="Other Label"))["token"]
    seen = await gql(
        client,
        "query($id: ID!) { playlist(id: $id) { coverArt { id } } }",
        {"id": CATALOGUE_PLAYLIST},
        token=other,
    )
    assert seen["data"]["playlist"]["coverArt"] is None  # a choice belongs to the tenant that made it
    hidden = await gql(client, COVER, {"i": {"playlistId": made["id"], "assetId": A1}}, token=other)
    assert codes(hidden) == ["NOT_FOUND"]


async def test_press_kits_batch_and_refuse_bad_input(spotify, database):  # noqa: F811
    client, accounts_client = spotify
    token = (await sign_up(accounts_client))["token"]
    for artist, assets in zip(ARTISTS, ([A1, A2], [A3], []), strict=True):
        body = await gql(client, PRESS_KIT, {"i": {"artistId": artist, "assetIds": assets}}, token=token)
        assert [a["id"] for a in body["data"]["setArtistPressKit"]["artist"]["pressKit"]] == assets
    with count_statements(database) as counter:
        body = await gql(client, ARTISTS_QUERY, {"ids": ARTISTS}, token=token)
    assert [[a["id"] for a in artist["pressKit"]] for artist in body["data"]["artists"]] == [
        [A1, A2],
        [A3],
        [],
    ]
    assert counter.count == 1  # three artists' press kits: one statement

    bad = [
        ({"artistId": ARTISTS[0], "assetIds": ["../etc"]}, "BAD_USER_INPUT"),
        ({"artistId": ARTISTS[0], "assetIds": [A1, A1]}, "BAD_USER_INPUT"),
        (
            {"artistId": ARTISTS[0], "assetIds": [f"ast_{n:012x}{'0' * 16}" for n in range(21)]},
            "BAD_USER_INPUT",
        ),
        ({"artistId": "0000000000000000000000", "assetIds": [A1]}, "NOT_FOUND"),
    ]
    for variables, code in bad:
        assert codes(await gql(client, PRESS_KIT, {"i": variables}, token=token)) == [code], variables
    unchanged = await gql(client, ARTISTS_QUERY, {"ids": ARTISTS[:1]}, token=token)
    assert [a["id"] for a in unchanged["data"]["artists"][0]["pressKit"]] == [A1, A2]


@pytest.mark.parametrize("role", ["VIEWER"])
async def test_viewers_cannot_choose_artwork(spotify, role):  # noqa: F811
    client, accounts_client = spotify
    owner = await sign_up(accounts_client)
    invite = await gql(
        accounts_client,
        "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }",
        {"input": {"role": role}},
        token=owner["token"],
    )
    viewer = await sign_up(accounts_client, invitation_code=invite["data"]["createInvitation"]["code"])
    body = await gql(
        client, COVER, {"i": {"playlistId": CATALOGUE_PLAYLIST, "assetId": A1}}, token=viewer["token"]
    )
    assert codes(body) == ["FORBIDDEN"]
