"""search through GraphQL, with the offline catalogue projected from its events and indexed by
the indexer: hits are entity references, pages stay put, bad input is typed, and projects and
private playlists are found only by whom may read them."""

from __future__ import annotations

import pytest
from jose import jwt

from subgraphs.search.tasks import index_pending, project_membership, project_playlist, project_project
from subgraphs.spotify.catalogue.offline import load_sample
from tests.search.conftest import hosted_search
from tests.support.domain_events import apply, event
from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

SEARCH = """query($q: String!, $first: Int! = 5, $after: String, $f: SearchFilter, $facets: [SearchFacet!],
  $types: [SearchType!]) {
  search(query: $q, first: $first, after: $after, filters: $f, facets: $facets, types: $types) {
    totalCount totalCountExact semanticHitCount keywordFallback
    pageInfo { hasNextPage endCursor }
    facets { facet values { value count } }
    edges { cursor node { score matchedBy highlights { field snippet }
      node { __typename ... on Track { id } ... on Artist { id } ... on Album { id }
             ... on Playlist { id } ... on Project { id } } } } } }"""


@pytest.fixture
async def platform(settings, redis_server, database, catalogue):
    async with hosted_search(settings, redis_server.url, catalogue, semantic=False) as (client, writer):
        yield client, database, writer, load_sample()


async def _search(client, token, query, **variables):
    return await gql(client, SEARCH, {"q": query, **variables}, token=token, path="/search/graphql")


async def test_the_catalogue_is_found_by_words_with_typos_and_references(platform):
    client, _, _, sample = platform
    user = await sign_up(client, path="/accounts/graphql")
    track = max(sample["tracks"], key=lambda t: len(t["name"]))
    misspelt = track["name"][:-1] if len(track["name"].split()[-1]) > 1 else track["name"]
    body = await _search(client, user["token"], misspelt, types=["TRACK"], facets=["GENRE", "TYPE"])
    assert "errors" not in body, body
    results = body["data"]["search"]
    ids = [edge["node"]["node"]["id"] for edge in results["edges"]]
    assert track["id"] in ids
    first = results["edges"][0]["node"]
    assert first["matchedBy"] == ["KEYWORD"] and first["node"]["__typename"] == "Track"
    assert any("<em>" in h["snippet"] for h in first["highlights"])
    assert results["totalCountExact"] is True and results["semanticHitCount"] == 0
    assert results["keywordFallback"] is True  # HYBRID asked, no model loaded: by keyword
    assert body["extensions"]["search"] == {
        "keywordFallback": True,
        "reason": "semantic search is switched off",
    }
    types = {f["facet"]: f["values"] for f in results["facets"]}["TYPE"]
    assert types == [{"value": "track", "count": results["totalCount"]}]


