"""SEMANTIC and HYBRID search through GraphQL over the indexed catalogue (MiniLM embeddings,
loaded once per test session): hits found by meaning say so, pages stay put, query vectors are
cached in Redis, and an unchanged text is never embedded twice."""

from __future__ import annotations

import json

import numpy as np
import pytest
from redis.asyncio import Redis

from shared.embeddings import SentenceEncoder, cached_embeddings, sentence_encoder
from tests.search.conftest import hosted_search
from tests.support.domain_events import domain_stream
from tests.support.graphql import codes, gql, sign_up

SEARCH = """query($q: String!, $mode: SearchMode!, $first: Int! = 10, $after: String, $ratio: Float,
  $fusion: SearchFusion, $facets: [SearchFacet!]) {
  search(query: $q, mode: $mode, first: $first, after: $after, semanticRatio: $ratio, fusion: $fusion,
         facets: $facets) {
    totalCount totalCountExact semanticHitCount keywordFallback
    pageInfo { hasNextPage endCursor }
    facets { facet values { value count } }
    edges { node { score matchedBy node { __typename ... on Track { id } ... on Artist { id }
      ... on Album { id } ... on Playlist { id } } } } } }"""


@pytest.fixture
async def semantic(settings, redis_server, catalogue):
    async with hosted_search(settings, redis_server.url, catalogue, semantic=True) as (client, _):
        user = await sign_up(client, path="/accounts/graphql")
        assert sentence_encoder().wait_until_ready(120)
        yield client, user["token"]


async def _search(client, token, query, mode, **variables):
    body = await gql(
        client, SEARCH, {"q": query, "mode": mode, **variables}, token=token, path="/search/graphql"
    )
    return body


def _ids(results) -> list[str]:
    return [edge["node"]["node"]["id"] for edge in results["edges"]]


async def test_meaning_finds_what_no_word_matches_and_says_how(semantic, redis_server):
    client, token = semantic
    keyword = (await _search(client, token, "melancholy rainy night", "KEYWORD"))["data"]["search"]
    body = await _search(client, token, "melancholy rainy night", "HYBRID", facets=["TYPE"])
    assert "errors" not in body and "search" not in body.get("extensions", {}), body
    hybrid = body["data"]["search"]
    assert hybrid["keywordFallback"] is False
    assert (
        hybrid["semanticHitCount"] == sum("SEMANTIC" in e["node"]["matchedBy"] for e in hybrid["edges"]) > 0
    )
    assert hybrid["totalCount"] > keyword["totalCount"]
    counted = sum(value["count"] for value in hybrid["facets"][0]["values"])
    # Past the 1,000 nearest candidates the total is an estimate, and says so.
    assert counted == hybrid["totalCount"] if hybrid["totalCountExact"] else counted < hybrid["totalCount"]

    only_meaning = (await _search(client, token, "brazilian lounge", "SEMANTIC"))["data"]["search"]
    assert only_meaning["totalCount"] > 0 and only_meaning["semanticHitCount"] == len(only_meaning["edges"])
    assert all(edge["node"]["matchedBy"] == ["SEMANTIC"] for edge in only_meaning["edges"])
    scores = [edge["node"]["score"] for edge in only_meaning["edges"]]
    assert scores == sorted(scores, reverse=True) and 0.33 <= scores[-1] <= scores[0] <= 1.0

    cache = Redis.from_url(redis_server.url)
    try:
        assert await cache.keys("search:query-vector:*")  # every serving process reuses them
    finally:
        await cache.aclose()


async def test_hybrid_pages_follow_each_other_and_fusions_are_checked(semantic):
    client, token = semantic
    whole = (await _search(client, token, "late night city drive", "HYBRID", first=12))["data"]["search"]
    seen, after = [], None
    for _ in range(3):
        page = await _search(client, token, "late night city drive", "HYBRID", first=4, after=after)
        seen += _ids(page["data"]["search"])
        after = page["data"]["search"]["pageInfo"]["endCursor"]
    assert seen == _ids(whole)

    ranked = (await _search(client, token, "late night city drive", "HYBRID", fusion="RANK"))["data"][
        "search"
    ]
    assert ranked["semanticHitCount"] > 0 and _ids(ranked)
    wordy = _ids(
        (await _search(client, token, "late night city drive", "HYBRID", ratio=0.0))["data"]["search"]
    )
    by_words = _ids((await _search(client, token, "late night city drive", "KEYWORD"))["data"]["search"])
    assert by_words and wordy[: len(by_words)] == by_words  # a ratio of 0 ranks by words first
    assert codes(await _search(client, token, "drive", "HYBRID", fusion="RANK", ratio=0.3)) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await _search(client, token, "drive", "HYBRID", ratio=1.5)) == ["BAD_USER_INPUT"]


class CountingEncoder(SentenceEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def load(self) -> None:
        pass

    def encode(self, texts, batch_size: int = 64):
        self.encoded += list(texts)
        return np.stack([np.full(384, 1 / np.sqrt(384), dtype=np.float32) for _ in texts])


async def test_an_unchanged_text_is_never_embedded_twice(database):
    encoder = CountingEncoder()
    first = await cached_embeddings(database, encoder, ["Velvet Harbors. by Ada Costa", "Neon Tides"])
    again = await cached_embeddings(
        database, encoder, ["Neon Tides", "Velvet Harbors. by Ada Costa", "New one"]
    )
    assert encoder.encoded == ["Velvet Harbors. by Ada Costa", "Neon Tides", "New one"]
    assert np.array_equal(first[1], again[0]) and again.shape == (3, 384)


async def test_query_vectors_are_sampled_anonymously_for_drift_checks(settings, redis_server, catalogue):
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.delete("events:search")
    try:
        async with hosted_search(settings, redis_server.url, catalogue, semantic=True, sample_rate=1.0) as (
            client,
            _,
        ):
            user = await sign_up(client, path="/accounts/graphql")
            assert sentence_encoder().wait_until_ready(120)
            await _search(client, user["token"], "quiet piano for rainy mornings", "SEMANTIC")
            await _search(client, user["token"], "quiet piano", "KEYWORD")  # no vector, no sample
        sampled = [e for e in await domain_stream(redis, "search") if e.type == "search.query.sampled"]
        assert len(sampled) == 1
        payload = sampled[0].payload
        assert set(payload) == {"model_version", "vector"} and len(payload["vector"]) == 384
        assert "quiet" not in json.dumps(payload)  # no words, no user
        assert sampled[0].actor_id is None
        expected = sentence_encoder().encode(["quiet piano for rainy mornings"])[0]
        assert float(np.dot(np.asarray(payload["vector"]), expected)) > 0.999
    finally:
        await redis.aclose()
