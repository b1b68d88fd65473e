"""The embedded engine's semantic side against a plain-Python oracle: the access rule and the
filters run before the nearest are picked (a selective filter gets its own nearest), the
semantic match set is counted and faceted exactly, HYBRID says when its total is estimated,
readers follow the writer's changes, and an index of the older layout is rebuilt."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shared.db import Database
from shared.embeddings import DIMENSIONS
from subgraphs.search.backends.base import (
    FACET_SIZE,
    POPULARITY_BANDS,
    YEAR_BUCKET,
    Document,
    DocumentType,
    Facet,
    FacetCount,
    Filters,
    Mode,
    Reader,
    SearchRequest,
    Visibility,
)
from subgraphs.search.backends.embedded import HYBRID_SEMANTIC_DEPTH, EmbeddedBackend
from subgraphs.search.backends.vectors import INITIAL_CAPACITY
from subgraphs.search.repository import DocumentRepository
from subgraphs.search.tasks import index_pending, upgrade_outdated_index

MIN_SIMILARITY = 0.2
GENRES = ("rock", "jazz", "folk", "trip hop", "ambient")
TENANTS = ("T1", "T2")
WORKSPACES = {"T1": ("W1", "W2"), "T2": ("W3",)}
USERS = ("u1", "u2", "u3")


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def toward(target: np.ndarray, closeness: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at roughly `closeness` cosine from `target`."""
    noise = unit(rng.standard_normal(DIMENSIONS))
    return unit(closeness * target + (1 - closeness) * noise)


def random_document(number: int, rng: random.Random) -> Document:
    visibility = rng.choice(list(Visibility))
    tenant = rng.choice(TENANTS) if visibility is not Visibility.PUBLIC else None
    return Document(
        type=rng.choice([DocumentType.TRACK, DocumentType.ALBUM]) if tenant is None else DocumentType.PROJECT,
        entity_id=f"d{number}",
        name=f"document {number}",
        visibility=visibility,
        artist_ids=tuple(rng.sample(["a1", "a2", "a3", "a4"], rng.randint(0, 2))),
        genres=tuple(rng.sample(GENRES, rng.randint(0, 3))),
        year=rng.choice([None, *range(1975, 2025)]),
        explicit=rng.choice([None, True, False]),
        popularity=rng.choice([None, *range(0, 101)]),
        tenant_id=tenant,
        owner_id=rng.choice(USERS) if tenant else None,
        workspace_id=rng.choice(WORKSPACES[tenant])
        if tenant and visibility is Visibility.WORKSPACE
        else None,
    )


def may_read(reader: Reader, doc: Document) -> bool:
    if doc.visibility is Visibility.PUBLIC:
        return True
    if doc.tenant_id != reader.tenant_id:
        return False
    if doc.visibility is Visibility.TENANT:
        return True
    if doc.visibility is Visibility.OWNER:
        return doc.owner_id == reader.user_id
    return doc.workspace_id in reader.workspace_ids


def passes(filters: Filters, doc: Document) -> bool:
    year_ok = (filters.year_from is None and filters.year_to is None) or (
        doc.year is not None
        and (filters.year_from is None or doc.year >= filters.year_from)
        and (filters.year_to is None or doc.year <= filters.year_to)
    )
    return (
        year_ok
        and (not filters.types or doc.type in filters.types)
        and (not filters.genres or bool(set(filters.genres) & set(doc.genres)))
        and (not filters.artist_ids or bool(set(filters.artist_ids) & set(doc.artist_ids)))
        and (filters.explicit is None or doc.explicit is filters.explicit)
        and (not filters.workspace_ids or doc.workspace_id in filters.workspace_ids)
    )


def expected_facet(facet: Facet, docs: list[Document]) -> list[FacetCount]:
    if facet is Facet.YEAR:
        decades = Counter(doc.year // YEAR_BUCKET * YEAR_BUCKET for doc in docs if doc.year is not None)
        return [FacetCount(str(decade), count) for decade, count in sorted(decades.items())]
    if facet is Facet.POPULARITY:
        bands = [
            FacetCount(name, sum(1 for d in docs if d.popularity is not None and low <= d.popularity < high))
            for name, low, high in POPULARITY_BANDS
        ]
        return [band for band in bands if band.count]
    values: Counter[str] = Counter()
    for doc in docs:
        if facet is Facet.GENRE:
            values.update(set(doc.genres))
        elif facet is Facet.ARTIST:
            values.update(set(doc.artist_ids))
        elif facet is Facet.TYPE:
            values[doc.type.value] += 1
        elif facet is Facet.EXPLICIT and doc.explicit is not None:
            values["true" if doc.explicit else "false"] += 1
        elif facet is Facet.WORKSPACE and doc.workspace_id:
            values[doc.workspace_id] += 1
    ordered = sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:FACET_SIZE]
    return [FacetCount(value, count) for value, count in ordered]


