"""Search never reveals what the caller cannot read, over random worlds (hypothesis): a few
tenants with their users and workspaces, documents of every type and visibility named from a
tiny vocabulary (so queries match), each with an embedding (so SEMANTIC and HYBRID run), and
random readers, words, modes, filters and facets. Each example indexes its world afresh, in
the embedded engine (tantivy in a new temp dir) and in Meilisearch (the replay of its API, a
new index), and checks the answers against who may read what, worked out here in plain Python:
every hit is readable; every facet count and the total stay within the readable documents
that match the filters (so no facet value names a foreign workspace or a foreign tenant's
artist); a reader who may read only public documents finds only public documents; and every
suggestion is readable."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.embeddings import DIMENSIONS
from subgraphs.search.backends.base import (
    POPULARITY_BANDS,
    YEAR_BUCKET,
    Document,
    DocumentType,
    Facet,
    Filters,
    Mode,
    Reader,
    SearchBackend,
    SearchPage,
    SearchRequest,
    Visibility,
    document_key,
)
from subgraphs.search.backends.embedded import EmbeddedBackend
from subgraphs.search.backends.meilisearch import MeilisearchBackend, WordDropping
from tests.support.meilisearch import MeilisearchReplay

VOCABULARY = ("velvet", "harbor", "neon", "echo", "tide", "ember")
GENRES = ("indie pop", "synthwave", "ambient", "jazz")
QUERY_WORDS = (*VOCABULARY, "pop", "synthwave", "jazz")
"""What queries are made of: the names' words and a few of the genres'."""
PUBLIC_ARTISTS = ("a1", "a2", "a3")
OUTSIDE_TENANT = "t-outside"
"""A tenant with no documents, users or workspaces of its own."""
LIMIT = 100
"""More than a world's documents: every hit is on the first page."""
TOPICS = 3
"""Document vectors lie around this many directions, so a query near one finds several."""
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# The world and its ground truth.


@dataclass(frozen=True)
class Tenant:
    id: str
    users: tuple[str, ...]
    workspaces: tuple[tuple[str, frozenset[str]], ...]
    """Each workspace's id and its members."""
    artists: tuple[str, ...]
    """Its own artists (not yet released): no one outside the tenant may learn their ids."""

    def workspaces_of(self, user_id: str) -> tuple[str, ...]:
        return tuple(workspace for workspace, members in self.workspaces if user_id in members)


@dataclass(frozen=True)
class World:
    tenants: tuple[Tenant, ...]
    documents: tuple[Document, ...]
    vector_seed: int
    """The documents' embeddings are drawn from this seed (`vectors()`), which keeps a
    failing example short to print."""

    def vectors(self) -> npt.NDArray[np.float64]:
        rng = np.random.default_rng(self.vector_seed)
        topics = rng.standard_normal((TOPICS, DIMENSIONS))
        topics /= np.linalg.norm(topics, axis=1, keepdims=True)
        noise = rng.standard_normal((len(self.documents), DIMENSIONS)) / np.sqrt(DIMENSIONS)
        vectors = topics[rng.integers(0, TOPICS, len(self.documents))] + 0.8 * noise
        normed: npt.NDArray[np.float64] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normed

    def tenant(self, tenant_id: str) -> Tenant | None:
        return next((tenant for tenant in self.tenants if tenant.id == tenant_id), None)

    def workspace_ids(self) -> tuple[str, ...]:
        return tuple(workspace for tenant in self.tenants for workspace, _ in tenant.workspaces)

    def artist_ids(self) -> tuple[str, ...]:
        return PUBLIC_ARTISTS + tuple(artist for tenant in self.tenants for artist in tenant.artists)


def readable(reader: Reader, doc: Document) -> bool:
    """Who may read a document, as the design states it."""
    same_tenant = doc.tenant_id is not None and doc.tenant_id == reader.tenant_id
    if doc.visibility is Visibility.PUBLIC:
        return True
    if doc.visibility is Visibility.TENANT:
        return same_tenant
    if doc.visibility is Visibility.OWNER:
        return same_tenant and doc.owner_id is not None and doc.owner_id == reader.user_id
    return same_tenant and doc.workspace_id is not None and doc.workspace_id in reader.workspace_ids


