"""`search reindex` and `search verify` with real parts: spotify serves its catalogue through
`catalogueItems` to a service token, the projection is rebuilt from it, the worker's indexer
(`index_pending`, run here) pushes it into the engine, and verify finds drift put there on
purpose exactly, and --repair plus an indexer round fixes it. The engines' read-only
introspection (`keys`, `stored`) is checked on both backends; the CLI commands against a
spotify subgraph under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from jose import jwt
from sqlalchemy import update
from sqlmodel import col
from typer.testing import CliRunner

from gateway.cli import app
from shared.auth.service_tokens import ServiceTokens
from shared.config import Settings, get_settings
from shared.db import Database
from subgraphs.search import maintenance
from subgraphs.search.backends.base import Document, DocumentType, Visibility
from subgraphs.search.backends.embedded import EmbeddedBackend
from subgraphs.search.backends.meilisearch import MeilisearchBackend
from subgraphs.search.config import SearchSettings
from subgraphs.search.documents import content_hash, to_fields
from subgraphs.search.maintenance import SourceError, Sources
from subgraphs.search.models import SearchDocument
from subgraphs.search.repository import DocumentRepository, MembershipRepository
from subgraphs.search.tasks import index_pending, project_catalogue, project_membership, project_project
from subgraphs.spotify.catalogue.offline import load_sample
from tests.search.test_engine import DOCS
from tests.support.domain_events import apply, event
from tests.support.graphql import gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together, served_together
from tests.support.meilisearch import MeilisearchReplay

SAMPLE = load_sample()
COUNTS = {
    DocumentType.ARTIST: 300,
    DocumentType.ALBUM: 422,
    DocumentType.TRACK: 2871,
    DocumentType.PLAYLIST: 12,
}
EVERYTHING = 100_000
"""A sample as large as the index: every document is compared."""
_INDEXES = itertools.count()


async def drain(database: Database, writer: Any) -> int:
    """The worker's indexer, until nothing is pending."""
    pushed = 0
    while indexed := await index_pending(database, writer, 1000):
        pushed += indexed
    return pushed


def summary(report: maintenance.VerifyReport) -> dict[str, tuple[Any, ...]]:
    return {
        entry.type.value: (entry.source, entry.projected, entry.engine, entry.pending)
        for entry in report.types
    }


def drifts(report: maintenance.VerifyReport) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in report.types:
        if entry.missing:
            found.setdefault("missing", []).extend(entry.missing)
        if entry.stale:
            found.setdefault("stale", []).extend(entry.stale)
        if entry.changed:
            found.setdefault("changed", {}).update(entry.changed)
        if entry.source_drift:
            found.setdefault("source", []).append(entry.type.value)
    return found


# The engines' introspection, on both backends.


@pytest.fixture(scope="module")
def meilisearch() -> Iterator[MeilisearchReplay]:
    replay = MeilisearchReplay().start()
    yield replay
    replay.stop()


@pytest.fixture(params=["embedded", "meilisearch"])
async def engine(request, tmp_path):
    if request.param == "embedded":
        backend: Any = EmbeddedBackend(tmp_path / "index", writable=True)
    else:
        replay = request.getfixturevalue("meilisearch")
        backend = MeilisearchBackend(
            replay.url, replay.master_key, index_uid=f"verify-{next(_INDEXES)}", task_poll_interval=0.005
        )
    yield backend
    await backend.aclose()


async def test_an_engine_lists_its_keys_and_gives_back_what_it_indexed(engine):
    assert await engine.keys() == set() and await engine.stored(["track:t1"]) == {}  # nothing yet
    await engine.upsert(DOCS, None)
    await engine.delete(["track:t3"])
    assert await engine.keys(DocumentType.TRACK) == {"track:t1", "track:t2"}
    assert await engine.keys(DocumentType.PLAYLIST) == {"playlist:pl1", "playlist:pl2"}
    assert await engine.keys() == {doc.key for doc in DOCS} - {"track:t3"}
    held = await engine.stored([doc.key for doc in DOCS] + ["artist:nobody"])
    assert set(held) == {doc.key for doc in DOCS} - {"track:t3"}
    for doc in DOCS:
        if doc.key in held:
            assert maintenance.differences(doc, held[doc.key]) == [], doc.key
            assert held[doc.key].visibility is doc.visibility and held[doc.key].tenant_id == doc.tenant_id
    renamed = replace(DOCS[0], name="Velvet Harbours", genres=("dream pop",))
    assert maintenance.differences(renamed, held[DOCS[0].key]) == ["genres", "name"]