@pytest.fixture
async def writer(tmp_path: Path):
    backend = EmbeddedBackend(tmp_path / "index", writable=True, min_similarity=MIN_SIMILARITY)
    yield backend
    await backend.aclose()


@pytest.fixture
async def reader(tmp_path: Path, writer: EmbeddedBackend):
    backend = EmbeddedBackend(tmp_path / "index", min_similarity=MIN_SIMILARITY)  # as a serving process
    yield backend
    await backend.aclose()


def semantic(query: np.ndarray, reader: Reader, **options) -> SearchRequest:
    return SearchRequest(
        "anything", reader, mode=Mode.SEMANTIC, vector=query.tolist(), **{"limit": 10, **options}
    )


async def test_a_selective_filter_gets_its_own_nearest_documents(writer, reader):
    rng = np.random.default_rng(1)
    query = unit(rng.standard_normal(DIMENSIONS))
    rock = [
        Document(DocumentType.TRACK, f"r{n}", f"rock {n}", Visibility.PUBLIC, genres=("rock",))
        for n in range(1500)
    ]
    jazz = [
        Document(DocumentType.TRACK, f"j{n}", f"jazz {n}", Visibility.PUBLIC, genres=("jazz",))
        for n in range(5)
    ]
    vectors = [toward(query, 0.9, rng) for _ in rock] + [toward(query, 0.5, rng) for _ in jazz]
    await writer.upsert([*rock, *jazz], [vector.tolist() for vector in vectors])

    page = await reader.search(semantic(query, Reader("u1", "T1", ()), filters=Filters(genres=("jazz",))))
    assert sorted(hit.entity_id for hit in page.hits) == [f"j{n}" for n in range(5)]
    assert (page.total, page.total_exact) == (5, True)
    everything = await reader.search(semantic(query, Reader("u1", "T1", ()), facets=(Facet.GENRE,)))
    assert {hit.entity_id[0] for hit in everything.hits} == {"r"}
    assert everything.facets[Facet.GENRE] == [FacetCount("rock", 1500), FacetCount("jazz", 5)]
    assert (everything.total, everything.total_exact) == (1505, True)


@pytest.mark.parametrize("seed", [3, 4, 5])
async def test_semantic_totals_and_facets_match_the_oracle_for_every_reader(writer, reader, seed):
    rng, vectors_rng = random.Random(seed), np.random.default_rng(seed)
    docs = [random_document(number, rng) for number in range(600)]
    matrix = np.stack([unit(vectors_rng.standard_normal(DIMENSIONS)) for _ in docs])
    await writer.upsert(docs, matrix.tolist())
    facets = tuple(Facet)
    readers = [
        Reader(user, tenant, workspaces)
        for tenant in TENANTS
        for user in USERS
        for workspaces in ((), WORKSPACES[tenant][:1], ("W3",))
    ]
    filters = [
        Filters(),
        Filters(genres=("jazz", "folk")),
        Filters(year_from=1990, year_to=2009, explicit=False),
        Filters(types=(DocumentType.PROJECT,), workspace_ids=("W1",)),
        Filters(artist_ids=("a2",), year_from=2000),
    ]
    for _ in range(6):
        query = toward(matrix[rng.randrange(len(docs))], 0.6, vectors_rng)
        similarities = matrix @ query
        for who in readers:
            for wanted in filters:
                page = await reader.search(semantic(query, who, filters=wanted, facets=facets, limit=25))
                matches = [
                    (float(similarity), doc.key, doc)
                    for doc, similarity in zip(docs, similarities, strict=True)
                    if similarity >= MIN_SIMILARITY and may_read(who, doc) and passes(wanted, doc)
                ]
                matches.sort(key=lambda match: (-match[0], match[1]))
                assert (page.total, page.total_exact) == (len(matches), True)
                assert [hit.key for hit in page.hits] == [key for _, key, _ in matches[:25]]
                matched = [doc for _, _, doc in matches]
                assert page.facets == {facet: expected_facet(facet, matched) for facet in facets}


