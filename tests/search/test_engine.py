"""Every backend answers the same queries the same way: the embedded engine (tantivy in a temp
dir) and Meilisearch (the backend against the local replay of Meilisearch's HTTP API, a fresh
index per test): typo rules, prefixes, exact ids, filters, facets over the whole match set,
highlights, and the access filter inside the engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from subgraphs.search.backends.base import (
    Document,
    DocumentType,
    Facet,
    Filters,
    Reader,
    SearchRequest,
    Visibility,
)
from subgraphs.search.backends.embedded import EmbeddedBackend
from subgraphs.search.backends.meilisearch import MeilisearchBackend
from subgraphs.search.matching import allowed_typos
from tests.support.meilisearch import MeilisearchReplay

PUBLIC = Visibility.PUBLIC
DOCS = [
    Document(DocumentType.TRACK, "t1", "Velvet Harbors", PUBLIC, artists=("Ada Costa",), artist_ids=("a1",),
             album="Neon Tides", genres=("indie pop",), year=2009, explicit=False, popularity=40),
    Document(DocumentType.TRACK, "t2", "Midnight Echoes", PUBLIC, artists=("Ben Ode",), artist_ids=("a2",),
             genres=("synthwave",), year=2019, explicit=True, popularity=80),
    Document(DocumentType.TRACK, "t3", "Velvet Satellites", PUBLIC, artists=("Ben Ode",), artist_ids=("a2",),
             genres=("synthwave",), year=2021, explicit=False, popularity=60),
    Document(DocumentType.ARTIST, "a1", "Ada Costa", PUBLIC, artist_ids=("a1",), genres=("indie pop",), popularity=50),
    Document(DocumentType.PROJECT, "p1", "Velvet release plan", Visibility.WORKSPACE, tenant_id="T1", workspace_id="W1"),
    Document(DocumentType.PLAYLIST, "pl1", "Velvet drafts", Visibility.OWNER, tenant_id="T1", owner_id="u1"),
    Document(DocumentType.PLAYLIST, "pl2", "Velvet team picks", Visibility.TENANT, tenant_id="T1", owner_id="u1"),
]  # fmt: skip
OUTSIDER = Reader("u9", "T2", ())
COLLEAGUE = Reader("u2", "T1", ())
OWNER = Reader("u1", "T1", ("W1",))


_INDEXES = itertools.count()


@pytest.fixture(scope="module")
def meilisearch() -> Iterator[MeilisearchReplay]:
    replay = MeilisearchReplay().start()
    yield replay
    replay.stop()


@pytest.fixture(params=["embedded", "meilisearch"])
async def engine(request, tmp_path):
    if request.param == "embedded":
        backend = EmbeddedBackend(tmp_path / "index", writable=True)
    else:
        replay = request.getfixturevalue("meilisearch")
        backend = MeilisearchBackend(
            replay.url, replay.master_key, index_uid=f"documents-{next(_INDEXES)}", task_poll_interval=0.005
        )
    await backend.upsert(DOCS, None)
    yield backend
    await backend.aclose()


async def keys(engine, query: str, reader: Reader = OUTSIDER, **options) -> list[str]:
    page = await engine.search(SearchRequest(query, reader, **options))
    return [hit.key for hit in page.hits]


def test_typo_budget_follows_word_length():
    assert [allowed_typos(word) for word in ("echo", "velvet", "satellite", "satellites")] == [0, 1, 2, 2]


async def test_typos_prefixes_and_exact_ids(engine):
    assert await keys(engine, "velvt harbors") == ["track:t1"]  # one typo in a 6-letter word
    assert await keys(engine, "satelites") == ["track:t3"]  # 9 letters: up to two
    assert await keys(engine, "midnihgt") == ["track:t2"]  # a transposition is one typo
    assert await keys(engine, "ecko") == []  # 4 letters: no typo allowed...
    assert await keys(engine, "midnight ech") == ["track:t2"]  # ...but the last word is a prefix
    assert await keys(engine, "t2") == ["track:t2"]  # an id, exactly
    assert await keys(engine, "xyzzy plugh") == []


async def test_exact_words_outrank_typos_and_all_words_outrank_some(engine):
    ranked = await keys(engine, "velvet harbors")
    assert ranked[0] == "track:t1"
    # A word nothing contains is dropped from the end (Meilisearch's `last` strategy).
    assert set(await keys(engine, "velvet zzzzzz")) == {"track:t1", "track:t3"}


async def test_the_access_filter_runs_inside_the_engine(engine):
    assert set(await keys(engine, "velvet", OUTSIDER)) == {"track:t1", "track:t3"}
    assert set(await keys(engine, "velvet", COLLEAGUE)) == {"track:t1", "track:t3", "playlist:pl2"}
    assert set(await keys(engine, "velvet", OWNER)) == {
        "track:t1", "track:t3", "playlist:pl2", "playlist:pl1", "project:p1"
    }  # fmt: skip
    # A member of W1 in another tenant finds nothing of T1's workspace.
    assert "project:p1" not in await keys(engine, "velvet", Reader("u1", "T2", ("W1",)))
    counted = await engine.search(SearchRequest("velvet", OUTSIDER, facets=(Facet.TYPE,), limit=1))
    assert counted.total == 2 and {c.value: c.count for c in counted.facets[Facet.TYPE]} == {"track": 2}


async def test_filters_combine_and_facets_count_the_whole_match_set(engine):
    request = SearchRequest(
        "velvet",
        OUTSIDER,
        facets=(Facet.GENRE, Facet.YEAR, Facet.EXPLICIT, Facet.POPULARITY, Facet.ARTIST),
        limit=1,
    )
    page = await engine.search(request)
    assert len(page.hits) == 1 and page.total == 2
    facets = {facet: {c.value: c.count for c in counts} for facet, counts in page.facets.items()}
    assert facets == {
        Facet.GENRE: {"indie pop": 1, "synthwave": 1},
        Facet.YEAR: {"2000": 1, "2020": 1},
        Facet.EXPLICIT: {"false": 2},
        Facet.POPULARITY: {"25-49": 1, "50-74": 1},
        Facet.ARTIST: {"a1": 1, "a2": 1},
    }
    only = Filters(
        types=(DocumentType.TRACK,), artist_ids=("a2",), year_from=2020, year_to=2022, explicit=False
    )
    assert await keys(engine, "velvet", filters=only) == ["track:t3"]
    assert await keys(engine, "velvet", filters=Filters(genres=("indie pop",))) == ["track:t1"]


async def test_highlights_mark_exact_typo_and_prefix_matches(engine):
    page = await engine.search(SearchRequest("velvt harb", OUTSIDER))
    assert page.hits[0].highlights == {"name": "<em>Velvet</em> <em>Harbors</em>"}
    artist = await engine.search(SearchRequest("ada", OUTSIDER, filters=Filters(types=(DocumentType.TRACK,))))
    assert artist.hits[0].highlights == {"artists": "<em>Ada</em> Costa"}


async def test_deleted_documents_disappear_and_upserts_replace(engine):
    await engine.delete(["track:t3"])
    assert await keys(engine, "satellites") == []
    renamed = Document(DocumentType.TRACK, "t1", "Copper Lanterns", PUBLIC, popularity=40)
    await engine.upsert([renamed], None)
    assert await keys(engine, "harbors") == [] and await keys(engine, "lanterns") == ["track:t1"]


async def test_suggest_completes_names_the_reader_may_see(engine):
    suggestions = await engine.suggest("velv", OUTSIDER, (), 5)
    assert {s.text for s in suggestions} == {"Velvet Harbors", "Velvet Satellites"}
    assert suggestions[0].text == "Velvet Satellites"  # the more popular first
    mine = await engine.suggest("velv", OWNER, (DocumentType.PROJECT,), 5)
    assert [s.entity_id for s in mine] == ["p1"]
    assert [s.entity_id for s in await engine.suggest("midnigth", OUTSIDER, (), 5)] == ["t2"]