async def test_verify_and_repair_on_either_engine(engine, database):
    async with database.write() as session:
        documents = DocumentRepository(session)
        for doc in DOCS:
            await documents.put(doc)
    await drain(database, engine)
    clean = await maintenance.verify(database, engine, None, sample=EVERYTHING)
    assert not clean.drift and clean.types[0].sampled == 3
    await engine.delete(["track:t2"])
    await engine.upsert([Document(DocumentType.ARTIST, "ghost", "Ghost", Visibility.PUBLIC)], None)
    report = await maintenance.verify(database, engine, None, sample=EVERYTHING)
    assert drifts(report) == {"missing": ["track:t2"], "stale": ["artist:ghost"]}
    assert await maintenance.repair(database, engine, report) == maintenance.RepairReport(1, 1)
    assert await drain(database, engine) == 2
    assert not (await maintenance.verify(database, engine, None, sample=EVERYTHING)).drift
    assert "artist:ghost" not in await engine.keys(DocumentType.ARTIST)


# The catalogue: spotify and search hosted together, the sample's index.


@dataclass
class Platform:
    host: HostedPlatform
    database: Database
    writer: EmbeddedBackend
    reader: EmbeddedBackend
    source: Sources

    async def verify(self, **options: Any) -> maintenance.VerifyReport:
        return await maintenance.verify(self.database, self.reader, self.source, **options)


@pytest.fixture
async def platform(settings, redis_server, database, catalogue) -> AsyncIterator[Platform]:
    config = SearchSettings(search_index_dir=catalogue, search_semantic=False)
    names = ["accounts", "spotify", "collaboration", "search"]
    async with hosted_together(names, settings, redis_server.url, configs={"search": config}) as host:
        tokens = ServiceTokens(host.runtimes["accounts"].key_ring, settings.jwt_issuer, settings.jwt_audience)
        source = Sources(
            "/spotify/graphql",
            lambda: tokens.headers(maintenance.SERVICE, maintenance.SCOPES),
            urls={"collaboration": "/collaboration/graphql"},
            client=host.client,
        )
        writer = EmbeddedBackend(catalogue, writable=True)
        reader = EmbeddedBackend(catalogue)
        try:
            yield Platform(host, database, writer, reader, source)
        finally:
            await reader.aclose()
            await writer.aclose()
            await source.aclose()


async def _ok(platform: Platform, path: str, query: str, variables: dict[str, Any], token: str) -> Any:
    body = await gql(platform.host.client, query, variables, token=token, path=path)
    assert "errors" not in body, body
    return body["data"]


@dataclass(frozen=True)
class TenantObjects:
    tenant_id: str
    user_id: str
    playlist_id: str
    workspace_id: str
    project_id: str


async def _tenant_sources(platform: Platform) -> TenantObjects:
    """A platform playlist and a workspace project, made through their subgraphs' APIs (no
    event reaches search here: the reindex finds them in their sources)."""
    owner = await sign_up(platform.host.client, path="/accounts/graphql")
    token = owner["token"]
    playlist = await _ok(
        platform, "/spotify/graphql",
        "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { playlist { id } } }",
        {"i": {"name": "Road trip", "public": True}}, token,
    )  # fmt: skip
    workspace = await _ok(
        platform, "/collaboration/graphql",
        'mutation { createWorkspace(input: {name: "Maintenance"}) { workspace { id } } }', {}, token,
    )  # fmt: skip
    workspace_id = workspace["createWorkspace"]["workspace"]["id"]
    project = await _ok(
        platform, "/collaboration/graphql",
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
        {"i": {"workspaceId": workspace_id, "type": "PLAYLIST_DRAFT", "title": "Liner notes"}}, token,
    )  # fmt: skip
    return TenantObjects(
        tenant_id=jwt.get_unverified_claims(token)["tid"],
        user_id=owner["user"]["id"],
        playlist_id=playlist["createPlaylist"]["playlist"]["id"],
        workspace_id=workspace_id,
        project_id=project["createProject"]["project"]["id"],
    )