async def test_hybrid_says_its_total_is_estimated_past_the_fused_nearest(writer, reader):
    rng = np.random.default_rng(7)
    query = unit(rng.standard_normal(DIMENSIONS))
    count = HYBRID_SEMANTIC_DEPTH * 3
    docs = [
        Document(DocumentType.TRACK, f"t{n}", f"tune {n}" if n % 2 else f"song {n}", Visibility.PUBLIC)
        for n in range(count)
    ]
    await writer.upsert(docs, [toward(query, 0.8, rng).tolist() for _ in docs])
    asked = SearchRequest("song", Reader("u1", "T1", ()), mode=Mode.HYBRID, vector=query.tolist(), limit=20)
    page = await reader.search(asked)
    assert page.total_exact is False
    # Every document is a semantic match, half of them keyword ones: the union is all of them,
    # estimated from the share of keyword matches among the fused nearest.
    assert count * 0.8 <= page.total <= count * 1.2
    assert len(page.hits) == 20 and page.semantic_hits >= 10

    few = await reader.search(SearchRequest("song", Reader("u1", "T1", ()), mode=Mode.HYBRID,
                                            vector=(-query).tolist(), limit=20))  # fmt: skip
    assert (few.total, few.total_exact, few.semantic_hits) == (count // 2, True, 0)


async def test_readers_follow_the_writers_changes(writer, reader):
    rng = np.random.default_rng(11)
    query = unit(rng.standard_normal(DIMENSIONS))
    first = [
        Document(DocumentType.TRACK, f"t{n}", f"t {n}", Visibility.PUBLIC, genres=("rock",))
        for n in range(INITIAL_CAPACITY + 10)
    ]
    await writer.upsert(first, [toward(query, 0.7, rng).tolist() for _ in first])
    someone, owner = Reader("u2", "T1", ()), Reader("u1", "T1", ())
    assert (await reader.search(semantic(query, someone))).total == len(first)

    private = Document(DocumentType.PLAYLIST, "p1", "mine", Visibility.OWNER, genres=("rock", "jazz", "folk", "ambient"),
                       tenant_id="T1", owner_id="u1")  # fmt: skip
    await writer.upsert([private], [query.tolist()])
    assert (await reader.search(semantic(query, owner))).hits[0].key == "playlist:p1"
    assert (await reader.search(semantic(query, someone))).hits[0].key != "playlist:p1"
    faceted = await reader.search(semantic(query, owner, facets=(Facet.GENRE,)))
    assert FacetCount("ambient", 1) in faceted.facets[Facet.GENRE]

    shared = Document(DocumentType.PLAYLIST, "p1", "mine", Visibility.TENANT, tenant_id="T1", owner_id="u1")
    await writer.upsert([shared], [query.tolist()])
    assert (await reader.search(semantic(query, someone))).hits[0].key == "playlist:p1"
    await writer.delete(["playlist:p1", "track:t0"])
    after = await reader.search(semantic(query, someone))
    assert "playlist:p1" not in {hit.key for hit in after.hits} and after.total == len(first) - 1
    await writer.upsert([first[1]], None)  # no embedding any more: out of semantic search
    assert (await reader.search(semantic(query, someone))).total == len(first) - 2


async def test_an_index_of_the_older_format_is_pushed_again(database: Database, tmp_path: Path):
    index = tmp_path / "old-index"
    index.mkdir()
    legacy = [index / "meta.json", index / "vectors.sqlite3"]  # the first layout, in the dir itself
    for file in legacy:
        file.write_text("{}")
    docs = [Document(DocumentType.TRACK, f"t{n}", f"old track {n}", Visibility.PUBLIC) for n in range(3)]
    async with database.write() as session:
        await DocumentRepository(session).put_many(docs)
    writer = EmbeddedBackend(index, writable=True)
    try:
        assert await index_pending(database, writer, 100) == 3
        assert await index_pending(database, writer, 100) == 0
        assert await writer.outdated()
        assert await upgrade_outdated_index(database, writer) == 3
        assert not any(file.exists() for file in legacy) and not await writer.outdated()
        assert await index_pending(database, writer, 100) == 3
        assert await upgrade_outdated_index(database, writer) == 0
    finally:
        await writer.aclose()


async def test_hybrid_counts_the_union_exactly_when_every_keyword_match_is_in_hand(writer, reader):
    rng, vectors_rng = random.Random(13), np.random.default_rng(13)
    query = unit(vectors_rng.standard_normal(DIMENSIONS))
    docs = [
        Document(DocumentType.TRACK, f"t{n}", "lonely song" if n % 100 == 0 else f"tune {n}", Visibility.PUBLIC,
                 genres=tuple(rng.sample(GENRES, rng.randint(0, 2))), year=rng.randint(1980, 2020))
        for n in range(HYBRID_SEMANTIC_DEPTH * 3)
    ]  # fmt: skip
    near = [toward(query, 0.8, vectors_rng) for _ in docs[:-100]]  # the last 100: far from the query
    far = [toward(-query, 0.8, vectors_rng) for _ in docs[-100:]]
    await writer.upsert(docs, [vector.tolist() for vector in near + far])
    facets = (Facet.GENRE, Facet.YEAR)
    asked = SearchRequest(
        "song", Reader("u1", "T1", ()), mode=Mode.HYBRID, vector=query.tolist(), facets=facets
    )
    page = await reader.search(asked)
    union = [doc for number, doc in enumerate(docs) if number < len(docs) - 100 or "song" in doc.name]
    assert (page.total, page.total_exact) == (len(union), True)
    assert page.facets == {facet: expected_facet(facet, union) for facet in facets}

    # A keyword match without an embedding cannot be counted beside the vectors: estimated.
    await writer.upsert(
        [Document(DocumentType.TRACK, "bare", "song without vector", Visibility.PUBLIC)], None
    )
    estimated = await reader.search(asked)
    assert estimated.total_exact is False and len(union) * 0.8 <= estimated.total <= len(union) * 1.2