def matches(filters: Filters, doc: Document) -> bool:
    if filters.types and doc.type not in filters.types:
        return False
    if filters.artist_ids and not set(doc.artist_ids) & set(filters.artist_ids):
        return False
    if filters.genres and not set(doc.genres) & set(filters.genres):
        return False
    if filters.year_from is not None and (doc.year is None or doc.year < filters.year_from):
        return False
    if filters.year_to is not None and (doc.year is None or doc.year > filters.year_to):
        return False
    if filters.explicit is not None and doc.explicit is not filters.explicit:
        return False
    return not filters.workspace_ids or doc.workspace_id in filters.workspace_ids


def facet_values(facet: Facet, doc: Document) -> set[str]:
    if facet is Facet.GENRE:
        return set(doc.genres)
    if facet is Facet.YEAR:
        return set() if doc.year is None else {str(doc.year - doc.year % YEAR_BUCKET)}
    if facet is Facet.EXPLICIT:
        return set() if doc.explicit is None else {"true" if doc.explicit else "false"}
    if facet is Facet.POPULARITY:
        if doc.popularity is None:
            return set()
        return {name for name, low, high in POPULARITY_BANDS if low <= doc.popularity < high}
    if facet is Facet.ARTIST:
        return set(doc.artist_ids)
    if facet is Facet.TYPE:
        return {doc.type.value}
    return set() if doc.workspace_id is None else {doc.workspace_id}


# Strategies.


def words(count: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=count).map(" ".join)


@st.composite
def tenants(draw: st.DrawFn, index: int, shared_user_ids: bool) -> Tenant:
    tenant_id = f"t{index}"
    # With shared ids, "u1" is a user of every tenant: what is u1's in one tenant must stay
    # out of reach of the u1 of another.
    prefix = "" if shared_user_ids else f"{tenant_id}-"
    users = tuple(f"{prefix}u{number}" for number in range(draw(st.integers(2, 4))))
    workspaces = tuple(
        (f"{tenant_id}-w{number}", frozenset(draw(st.lists(st.sampled_from(users), unique=True))))
        for number in range(draw(st.integers(1, 3)))
    )
    artists = tuple(f"{tenant_id}-a{number}" for number in range(draw(st.integers(0, 2))))
    return Tenant(tenant_id, users, workspaces, artists)


