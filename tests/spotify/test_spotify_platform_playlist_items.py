"""`platformPlaylistItems`: every tenant's platform playlists in keyset pages, each with the
current values of the fields its `spotify.playlist.created` / `details_changed` events carry,
for platform service tokens only (not users, not a service acting for one tenant), one SQL
statement a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from jose import jwt

from shared.auth.service_tokens import ServiceTokens
from subgraphs.spotify.catalogue.offline import load_sample
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together

ITEMS = """query($first: Int, $after: String) {
  platformPlaylistItems(first: $first, after: $after) {
    items totalCount pageInfo { hasNextPage endCursor } } }"""
CATALOGUE_ITEMS = """query($first: Int) {
  catalogueItems(kind: PLAYLIST, first: $first) { items totalCount pageInfo { hasNextPage endCursor } } }"""
FIELDS = "id name description public snapshotId"
CREATE = f"mutation($i: CreatePlaylistInput!) {{ createPlaylist(input: $i) {{ playlist {{ {FIELDS} }} }} }}"
CHANGE = (
    "mutation($i: ChangePlaylistDetailsInput!) "
    f"{{ changePlaylistDetails(input: $i) {{ playlist {{ {FIELDS} }} }} }}"
)
ADD = f"mutation($i: AddTracksToPlaylistInput!) {{ addTracksToPlaylist(input: $i) {{ playlist {{ {FIELDS} }} }} }}"
TRACK = load_sample()["tracks"][0]["id"]


@dataclass
class Spotify:
    host: HostedPlatform
    tokens: ServiceTokens

    def service_token(self, service: str = "search", scopes: tuple[str, ...] = ("spotify:read",)) -> str:
        return self.tokens.for_platform(service, scopes)

    async def page(self, token: str | None, **variables: Any) -> dict[str, Any]:
        return await gql(self.host.client, ITEMS, variables, token=token, path="/spotify/graphql")

    async def mutate(self, token: str, query: str, input: dict[str, Any]) -> dict[str, Any]:
        body = await gql(self.host.client, query, {"i": input}, token=token, path="/spotify/graphql")
        assert "errors" not in body, body["errors"]
        playlist: dict[str, Any] = next(iter(body["data"].values()))["playlist"]
        return playlist


@dataclass
class Member:
    token: str
    tenant_id: str
    user_id: str


@pytest.fixture
async def spotify(settings, redis_server) -> AsyncIterator[Spotify]:
    async with hosted_together(["accounts", "spotify"], settings, redis_server.url) as host:
        ring = host.runtimes["accounts"].key_ring
        yield Spotify(host, ServiceTokens(ring, settings.jwt_issuer, settings.jwt_audience))


async def _member(spotify: Spotify, tenant_name: str) -> Member:
    account = await sign_up(spotify.host.client, tenant_name=tenant_name, path="/accounts/graphql")
    tenant_id = jwt.get_unverified_claims(account["token"])["tid"]
    return Member(account["token"], tenant_id, account["user"]["id"])


def _item(member: Member, playlist: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "tenant_id": member.tenant_id,
        "playlist_id": playlist["id"],
        "owner_id": member.user_id,
        "name": playlist["name"],
        "description": playlist["description"],
        "public": playlist["public"],
        "version": version,
    }


async def _two_tenants_playlists(spotify: Spotify) -> tuple[Member, Member, dict[str, dict[str, Any]]]:
    """Five playlists of two tenants, three of them changed after they were made; the
    items expected for them, by playlist id."""
    night, day = await _member(spotify, "Night Owl Records"), await _member(spotify, "Day Lark Music")
    expected: dict[str, dict[str, Any]] = {}

    made = await spotify.mutate(night.token, CREATE, {"name": "Release plan", "public": True})
    private = await spotify.mutate(night.token, CHANGE, {"playlistId": made["id"], "public": False})
    assert private["public"] is False
    expected[made["id"]] = _item(night, private, version=2)

    made = await spotify.mutate(night.token, CREATE, {"name": "Tour", "description": "Warm-up sets"})
    expected[made["id"]] = _item(night, made, version=1)

    made = await spotify.mutate(day.token, CREATE, {"name": "Demos", "description": "Rough cuts"})
    renamed = await spotify.mutate(
        day.token, CHANGE, {"playlistId": made["id"], "name": "Finals", "description": ""}
    )
    assert (renamed["name"], renamed["description"]) == ("Finals", None)
    expected[made["id"]] = _item(day, renamed, version=2)

    made = await spotify.mutate(day.token, CREATE, {"name": "Radio", "public": True})
    renamed = await spotify.mutate(day.token, CHANGE, {"playlistId": made["id"], "name": "Radio edits"})
    added = await spotify.mutate(day.token, ADD, {"playlistId": made["id"], "trackIds": [TRACK]})
    expected[made["id"]] = _item(day, added, version=3)  # a track change bumps the version too
    assert added["name"] == renamed["name"] == "Radio edits" and added["public"] is True

    made = await spotify.mutate(day.token, CREATE, {"name": "Ideas"})
    expected[made["id"]] = _item(day, made, version=1)
    return night, day, expected


async def _everything(spotify: Spotify, token: str, first: int) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        body = await spotify.page(token, first=first, after=after)
        assert "errors" not in body, body["errors"]
        page = body["data"]["platformPlaylistItems"]
        assert page["totalCount"] == 5
        assert len(page["items"]) <= first
        items += page["items"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return items, pages
        after = page["pageInfo"]["endCursor"]


async def test_a_platform_service_pages_every_tenants_playlists_once_as_they_are_now(spotify):
    night, day, expected = await _two_tenants_playlists(spotify)
    items, pages = await _everything(spotify, spotify.service_token(), first=2)
    assert pages == 3
    ids = [item["playlist_id"] for item in items]
    assert len(set(ids)) == len(ids) == 5
    assert ids == sorted(ids)  # keyset by playlist id, across tenants
    assert {item["playlist_id"]: item for item in items} == expected
    assert {item["tenant_id"] for item in items} == {night.tenant_id, day.tenant_id}
    keys = {"tenant_id", "playlist_id", "owner_id", "name", "description", "public", "version"}
    assert all(set(item) == keys for item in items)


@pytest.mark.budget
async def test_one_sql_statement_a_page(spotify):
    await _two_tenants_playlists(spotify)
    token = spotify.service_token()
    runtime = spotify.host.runtimes["spotify"]
    await spotify.page(token, first=1)  # the platform audit chain's first record
    # A page of the catalogue costs one read and the audit record: so does a page of these.
    with count_statements(runtime.db) as catalogue:
        body = await gql(
            spotify.host.client, CATALOGUE_ITEMS, {"first": 2}, token=token, path="/spotify/graphql"
        )
    assert "errors" not in body, body["errors"]
    after = None
    for _ in range(3):
        with count_statements(runtime.db) as sql:
            body = await spotify.page(token, first=2, after=after)
        assert "errors" not in body, body["errors"]
        page = body["data"]["platformPlaylistItems"]
        # One statement reads the page and the total; every service operation also appends
        # its audit record (a fixed cost, not a per-item one).
        reads = [statement for statement in sql.statements if "audit_" not in statement]
        assert len(reads) == 1 and "spotify_editable_playlist" in reads[0], sql.statements
        assert sql.count == catalogue.count, (sql.statements, catalogue.statements)
        after = page["pageInfo"]["endCursor"]
    assert page["pageInfo"]["hasNextPage"] is False and len(page["items"]) == 1


async def test_only_a_platform_service_token_may_list_them(spotify):
    night, _, _ = await _two_tenants_playlists(spotify)
    user = await spotify.page(night.token)
    assert codes(user) == ["FORBIDDEN"] and user["data"] is None
    assert codes(await spotify.page(None)) == ["UNAUTHENTICATED"]
    # A service acting for one tenant must not list the other tenants' playlists.
    tenant_token = spotify.tokens.for_tenant("search", ("spotify:read",), night.tenant_id)
    acting = await spotify.page(tenant_token)
    assert codes(acting) == ["FORBIDDEN"] and acting["data"] is None
    assert codes(await spotify.page(spotify.service_token("analytics"))) == ["FORBIDDEN"]
    wrong_scope = spotify.service_token("search", ("collaboration:read",))
    assert codes(await spotify.page(wrong_scope)) == ["FORBIDDEN"]


async def test_bad_page_sizes_and_cursors_are_bad_input(spotify):
    await _two_tenants_playlists(spotify)
    token = spotify.service_token()
    assert codes(await spotify.page(token, first=0)) == ["BAD_USER_INPUT"]
    assert codes(await spotify.page(token, first=1001)) == ["BAD_USER_INPUT"]
    assert codes(await spotify.page(token, after="not-a-cursor!")) == ["BAD_USER_INPUT"]
    whole = (await spotify.page(token, first=1000))["data"]["platformPlaylistItems"]
    assert len(whole["items"]) == 5 and whole["pageInfo"]["hasNextPage"] is False
    beyond = await spotify.page(token, after=whole["pageInfo"]["endCursor"])
    assert beyond["data"]["platformPlaylistItems"] == {
        "items": [],
        "totalCount": 5,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