async def _ghosts(database: Database) -> None:
    """What the projection holds and no source lists any more: an artist, a project and a
    membership (their deletions never reached search)."""
    ghost = {"id": "ghost0000000000000000", "name": "Gone Artist", "popularity": 1, "genres": []}
    await apply(
        database, project_catalogue, event("spotify.catalogue.upserted", {"kind": "artist", "items": [ghost]})
    )
    project = {
        "workspace_id": "wsp_ghost", "project_id": "prj_ghost", "version": 3, "type": "document",
        "title": "Gone project", "content": {},
    }  # fmt: skip
    await apply(database, project_project, event("collaboration.project.created", project, "tnt_ghost"))
    member = {"workspace_id": "wsp_ghost", "user_id": "usr_ghost", "role": "editor"}
    await apply(database, project_membership, event("collaboration.member.added", member, "tnt_ghost"))


async def test_reindex_rebuilds_the_projection_from_its_sources_and_verify_agrees(platform):
    database = platform.database
    made = await _tenant_sources(platform)
    await _ghosts(database)
    stale = await platform.verify(sample=0)
    assert stale.memberships is not None and [m.user_id for m in stale.memberships.stale] == ["usr_ghost"]
    assert [m.workspace_id for m in stale.memberships.missing] == [made.workspace_id]

    listed: dict[str, int] = {}
    report = await maintenance.reindex(
        database,
        platform.source,
        list(DocumentType),
        lambda what, done, total: listed.__setitem__(what, done),
    )
    by_type = {entry.type: entry for entry in report.types}
    expected = {**COUNTS, DocumentType.PLAYLIST: COUNTS[DocumentType.PLAYLIST] + 1, DocumentType.PROJECT: 1}
    assert listed == {type.value: count for type, count in expected.items()} | {"membership": 1}
    for type, count in expected.items():
        assert by_type[type].listed == by_type[type].changed == count
    assert by_type[DocumentType.ARTIST].removed == by_type[DocumentType.PROJECT].removed == 1  # the ghosts
    assert report.memberships == maintenance.MembershipReindex(listed=1, added=1, removed=1)
    assert report.queued == sum(expected.values()) + 2  # the ghosts, deleted, are deleted again
    await drain(database, platform.writer)

    clean = await platform.verify(sample=EVERYTHING)
    assert drifts(clean) == {}, drifts(clean)
    assert clean.memberships == maintenance.MembershipDrift(missing=[], stale=[])
    assert summary(clean) == {
        "track": (2871, 2871, 2871, 0),
        "artist": (300, 300, 300, 0),
        "album": (422, 422, 422, 0),
        "playlist": (13, 13, 13, 0),
        "project": (1, 1, 1, 0),
    }
    assert sum(entry.sampled for entry in clean.types) == sum(expected.values())
    async with database.read() as session:
        projected = await DocumentRepository(session).documents(
            [f"playlist:{made.playlist_id}", f"project:{made.project_id}"]
        )
    assert {(d.name, d.tenant_id, d.visibility) for d in projected.values()} == {
        ("Road trip", made.tenant_id, Visibility.TENANT),
        ("Liner notes", made.tenant_id, Visibility.WORKSPACE),
    }
    members = await MembershipRepository.workspaces_of(database, made.tenant_id, made.user_id)
    assert members == [made.workspace_id]

    # Again: nothing changed, everything is queued and pushed once more.
    again = await maintenance.reindex(database, platform.source, [DocumentType.ALBUM])
    assert [(e.listed, e.changed, e.removed, e.queued) for e in again.types] == [(422, 0, 0, 422)]
    assert await maintenance.wait_until_indexed(database, [DocumentType.ALBUM], timeout=0) == 422
    assert await drain(database, platform.writer) == 422
    assert await maintenance.wait_until_indexed(database, [DocumentType.ALBUM], timeout=5) == 0