@st.composite
def documents(draw: st.DrawFn, number: int, all_tenants: tuple[Tenant, ...]) -> Document:
    visibility = draw(st.sampled_from(Visibility))
    tenant_id = owner_id = workspace_id = None
    artist_pool: tuple[str, ...] = PUBLIC_ARTISTS
    if visibility is not Visibility.PUBLIC:
        tenant = draw(st.sampled_from(all_tenants))
        tenant_id = tenant.id
        artist_pool = PUBLIC_ARTISTS + tenant.artists
        owner = st.sampled_from(tenant.users)
        # Only workspace documents name a workspace (as projects do), so a readable document
        # never carries the id of a workspace its reader is not in.
        if visibility is Visibility.OWNER:
            owner_id = draw(owner)
        else:
            owner_id = draw(st.none() | owner)
        if visibility is Visibility.WORKSPACE:
            workspace_id = draw(st.sampled_from([workspace for workspace, _ in tenant.workspaces]))
    name = draw(words(3))
    return Document(
        type=draw(st.sampled_from(DocumentType)),
        entity_id=f"e{number}",
        name=name.title() if draw(st.booleans()) else name,
        visibility=visibility,
        artists=tuple(draw(st.lists(words(2).map(str.title), max_size=2))),
        artist_ids=tuple(draw(st.lists(st.sampled_from(artist_pool), unique=True, max_size=2))),
        album=draw(st.none() | words(2)),
        genres=tuple(draw(st.lists(st.sampled_from(GENRES), unique=True, max_size=2))),
        description=draw(st.none() | words(3)),
        year=draw(st.none() | st.integers(1985, 2024)),
        explicit=draw(st.none() | st.booleans()),
        popularity=draw(st.none() | st.integers(0, 100)),
        tenant_id=tenant_id,
        owner_id=owner_id,
        workspace_id=workspace_id,
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    shared_user_ids = draw(st.booleans())
    all_tenants = tuple(draw(tenants(index, shared_user_ids)) for index in range(draw(st.integers(2, 3))))
    docs = tuple(draw(documents(number, all_tenants)) for number in range(draw(st.integers(5, 25))))
    return World(all_tenants, docs, draw(st.integers(0, 2**32 - 1)))


@dataclass(frozen=True)
class Query:
    reader: Reader
    text: str
    mode: Mode
    near: tuple[int, ...]
    """The documents the query's vector leans toward (none: a random direction)."""
    vector_seed: int
    semantic_ratio: float | None
    facets: tuple[Facet, ...]
    filters: Filters

    def vector(self, world: World) -> list[float] | None:
        if self.mode is Mode.KEYWORD:
            return None
        rng = np.random.default_rng(self.vector_seed)
        direction = rng.standard_normal(DIMENSIONS) / np.sqrt(DIMENSIONS)
        if self.near:
            direction = world.vectors()[list(self.near)].sum(axis=0) + 0.3 * direction
        return [float(x) for x in direction / np.linalg.norm(direction)]

    def request(self, world: World, reader: Reader) -> SearchRequest:
        return SearchRequest(
            self.text,
            reader,
            filters=self.filters,
            facets=self.facets,
            mode=self.mode,
            semantic_ratio=self.semantic_ratio,
            vector=self.vector(world),
            limit=LIMIT,
        )


@st.composite
def typo_of(draw: st.DrawFn, word: str) -> str:
    """One edit past the first letter: a substitution, deletion, insertion or transposition."""
    at = draw(st.integers(1, len(word) - 1))
    letter = draw(st.sampled_from(LETTERS))
    edit = draw(st.sampled_from(["substitute", "delete", "insert", "transpose"]))
    if edit == "substitute":
        return word[:at] + letter + word[at + 1 :]
    if edit == "delete":
        return word[:at] + word[at + 1 :]
    if edit == "insert":
        return word[:at] + letter + word[at:]
    if at == len(word) - 1:
        at -= 1
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def text_words(doc: Document) -> list[str]:
    text = " ".join([doc.name, *doc.artists, doc.album or "", *doc.genres, doc.description or ""])
    return text.lower().split()


@st.composite
def query_texts(draw: st.DrawFn, world: World, target: Document | None) -> str:
    if draw(st.integers(0, 9)) == 0:  # an id, which is also matched exactly
        return target.entity_id if target else draw(st.sampled_from(world.documents)).entity_id
    vocabulary = text_words(target) if target else QUERY_WORDS
    picked = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=3))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(picked) - 1))
        picked[at] = draw(typo_of(picked[at]))
    return " ".join(picked)


@st.composite
def readers(draw: st.DrawFn, world: World, target: Document | None) -> Reader:
    """Any user, with their memberships (and now and then another tenant's workspace ids);
    half the time, of a targeted document's tenant, and then its owner or a member of its
    workspace when it has one."""
    tenant = draw(st.sampled_from(world.tenants))
    user_id = draw(st.sampled_from(tenant.users))
    if target and target.tenant_id and draw(st.booleans()):
        tenant = world.tenant(target.tenant_id) or tenant
        members = dict(tenant.workspaces).get(target.workspace_id or "", frozenset())
        candidates = sorted(members) if members else [target.owner_id] if target.owner_id else tenant.users
        user_id = draw(st.sampled_from(candidates))
    foreign = [
        workspace for other in world.tenants if other.id != tenant.id for workspace, _ in other.workspaces
    ]
    extra = draw(st.lists(st.sampled_from(foreign), unique=True, max_size=2)) if draw(st.booleans()) else []
    return Reader(user_id, tenant.id, tenant.workspaces_of(user_id) + tuple(extra))


