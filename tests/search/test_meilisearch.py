"""The Meilisearch backend at its HTTP boundary, against the local replay of Meilisearch's API
(a fresh replay per test): the settings and documents it sends, that it waits for every task
and surfaces a failed one with Meilisearch's code, that a wrong key fails clearly, that no
value escapes its filter, and how hybrid and semantic searches are asked and read back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.config import Settings
from subgraphs.search.backends import create_backend
from subgraphs.search.backends.base import (
    Document,
    DocumentType,
    Filters,
    Mode,
    Reader,
    SearchRequest,
    Visibility,
)
from subgraphs.search.backends.embedded import EmbeddedBackend
from subgraphs.search.backends.meilisearch import MeilisearchBackend, MeilisearchError, document_id
from subgraphs.search.config import SearchSettings
from tests.search.test_engine import COLLEAGUE, DOCS, OUTSIDER, OWNER, keys
from tests.support.meilisearch import MASTER_KEY, MeilisearchReplay

INDEX = "documents"


def unit(axis: int) -> list[float]:
    vector = [0.0] * 384
    vector[axis] = 1.0
    return vector


@pytest.fixture
def replay() -> Iterator[MeilisearchReplay]:
    server = MeilisearchReplay().start()
    yield server
    server.stop()


def backend_on(replay: MeilisearchReplay, key: str | None = MASTER_KEY, **options) -> MeilisearchBackend:
    options.setdefault("task_poll_interval", 0.005)
    return MeilisearchBackend(replay.url, key, INDEX, **options)


@pytest.fixture
async def backend(replay):
    engine = backend_on(replay)
    yield engine
    await engine.aclose()


async def test_the_index_is_created_and_its_settings_pushed_once(replay, backend):
    await backend.upsert(DOCS[:2], None)
    await backend.upsert(DOCS[2:], None)
    assert [r.body for r in replay.sent("POST", "/indexes")] == [{"uid": INDEX, "primaryKey": "id"}]
    [settings] = replay.sent("PATCH", f"/indexes/{INDEX}/settings")
    assert settings.body == {
        "searchableAttributes": ["name", "artists", "album", "genres", "description", "entity_id"],
        "filterableAttributes": [
            "type", "visibility", "tenant_id", "owner_id", "workspace_id", "artist_ids", "genres", "year",
            "explicit", "popularity", "decade", "popularity_band",
        ],
        "sortableAttributes": ["popularity", "year"],
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnAttributes": ["entity_id"],
        },
        "faceting": {"maxValuesPerFacet": 50, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": 1000},
        "embedders": {"minilm": {"source": "userProvided", "dimensions": 384}},
    }  # fmt: skip
    index = replay.indexes[INDEX]
    assert index.primary_key == "id"
    assert index.settings["typoTolerance"]["disableOnWords"] == []  # merged into the defaults
    # Another process on the same index: creating it again fails, and that is expected.
    other = backend_on(replay)
    await other.ensure_settings()
    await other.aclose()
    second_creation = [task for task in replay.tasks.values() if task.type == "indexCreation"][1]
    assert second_creation.error is not None and second_creation.error["code"] == "index_already_exists"


async def test_documents_carry_their_vectors_and_derived_facet_values(replay, backend):
    track, artist = DOCS[0], DOCS[3]
    await backend.upsert([track], [unit(0)])
    await backend.upsert([artist], None)
    first, second = replay.sent("POST", f"/indexes/{INDEX}/documents")
    assert first.query == {"primaryKey": "id"}
    assert first.body == [
        {
            "id": "track_3at1", "key": "track:t1", "type": "track", "entity_id": "t1", "name": "Velvet Harbors",
            "artists": ["Ada Costa"], "artist_ids": ["a1"], "album": "Neon Tides", "genres": ["indie pop"],
            "year": 2009, "decade": "2000", "explicit": False, "popularity": 40, "popularity_band": "25-49",
            "visibility": "public", "_vectors": {"minilm": unit(0)},
        }
    ]  # fmt: skip
    assert second.body[0]["_vectors"] == {"minilm": None}
    assert replay.indexes[INDEX].documents["track_3at1"].vectors["minilm"] == unit(0)
    await backend.delete(["track:t1"])
    assert replay.sent("POST", "/documents/delete-batch")[0].body == ["track_3at1"]
    assert "track_3at1" not in replay.indexes[INDEX].documents


def test_document_ids_are_valid_for_meilisearch_and_never_shared():
    keys = ["track:a:b", "track:a-b", "track:a_b", "playlist:été 2024", "project:p1"]
    ids = [document_id(key) for key in keys]
    assert len(set(ids)) == len(keys)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,511}", value) for value in ids)


async def test_writes_wait_until_their_task_is_done(replay, backend):
    replay.polls_before_done = 3
    await backend.upsert(DOCS, None)
    documents_task = replay.tasks[max(replay.tasks)]
    assert documents_task.type == "documentAdditionOrUpdate"
    assert documents_task.statuses_seen == ["processing", "processing", "processing", "succeeded"]
    assert await keys(backend, "satellites") == ["track:t3"]


async def test_a_write_nobody_waits_for_is_not_visible(replay, backend):
    """Why waiting matters: the replay applies a task only as it is polled."""
    await backend.upsert(DOCS[:1], None)
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    async with httpx.AsyncClient(base_url=replay.url, headers=headers) as client:
        queued = (await client.post(f"/indexes/{INDEX}/documents", json=[{"id": "track_3at9", "key": "track:t9",
                  "type": "track", "entity_id": "t9", "name": "Quiet Harbors", "visibility": "public"}])).json()  # fmt: skip
        assert queued["status"] == "enqueued"
        assert await keys(backend, "quiet") == []
        polled = [(await client.get(f"/tasks/{queued['taskUid']}")).json()["status"] for _ in range(2)]
        assert polled == ["processing", "succeeded"]
    assert await keys(backend, "quiet") == ["track:t9"]


async def test_a_task_that_does_not_finish_in_time_is_an_error(replay):
    engine = backend_on(replay, task_timeout=0.05)
    replay.polls_before_done = 10**9
    with pytest.raises(MeilisearchError) as raised:
        await engine.upsert(DOCS, None)
    await engine.aclose()
    assert raised.value.code == "task_timeout" and raised.value.task_uid == 0


async def test_a_failed_task_surfaces_with_meilisearchs_code(replay, backend):
    await backend.upsert(DOCS[:1], None)
    replay.fail_next_task()
    with pytest.raises(MeilisearchError) as raised:
        await backend.upsert(DOCS[1:], None)
    failed = replay.tasks[max(replay.tasks)]
    assert raised.value.code == "no_space_left_on_device" and raised.value.task_uid == failed.uid
    assert "no more space left on the device" in str(raised.value)
    # Meilisearch's own check of the embeddings' size fails the task too.
    with pytest.raises(MeilisearchError) as wrong_size:
        await backend.upsert(DOCS[:1], [[0.1, 0.2, 0.3]])
    assert wrong_size.value.code == "invalid_vector_dimensions"


async def test_a_wrong_or_missing_key_fails_clearly(replay):
    wrong = backend_on(replay, key="not-the-key")
    with pytest.raises(MeilisearchError) as refused:
        await wrong.upsert(DOCS, None)
    assert (refused.value.status, refused.value.code) == (403, "invalid_api_key")
    assert "The provided API key is invalid" in str(refused.value)
    with pytest.raises(MeilisearchError) as refused_search:
        await wrong.search(SearchRequest("velvet", OUTSIDER))
    assert refused_search.value.code == "invalid_api_key"
    await wrong.aclose()
    missing = backend_on(replay, key=None)
    with pytest.raises(MeilisearchError) as unauthorized:
        await missing.upsert(DOCS, None)
    assert (unauthorized.value.status, unauthorized.value.code) == (401, "missing_authorization_header")
    await missing.aclose()


async def test_filter_values_cannot_break_out_of_the_filter(replay, backend):
    quoted_genre = 'rock "n" roll \\ live'
    odd = Document(DocumentType.TRACK, 't"9', "Velvet Oddity", Visibility.PUBLIC, genres=(quoted_genre,),
                   artist_ids=('a"1\\',))  # fmt: skip
    await backend.upsert([*DOCS, odd], None)
    seen_by_colleague = set(await keys(backend, "velvet", COLLEAGUE))
    # Ids that try to close the quoted value and add their own clause find nothing more.
    sneaky_owner = Reader('u2" OR visibility = "owner', "T1", ())
    assert set(await keys(backend, "velvet", sneaky_owner)) == seen_by_colleague
    sneaky_tenant = Reader("u9", 'T2" OR tenant_id = "T1', ('W1" OR visibility = "workspace',))
    assert set(await keys(backend, "velvet", sneaky_tenant)) == {"track:t1", "track:t3", 'track:t"9'}
    assert set(await keys(backend, "velvet", Reader("u9", "T1\\", ()))) == {
        "track:t1",
        "track:t3",
        'track:t"9',
    }
    # ...and values holding quotes and backslashes still match themselves exactly.
    assert await keys(backend, "velvet", filters=Filters(genres=(quoted_genre,))) == ['track:t"9']
    assert await keys(backend, "velvet", filters=Filters(artist_ids=('a"1\\',))) == ['track:t"9']
    sent = replay.sent("POST", "/search")[-1].body["filter"]
    assert 'artist_ids IN ["a\\"1\\\\"]' in sent


async def test_hybrid_search_sends_the_query_vector_and_reads_back_semantic_hits(replay, backend):
    vectors = [
        unit(0),
        unit(0),
        *(unit(axis) for axis in range(2, len(DOCS))),
    ]  # t1 and t2 point the same way
    await backend.upsert(DOCS, vectors)
    page = await backend.search(SearchRequest("velvet", OUTSIDER, mode=Mode.HYBRID, vector=unit(0), limit=3))
    body = replay.sent("POST", "/search")[-1].body
    assert body["hybrid"] == {"semanticRatio": 0.5, "embedder": "minilm"} and body["vector"] == unit(0)
    assert body["showRankingScoreDetails"] is True and body["rankingScoreThreshold"] is None
    assert [(hit.key, hit.matched_by) for hit in page.hits] == [
        ("track:t1", (Mode.KEYWORD, Mode.SEMANTIC)),  # the semantic side's, and it holds "velvet"
        ("track:t2", (Mode.SEMANTIC,)),  # no "velvet" in it: found by meaning alone
        ("track:t3", (Mode.KEYWORD,)),
    ]
    assert page.semantic_hits == 2 and not page.keyword_only
    assert page.total == 4  # every document the reader may see is ranked by Meilisearch's semantic side
    await backend.search(
        SearchRequest("velvet", OUTSIDER, mode=Mode.HYBRID, vector=unit(0), semantic_ratio=0.2)
    )
    assert replay.sent("POST", "/search")[-1].body["hybrid"] == {"semanticRatio": 0.2, "embedder": "minilm"}


async def test_semantic_search_keeps_only_similar_documents(replay, backend):
    vectors = [unit(0), unit(0), *(unit(axis) for axis in range(2, len(DOCS)))]
    await backend.upsert(DOCS, vectors)
    page = await backend.search(SearchRequest("velvet", OUTSIDER, mode=Mode.SEMANTIC, vector=unit(0)))
    body = replay.sent("POST", "/search")[-1].body
    assert body["hybrid"] == {"semanticRatio": 1.0, "embedder": "minilm"}
    assert body["rankingScoreThreshold"] == pytest.approx((1 + 0.33) / 2)
    assert [(hit.key, hit.matched_by, hit.score) for hit in page.hits] == [
        ("track:t1", (Mode.SEMANTIC,), 1.0),
        ("track:t2", (Mode.SEMANTIC,), 1.0),
    ]
    assert (page.total, page.semantic_hits) == (2, 2)


async def test_without_a_query_vector_semantic_modes_answer_by_keyword(replay, backend):
    await backend.upsert(DOCS, None)
    page = await backend.search(SearchRequest("velvet", OUTSIDER, mode=Mode.HYBRID))
    body = replay.sent("POST", "/search")[-1].body
    assert "hybrid" not in body and "vector" not in body
    assert page.keyword_only and page.semantic_hits == 0
    assert {hit.key for hit in page.hits} == {"track:t1", "track:t3"}


async def test_highlights_mark_whole_words_where_meilisearch_marks_the_typed_prefix(replay, backend):
    await backend.upsert(DOCS, None)
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    async with httpx.AsyncClient(base_url=replay.url, headers=headers) as client:
        raw = await client.post(
            f"/indexes/{INDEX}/search", json={"q": "velvt harb", "attributesToHighlight": ["name"]}
        )
    assert raw.json()["hits"][0]["_formatted"]["name"] == "<em>Velvet</em> <em>Harb</em>ors"
    page = await backend.search(SearchRequest("velvt harb", OUTSIDER))
    assert page.hits[0].highlights == {"name": "<em>Velvet</em> <em>Harbors</em>"}


async def test_pages_are_asked_by_page_number_and_totals_are_exact(replay, backend):
    await backend.upsert(DOCS, None)
    everything = await keys(backend, "velvet", OWNER, limit=5)
    assert len(everything) == 5
    assert await keys(backend, "velvet", OWNER, offset=2, limit=2) == everything[2:4]
    sent = replay.sent("POST", "/search")[-1].body
    assert (sent["page"], sent["hitsPerPage"]) == (2, 2)
    assert await keys(backend, "velvet", OWNER, offset=1, limit=2) == everything[1:3]
    sent = replay.sent("POST", "/search")[-1].body
    assert (sent["page"], sent["hitsPerPage"]) == (1, 3)
    page = await backend.search(SearchRequest("velvet", OWNER, limit=1))
    assert (page.total, page.total_exact) == (5, True)


async def test_totals_at_max_total_hits_are_not_exact(replay):
    engine = backend_on(replay, max_total_hits=3)
    await engine.upsert(DOCS, None)
    page = await engine.search(SearchRequest("velvet", OWNER, limit=10))
    await engine.aclose()
    assert (len(page.hits), page.total, page.total_exact) == (3, 3, False)


async def test_meilisearchs_own_last_strategy_also_returns_partial_matches(replay):
    """The difference `word_dropping="last"` makes: documents matching only the first words
    follow those matching them all (the shared suite's "velvt harbors" would fail)."""
    engine = backend_on(replay, word_dropping="last")
    await engine.upsert(DOCS, None)
    assert await keys(engine, "velvt harbors") == ["track:t1", "track:t3"]
    assert replay.sent("POST", "/search")[-1].body["matchingStrategy"] == "last"
    await engine.aclose()


async def test_before_anything_is_indexed_searches_find_nothing(backend):
    page = await backend.search(SearchRequest("velvet", OUTSIDER))
    assert (page.hits, page.total) == ([], 0)
    assert await backend.suggest("velv", OUTSIDER, (), 5) == []


async def test_create_backend_picks_meilisearch_when_its_url_is_set(replay, tmp_path: Path):
    platform = Settings(env="test", data_dir=tmp_path)
    chosen = create_backend(
        platform, SearchSettings(meilisearch_url=replay.url, meilisearch_key="k"), writable=False
    )
    assert isinstance(chosen, MeilisearchBackend) and chosen.max_total_hits == 1000
    await chosen.aclose()
    default = create_backend(platform, SearchSettings(meilisearch_url=None), writable=False)
    assert isinstance(default, EmbeddedBackend)
    await default.aclose()
