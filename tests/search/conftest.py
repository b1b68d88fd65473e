"""The search suite's catalogue: the offline catalogue projected from its events and indexed
(with embeddings) once per test session; each test searches a copy of that index."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.db import Database
from shared.embeddings import sentence_encoder
from subgraphs.search.backends.embedded import EmbeddedBackend
from subgraphs.search.config import SearchSettings
from subgraphs.search.tasks import index_pending, project_catalogue
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import KINDS, load_sample
from tests.support.databases import SqliteFactory
from tests.support.domain_events import apply, event
from tests.support.hosting import hosted_together


async def project_sample_catalogue(database: Database) -> None:
    """What the spotify subgraph's `spotify.catalogue.upserted` events carry for the sample."""
    sample = load_sample()
    genres = {artist["id"]: artist.get("genres") or [] for artist in sample["artists"]}
    for kind in KINDS:
        items = [projection.item(kind, obj, genres) for obj in sample[f"{kind}s"]]
        await apply(
            database, project_catalogue, event("spotify.catalogue.upserted", {"kind": kind, "items": items})
        )


@pytest.fixture(scope="session")
async def catalogue_index(sqlite_factory: SqliteFactory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("search-catalogue") / "index"
    database = Database(sqlite_factory.new())
    writer = EmbeddedBackend(directory, writable=True)
    try:
        await project_sample_catalogue(database)
        while await index_pending(database, writer, 1000, sentence_encoder()):
            pass
    finally:
        await writer.aclose()
        await database.dispose()
    return directory


@pytest.fixture
def catalogue(catalogue_index: Path, tmp_path: Path) -> Path:
    """This test's own copy of the indexed catalogue."""
    directory = tmp_path / "index"
    shutil.copytree(catalogue_index, directory)
    return directory


@asynccontextmanager
async def hosted_search(
    settings: Settings, redis_url: str, index: Path, *, semantic: bool, sample_rate: float = 0.0
) -> AsyncIterator[tuple[Any, EmbeddedBackend]]:
    """accounts and search served together, and the index's writer (the worker's role). No
    query is sampled unless `sample_rate` says (a sampled search writes an event)."""
    config = SearchSettings(
        search_index_dir=index, search_semantic=semantic, search_query_sample_rate=sample_rate
    )
    writer = EmbeddedBackend(index, writable=True)
    try:
        async with hosted_together(
            ["accounts", "search"], settings, redis_url, configs={"search": config}
        ) as hosted:
            yield hosted.client, writer
    finally:
        await writer.aclose()