@st.composite
def filters_for(draw: st.DrawFn, world: World, target: Document | None) -> Filters:
    """Up to three kinds of filter at once (all six together would rarely leave anything),
    which the target document, if there is one, passes where it has the field."""
    kinds = draw(
        st.sets(
            st.sampled_from(["types", "artists", "genres", "years", "explicit", "workspaces"]), max_size=3
        )
    )

    def some(own: Sequence[str | None], pool: Sequence[str]) -> tuple[str, ...]:
        """One of the target's values (when it has any), perhaps with one of the pool's."""
        mine = [value for value in own if value is not None]
        if not mine:
            return tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)))
        chosen = [draw(st.sampled_from(mine)), *draw(st.lists(st.sampled_from(pool), max_size=1))]
        return tuple(dict.fromkeys(chosen))

    year_from = year_to = None
    if "years" in kinds:  # one bound, the other, or both
        if target and target.year is not None:
            low = target.year - draw(st.integers(0, 5))
            high = target.year + draw(st.integers(0, 5))
        else:
            low, high = sorted(draw(st.lists(st.integers(1985, 2024), min_size=2, max_size=2)))
        bounds = draw(st.sampled_from(["from", "to", "both"]))
        year_from = low if bounds != "to" else None
        year_to = high if bounds != "from" else None
    explicit = None
    if "explicit" in kinds:
        explicit = target.explicit if target and target.explicit is not None else draw(st.booleans())
    types = some([target.type.value] if target else [], [kind.value for kind in DocumentType])
    return Filters(
        types=tuple(DocumentType(kind) for kind in types) if "types" in kinds else (),
        artist_ids=some(target.artist_ids if target else (), world.artist_ids())
        if "artists" in kinds
        else (),
        genres=some(target.genres if target else (), GENRES) if "genres" in kinds else (),
        year_from=year_from,
        year_to=year_to,
        explicit=explicit,
        workspace_ids=some([target.workspace_id] if target else [], world.workspace_ids())
        if "workspaces" in kinds
        else (),
    )