async def _changed_in_the_projection(database: Database, key: str, name: str) -> None:
    """A change the engine never got (a lost push): the row says indexed."""
    async with database.read() as session:
        [document] = (await DocumentRepository(session).documents([key])).values()
    fields = to_fields(replace(document, name=name))
    async with database.write() as session:
        await session.execute(
            update(SearchDocument)
            .where(col(SearchDocument.key) == key)
            .values(fields=fields, content_hash=content_hash(fields), pending=False)
        )


async def _search_ids(platform: Platform, token: str, query: str, types: list[str]) -> list[str]:
    body = await gql(
        platform.host.client,
        "query($q: String!, $t: [SearchType!]) { search(query: $q, types: $t, mode: KEYWORD, first: 20) "
        "{ edges { node { node { ... on Track { id } ... on Artist { id } ... on Album { id } } } } } }",
        {"q": query, "t": types},
        token=token,
        path="/search/graphql",
    )
    assert "errors" not in body, body
    return [edge["node"]["node"]["id"] for edge in body["data"]["search"]["edges"]]


async def test_verify_finds_each_drift_exactly_and_repair_fixes_it(platform):
    database, writer = platform.database, platform.writer
    await maintenance.reindex(database, platform.source, list(maintenance.CATALOGUE_KINDS))
    await drain(database, writer)
    assert not (await platform.verify(sample=20)).drift

    track, album, artist = SAMPLE["tracks"][7], SAMPLE["albums"][3], SAMPLE["artists"][5]
    await writer.delete([f"track:{track['id']}"])  # missing from the engine
    await _changed_in_the_projection(database, f"album:{album['id']}", "Quokka Sessions")
    ghost = Document(DocumentType.ARTIST, "ghost", "Quokka Ghost", Visibility.PUBLIC, popularity=3)
    await writer.upsert([ghost], None)  # stale: absent from the projection
    async with database.write() as session:  # stale: deleted in the projection, never deleted
        await DocumentRepository(session).mark_deleted(f"artist:{artist['id']}")
        await session.execute(
            update(SearchDocument)
            .where(col(SearchDocument.key) == f"artist:{artist['id']}")
            .values(pending=False)
        )

    report = await platform.verify(sample=EVERYTHING)
    assert drifts(report) == {
        "missing": [f"track:{track['id']}"],
        "stale": sorted(["artist:ghost", f"artist:{artist['id']}"]),
        "changed": {f"album:{album['id']}": ["name"]},
        "source": ["artist"],  # the catalogue still lists the artist the projection deleted
    }
    assert summary(report)["track"] == (2871, 2871, 2870, 0)
    assert summary(report)["artist"] == (300, 299, 301, 0)

    user = await sign_up(platform.host.client, path="/accounts/graphql")
    assert await _search_ids(platform, user["token"], "quokka", ["ARTIST", "ALBUM"]) == ["ghost"]

    repaired = await maintenance.repair(database, platform.reader, report)
    assert repaired == maintenance.RepairReport(requeued=2, deleting=2)
    assert await drain(database, writer) == 4
    fixed = await platform.verify(sample=EVERYTHING)
    assert drifts(fixed) == {"source": ["artist"]}  # the engine is right; the count wants a reindex
    assert await _search_ids(platform, user["token"], "quokka", ["ARTIST", "ALBUM"]) == [album["id"]]
    assert f"track:{track['id']}" in await platform.reader.keys(DocumentType.TRACK)

    # The projection's own drift from its source (the album's name, the artist it deleted)
    # is a reindex's to fix: it writes what the catalogue says.
    again = await maintenance.reindex(database, platform.source, [DocumentType.ARTIST, DocumentType.ALBUM])
    assert [(entry.type, entry.changed) for entry in again.types] == [
        (DocumentType.ARTIST, 1),
        (DocumentType.ALBUM, 1),
    ]
    await drain(database, writer)
    final = await platform.verify(sample=50, rng=random.Random(7))
    assert drifts(final) == {} and summary(final)["artist"] == (300, 300, 300, 0)
    assert await _search_ids(platform, user["token"], "quokka", ["ARTIST", "ALBUM"]) == []