async def test_pages_follow_each_other_without_gaps_or_repeats(platform):
    client, _, _, _ = platform
    user = await sign_up(client, path="/accounts/graphql")
    everything = await _search(client, user["token"], "the", first=50)
    total = everything["data"]["search"]["totalCount"]
    assert total > 12
    expected = [edge["node"]["node"]["id"] for edge in everything["data"]["search"]["edges"]][:12]
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = (await _search(client, user["token"], "the", first=4, after=after))["data"]["search"]
        seen += [edge["node"]["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        assert page["pageInfo"]["hasNextPage"] is True
    assert seen == expected


async def test_bad_input_is_typed_and_leaks_nothing(platform):
    client, _, _, _ = platform
    user = await sign_up(client, path="/accounts/graphql")
    token = user["token"]
    empty = await _search(client, token, "   ")
    assert empty["data"]["search"]["totalCount"] == 0 and empty["data"]["search"]["edges"] == []
    assert codes(await _search(client, token, "x" * 10_000)) == ["BAD_USER_INPUT"]
    assert codes(await _search(client, token, "velvet", first=500)) == ["BAD_USER_INPUT"]
    assert codes(await _search(client, token, "velvet", after="bogus!")) == ["BAD_USER_INPUT"]
    other = (await _search(client, token, "neon", first=1))["data"]["search"]["pageInfo"]["endCursor"]
    assert codes(await _search(client, token, "velvet", after=other)) == ["BAD_USER_INPUT"]
    assert codes(await _search(client, token, "velvet", facets=["MOOD"])) == ["BAD_USER_INPUT"]
    inverted = {"yearFrom": 2020, "yearTo": 2010}
    assert codes(await _search(client, token, "velvet", f=inverted)) == ["BAD_USER_INPUT"]
    foreign = await _search(client, token, "velvet", f={"workspaceIds": ["wsp_not_mine"]})
    assert codes(foreign) == ["FORBIDDEN"]
    assert codes(await _search(client, None, "velvet")) == ["UNAUTHENTICATED"]


async def test_projects_are_found_by_members_only_and_vanish_when_removed_or_deleted(platform):
    client, database, writer, _ = platform
    owner = await sign_up(client, path="/accounts/graphql")
    tenant_id, user_id = jwt.get_unverified_claims(owner["token"])["tid"], owner["user"]["id"]
    workspace = {"workspace_id": "wsp_search_1", "user_id": user_id, "role": "owner"}
    project = {
        "workspace_id": "wsp_search_1",
        "project_id": "prj_search_1",
        "version": 1,
        "type": "release_plan",
        "title": "Quokka launch plan",
        "content": {"notes": ["radio push in spring"]},
    }
    await apply(database, project_membership, event("collaboration.member.added", workspace, tenant_id))
    await apply(database, project_project, event("collaboration.project.created", project, tenant_id))
    while await index_pending(database, writer, 100):
        pass

    async def found(query: str) -> list[str]:
        body = await _search(client, owner["token"], query, types=["PROJECT"])
        return [edge["node"]["node"]["id"] for edge in body["data"]["search"]["edges"]]

    assert await found("quokka") == ["prj_search_1"]
    assert await found("radio push") == ["prj_search_1"]  # its content is searchable too
    stranger = await sign_up(client, path="/accounts/graphql")
    body = await _search(client, stranger["token"], "quokka", facets=["WORKSPACE"])
    assert body["data"]["search"]["totalCount"] == 0 and body["data"]["search"]["facets"][0]["values"] == []

    await apply(database, project_membership, event("collaboration.member.removed", workspace, tenant_id, 2))
    assert await found("quokka") == []  # at once: memberships are read per request
    await apply(database, project_membership, event("collaboration.member.added", workspace, tenant_id, 3))
    deleted = {**project, "version": 2}
    await apply(database, project_project, event("collaboration.project.deleted", deleted, tenant_id, 4))
    stale = {**project, "version": 1, "title": "Quokka stale edit"}
    await apply(database, project_project, event("collaboration.project.changed", stale, tenant_id, 5))
    while await index_pending(database, writer, 100):
        pass
    assert await found("quokka") == []


INSIGHTS = """query($days: Int) { searchInsights(days: $days, first: 5) {
  days searches zeroResultSearches popularQueries { query count } zeroResultQueries { query count } } }"""
INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }"


async def _owner_and_member(client):
    owner = await sign_up(client, path="/accounts/graphql")
    invite = await gql(
        client, INVITE, {"input": {"role": "MEMBER"}}, token=owner["token"], path="/accounts/graphql"
    )
    code = invite["data"]["createInvitation"]["code"]
    remember_secret(code)
    member = await sign_up(client, invitation_code=code, display_name="Bob", path="/accounts/graphql")
    return owner, member


async def test_a_playlist_made_private_is_found_by_its_owner_only(platform):
    client, database, writer, _ = platform
    owner, member = await _owner_and_member(client)
    tenant_id = jwt.get_unverified_claims(owner["token"])["tid"]
    playlist = {
        "playlist_id": "ppl_search_1",
        "owner_id": owner["user"]["id"],
        "name": "Wombat road trip",
        "description": "songs for the long drive",
        "public": True,
        "version": 1,
    }
    await apply(database, project_playlist, event("spotify.playlist.created", playlist, tenant_id))
    while await index_pending(database, writer, 100):
        pass

    async def found(token: str) -> list[str]:
        body = await _search(client, token, "wombat", types=["PLAYLIST"])
        return [edge["node"]["node"]["id"] for edge in body["data"]["search"]["edges"]]

    assert await found(member["token"]) == ["ppl_search_1"]  # public: the whole tenant finds it
    outsider = await sign_up(client, path="/accounts/graphql")
    assert await found(outsider["token"]) == []
    private = {**playlist, "public": False, "version": 2, "changed": ["public"]}
    await apply(database, project_playlist, event("spotify.playlist.details_changed", private, tenant_id, 2))
    while await index_pending(database, writer, 100):
        pass
    assert await found(member["token"]) == []
    assert await found(owner["token"]) == ["ppl_search_1"]


async def test_tenant_admins_see_popular_and_zero_result_queries(platform):
    client, _, _, _ = platform
    owner, member = await _owner_and_member(client)
    outsider = await sign_up(client, path="/accounts/graphql")
    for token, query in [
        (owner["token"], "Velvet"),
        (member["token"], "velvet  "),
        (member["token"], "qwxzv plorgh"),
        (outsider["token"], "neon"),
    ]:
        assert "errors" not in await _search(client, token, query)
    first_page = await _search(client, member["token"], "velvet", first=1)
    after = first_page["data"]["search"]["pageInfo"]["endCursor"]
    await _search(client, member["token"], "velvet", first=1, after=after)  # a next page: not a search

    body = await gql(client, INSIGHTS, {"days": 7}, token=owner["token"], path="/search/graphql")
    assert "errors" not in body, body
    insights = body["data"]["searchInsights"]
    assert insights["searches"] == 4 and insights["zeroResultSearches"] == 1
    assert insights["popularQueries"][0] == {"query": "velvet", "count": 3}
    assert insights["zeroResultQueries"] == [{"query": "qwxzv plorgh", "count": 1}]
    assert "neon" not in {entry["query"] for entry in insights["popularQueries"]}  # another tenant's

    refused = await gql(client, INSIGHTS, {}, token=member["token"], path="/search/graphql")
    assert codes(refused) == ["FORBIDDEN"]
    assert codes(await gql(client, INSIGHTS, {"days": 90}, token=owner["token"], path="/search/graphql")) == [
        "BAD_USER_INPUT"
    ]