@st.composite
def queries(draw: st.DrawFn, world: World) -> Query:
    """Half the time aimed at one document (readable or not): words from its text, filters
    it passes, a vector near its own."""
    count = len(world.documents)
    aim = draw(st.none() | st.integers(0, count - 1))
    target = None if aim is None else world.documents[aim]
    near = draw(st.lists(st.integers(0, count - 1), unique=True, max_size=3 if aim is None else 2))
    mode = draw(st.sampled_from(Mode))
    every = st.just(tuple(Facet))
    some = st.lists(st.sampled_from(Facet), unique=True).map(tuple)
    return Query(
        reader=draw(readers(world, target)),
        text=draw(query_texts(world, target)),
        mode=mode,
        near=tuple(dict.fromkeys(near if aim is None else [aim, *near])),
        vector_seed=draw(st.integers(0, 2**32 - 1)),
        semantic_ratio=draw(st.none() | st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]))
        if mode is Mode.HYBRID
        else None,
        facets=draw(every | some),
        filters=draw(filters_for(world, target)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[World, list[Query]]:
    world = draw(worlds())
    return world, draw(st.lists(queries(world), min_size=1, max_size=4))


# The properties.


def summary(page: SearchPage) -> str:
    facets = {facet.value: {c.value: c.count for c in counts} for facet, counts in page.facets.items()}
    return f"hits={[hit.key for hit in page.hits]} total={page.total} facets={facets}"


def check_page(world: World, request: SearchRequest, page: SearchPage) -> None:
    reader = request.reader
    may_read = [doc for doc in world.documents if readable(reader, doc)]
    allowed = [doc for doc in may_read if matches(request.filters, doc)]
    where = f"{request}\n  answered {summary(page)}"
    # (1) Every hit is readable (and within the filters).
    readable_keys = {doc.key for doc in may_read}
    unreadable = [hit.key for hit in page.hits if hit.key not in readable_keys]
    assert not unreadable, f"unreadable hits {unreadable}: {where}"
    outside = [hit.key for hit in page.hits if hit.key not in {doc.key for doc in allowed}]
    assert not outside, f"hits outside the filters {outside}: {where}"
    # (3) The total counts at most the readable documents that match the filters.
    assert page.total <= len(allowed), f"total {page.total} > {len(allowed)} readable: {where}"
    # (2) So does every facet count, value by value.
    tenant = world.tenant(reader.tenant_id)
    members_of = set(tenant.workspaces_of(reader.user_id)) if tenant else set()
    foreign_artists = {
        artist for other in world.tenants if other.id != reader.tenant_id for artist in other.artists
    }
    for facet, counts in page.facets.items():
        for count in counts:
            bound = sum(1 for doc in allowed if count.value in facet_values(facet, doc))
            assert count.count <= bound, (
                f"{facet.value}={count.value!r} counts {count.count} > {bound}: {where}"
            )
            if facet is Facet.WORKSPACE:
                assert count.value in members_of, f"workspace facet names {count.value!r}: {where}"
            if facet is Facet.ARTIST:
                assert count.value not in foreign_artists, f"artist facet names {count.value!r}: {where}"


async def check_world(backend: SearchBackend, world: World, asked: Sequence[Query]) -> None:
    await backend.upsert(world.documents, [list(map(float, row)) for row in world.vectors()])
    for query in asked:
        request = query.request(world, query.reader)
        check_page(world, request, await backend.search(request))
        # (4) A reader who may read only public documents (a tenant of their own, every
        # workspace id there is, and the user id of someone who owns documents elsewhere)
        # finds only public documents.
        outsider = Reader(query.reader.user_id, OUTSIDE_TENANT, world.workspace_ids())
        assert all(doc.visibility is Visibility.PUBLIC for doc in world.documents if readable(outsider, doc))
        as_outsider = query.request(world, outsider)
        page = await backend.search(as_outsider)
        check_page(world, as_outsider, page)
        public = {doc.key for doc in world.documents if doc.visibility is Visibility.PUBLIC}
        assert {hit.key for hit in page.hits} <= public, f"{as_outsider}\n  answered {summary(page)}"
        # Suggestions complete only names the reader may read.
        prefix = query.text.split()[0][:4]
        for reader in (query.reader, outsider):
            suggested = await backend.suggest(prefix, reader, query.filters.types, LIMIT)
            keys = {document_key(s.type, s.entity_id) for s in suggested}
            hidden = keys - {doc.key for doc in world.documents if readable(reader, doc)}
            assert not hidden, f"suggest({prefix!r}, {reader}) revealed {sorted(hidden)}"


# The backends: a fresh index per example (hypothesis runs many examples in one test call, so
# per-test fixtures such as `tmp_path` would be shared by all of them).

_INDEXES = itertools.count()


@pytest.fixture(scope="module")
def meilisearch() -> Iterator[MeilisearchReplay]:
    replay = MeilisearchReplay().start()
    yield replay
    replay.stop()


@asynccontextmanager
async def embedded_backend() -> AsyncIterator[EmbeddedBackend]:
    with tempfile.TemporaryDirectory() as directory:
        backend = EmbeddedBackend(Path(directory) / "index", writable=True, dimensions=DIMENSIONS)
        try:
            yield backend
        finally:
            await backend.aclose()


@asynccontextmanager
async def meilisearch_backend(
    replay: MeilisearchReplay, word_dropping: WordDropping
) -> AsyncIterator[MeilisearchBackend]:
    backend = MeilisearchBackend(
        replay.url,
        replay.master_key,
        index_uid=f"access-{next(_INDEXES)}",
        task_poll_interval=0.005,
        word_dropping=word_dropping,
    )
    try:
        yield backend
    finally:
        await backend.aclose()


# Deterministic in CI: the examples follow from the test's name, and none are stored.
FIXED = settings(deadline=None, derandomize=True, database=None)


@settings(FIXED, max_examples=60)
@given(scenario=scenarios())
async def test_the_embedded_engine_reveals_nothing_unreadable(scenario: tuple[World, list[Query]]) -> None:
    world, asked = scenario
    async with embedded_backend() as backend:
        await check_world(backend, world, asked)


@settings(FIXED, max_examples=30)
@given(scenario=scenarios(), word_dropping=st.sampled_from(["when-nothing-matches", "last"]))
async def test_meilisearch_reveals_nothing_unreadable(
    meilisearch: MeilisearchReplay, scenario: tuple[World, list[Query]], word_dropping: WordDropping
) -> None:
    world, asked = scenario
    async with meilisearch_backend(meilisearch, word_dropping) as backend:
        await check_world(backend, world, asked)