async def test_a_refused_or_unreachable_source_is_a_clear_error(platform):
    user = await sign_up(platform.host.client, path="/accounts/graphql")
    as_user = Sources(
        "/spotify/graphql",
        lambda: {"Authorization": f"Bearer {user['token']}"},
        urls={"collaboration": "/collaboration/graphql"},
        client=platform.host.client,
    )
    for type in (DocumentType.TRACK, DocumentType.PLAYLIST, DocumentType.PROJECT):
        with pytest.raises(SourceError, match="FORBIDDEN"):
            await maintenance.live_count(as_user, type)
    nowhere = Sources("http://127.0.0.1:9/graphql", dict, timeout=2)
    with pytest.raises(SourceError, match="cannot reach"):
        await maintenance.reindex(platform.database, nowhere, [DocumentType.TRACK])
    await nowhere.aclose()


# The CLI, against spotify under uvicorn.


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """The CLI configures logging for its process: give the suite's capture back after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.fixture
def cli_env(settings: Settings, catalogue: Path, monkeypatch, keep_logging) -> Iterator[None]:
    monkeypatch.setenv("ENV", "test")
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(catalogue))
    monkeypatch.setenv("SEARCH_SEMANTIC", "false")
    monkeypatch.delenv("MEILISEARCH_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _cli(*args: str) -> tuple[int, str]:
    """The CLI in a thread (it runs its own loop); the logging it configured for its process
    (a handler on the runner's stderr) is undone as soon as it returns."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    finally:
        root.handlers, root.level = handlers, level
    lines = [line for line in result.output.splitlines() if not line.startswith('{"ts"')]  # log lines
    return result.exit_code, "\n".join(lines)


@asynccontextmanager
async def indexing(database: Database, writer: EmbeddedBackend) -> AsyncIterator[None]:
    """The worker's indexer loop, in the test's event loop, while the CLI runs in a thread."""

    async def loop() -> None:
        while True:
            if not await index_pending(database, writer, 1000):
                await asyncio.sleep(0.05)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


SPOTIFY_TYPES = ("-t", "track", "-t", "artist", "-t", "album", "-t", "playlist")
"""What the spotify subgraph alone is the source of (projects are collaboration's: the
router serves both, `test_router_catalogue_items`)."""


async def test_the_cli_reindexes_verifies_and_repairs(settings, redis_server, database, catalogue, cli_env):
    writer = EmbeddedBackend(catalogue, writable=True)
    try:
        with served_together(["spotify"], settings, redis_server.url) as (_, server):
            url = f"{server.url}/spotify/graphql"
            async with indexing(database, writer):
                code, out = await _cli("search", "reindex", *SPOTIFY_TYPES, "--url", url, "--timeout", "120")
            assert code == 0, out
            assert f"{sum(COUNTS.values())} documents indexed" in out

            code, out = await _cli(
                "search", "verify", *SPOTIFY_TYPES, "--url", url, "--sample", "30", "--seed", "1"
            )
            assert code == 0, out
            assert "no drift" in out and "0/30" in out

            key = f"track:{SAMPLE['tracks'][0]['id']}"
            await writer.delete([key])
            code, out = await _cli(
                "search", "verify", *SPOTIFY_TYPES, "--url", url, "--repair", "--sample", "5"
            )
            assert code == 1, out
            assert f"missing track: {key}" in out
            assert "queued for the indexer: 1 documents to push again (missing or changed), 0 stale" in out

            # No indexer is running: the repair and the playlists stay pending.
            code, out = await _cli("search", "reindex", "-t", "playlist", "--url", url, "--timeout", "0.5")
            assert code == 1 and "12 documents still pending" in out and "worker" in out
            code, out = await _cli("search", "reindex", "-t", "artist", "--url", url, "--no-wait")
            assert code == 0 and "300 documents queued for the indexer" in out, out

            async with indexing(database, writer):
                left = await maintenance.wait_until_indexed(
                    database, list(DocumentType), timeout=60, poll=0.05
                )
            assert left == 0
            code, out = await _cli("search", "verify", *SPOTIFY_TYPES, "--url", url, "--sample", "10")
            assert code == 0, out
    finally:
        await writer.aclose()
    code, out = await _cli("search", "reindex", "--url", "http://127.0.0.1:9/graphql")
    assert code == 2 and "reindex failed: cannot reach" in out
