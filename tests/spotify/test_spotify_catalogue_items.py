"""`catalogueItems`: the whole offline catalogue in keyset pages, summarised exactly as the
`spotify.catalogue.upserted` events summarise it, for platform services only, one SQL
statement a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.auth.service_tokens import ServiceTokens
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import KINDS, load_sample
from subgraphs.spotify.models import CatalogueObject
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together

ITEMS = """query($kind: CatalogueKind!, $first: Int, $after: String) {
  catalogueItems(kind: $kind, first: $first, after: $after) {
    items totalCount pageInfo { hasNextPage endCursor } } }"""
SAMPLE = load_sample()
EXPECTED_COUNTS = {"artist": 300, "album": 422, "track": 2871, "playlist": 12}


@dataclass
class Spotify:
    host: HostedPlatform
    tokens: ServiceTokens

    def service_token(self, service: str = "search", scopes: tuple[str, ...] = ("spotify:read",)) -> str:
        return self.tokens.for_platform(service, scopes)

    async def page(self, token: str | None, kind: str, **variables: Any) -> dict[str, Any]:
        return await gql(
            self.host.client, ITEMS, {"kind": kind.upper(), **variables}, token=token, path="/spotify/graphql"
        )


@pytest.fixture
async def spotify(settings, redis_server) -> AsyncIterator[Spotify]:
    async with hosted_together(["accounts", "spotify"], settings, redis_server.url) as host:
        ring = host.runtimes["accounts"].key_ring
        yield Spotify(host, ServiceTokens(ring, settings.jwt_issuer, settings.jwt_audience))


async def _everything(
    spotify: Spotify, token: str, kind: str, first: int
) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        body = await spotify.page(token, kind, first=first, after=after)
        assert "errors" not in body, body["errors"]
        page = body["data"]["catalogueItems"]
        assert page["totalCount"] == EXPECTED_COUNTS[kind]
        items += page["items"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return items, pages
        after = page["pageInfo"]["endCursor"]


async def test_a_service_pages_the_whole_catalogue_in_the_events_shape(spotify):
    token = spotify.service_token()
    genres = projection.artist_genres(SAMPLE["artists"])
    for kind in KINDS:
        items, pages = await _everything(spotify, token, kind, first=500)
        assert len(items) == EXPECTED_COUNTS[kind] == len(SAMPLE[f"{kind}s"])
        assert pages == -(-EXPECTED_COUNTS[kind] // 500)
        ids = [item["id"] for item in items]
        assert len(set(ids)) == len(ids)
        expected = {obj["id"]: projection.item(kind, obj, genres) for obj in SAMPLE[f"{kind}s"]}
        assert {item["id"]: item for item in items} == expected
    # A track's genres are its artists': the listing found them in the same statement.
    tracks, _ = await _everything(spotify, token, "track", first=1000)
    assert sum(1 for item in tracks if item["genres"]) > len(tracks) // 2


@pytest.mark.budget
async def test_one_sql_statement_a_page(spotify):
    token = spotify.service_token()
    runtime = spotify.host.runtimes["spotify"]
    await spotify.page(token, "playlist", first=1)  # the platform audit chain's first record
    runtime.services.catalogue.calls.clear()
    after = None
    totals = set()
    for kind, first in (("track", 200), ("track", 200), ("album", 50), ("artist", 300), ("playlist", 5)):
        with count_statements(runtime.db) as sql:
            body = await spotify.page(token, kind, first=first, after=after if kind == "track" else None)
        assert "errors" not in body, body["errors"]
        assert len(body["data"]["catalogueItems"]["items"]) == first
        # One statement reads the page; every service operation also appends its audit
        # record (a fixed cost, not a per-item one).
        reads = [statement for statement in sql.statements if "audit_" not in statement]
        assert len(reads) == 1 and "spotify_catalog_object" in reads[0], sql.statements
        totals.add(sql.count)
        if kind == "track":
            after = body["data"]["catalogueItems"]["pageInfo"]["endCursor"]
    assert len(totals) == 1  # whatever the page's size or kind
    assert sum(runtime.services.catalogue.calls.values()) == 0  # no Web API call


async def test_pages_are_keyset_and_stay_put_while_the_catalogue_grows(spotify, database):
    token = spotify.service_token()
    first = (await spotify.page(token, "artist", first=10))["data"]["catalogueItems"]
    everything, _ = await _everything(spotify, token, "artist", first=300)
    async with database.write() as session:
        newcomer = {"id": "0000000000000000000000", "name": "Aardvark Ensemble", "genres": ["jazz"]}
        session.add(CatalogueObject(kind="artist", id=newcomer["id"], data=newcomer))
    after = first["pageInfo"]["endCursor"]
    second = (await spotify.page(token, "artist", first=10, after=after))["data"]["catalogueItems"]
    assert [item["id"] for item in first["items"] + second["items"]] == [i["id"] for i in everything[:20]]
    assert second["totalCount"] == 301
    from_the_start = (await spotify.page(token, "artist", first=1))["data"]["catalogueItems"]
    assert from_the_start["items"] == [{"id": newcomer["id"], "name": "Aardvark Ensemble",
                                        "popularity": None, "genres": ["jazz"], "followers": None}]  # fmt: skip


async def test_only_the_search_service_may_list_the_catalogue(spotify):
    user = await sign_up(spotify.host.client, path="/accounts/graphql")
    assert codes(await spotify.page(user["token"], "track")) == ["FORBIDDEN"]
    assert codes(await spotify.page(None, "track")) == ["UNAUTHENTICATED"]
    assert codes(await spotify.page(spotify.service_token("analytics"), "track")) == ["FORBIDDEN"]
    wrong_scope = spotify.service_token("search", ("collaboration:read",))
    assert codes(await spotify.page(wrong_scope, "track")) == ["FORBIDDEN"]
    # The user's other catalogue fields are untouched by the new line.
    track = SAMPLE["tracks"][0]["id"]
    body = await gql(
        spotify.host.client,
        "query($id: ID!) { track(id: $id) { id } }",
        {"id": track},
        token=user["token"],
        path="/spotify/graphql",
    )
    assert body["data"]["track"] == {"id": track}


async def test_bad_page_sizes_and_cursors_are_bad_input(spotify):
    token = spotify.service_token()
    assert codes(await spotify.page(token, "album", first=0)) == ["BAD_USER_INPUT"]
    assert codes(await spotify.page(token, "album", first=1001)) == ["BAD_USER_INPUT"]
    assert codes(await spotify.page(token, "album", after="not-a-cursor!")) == ["BAD_USER_INPUT"]
    last = await spotify.page(token, "playlist", first=12)
    page = last["data"]["catalogueItems"]
    assert page["pageInfo"]["hasNextPage"] is False
    beyond = await spotify.page(token, "playlist", after=page["pageInfo"]["endCursor"])
    assert beyond["data"]["catalogueItems"] == {
        "items": [],
        "totalCount": 12,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
