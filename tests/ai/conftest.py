"""The ai suite's data: the offline catalogue and a synthetic audience's listening reach ai's
tables through its event handlers (as the worker's consumers apply them), and a recommender
is trained on them once per test session; each test gets its own copy of that database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import pytest

from shared.config import Settings
from shared.db import Database
from shared.embeddings import sentence_encoder
from subgraphs.ai.config import AiSettings
from subgraphs.ai.service.training import TrainingOutcome, train_recommender
from subgraphs.ai.tasks import project_catalogue, project_playlist, project_plays
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import Listening, generate_listening
from tests.support.databases import SqliteFactory
from tests.support.domain_events import apply, event

AUDIENCE_TENANT = "tnt_audience"
"""The synthetic listeners' tenant."""
LISTENERS = 240
DAYS = 60
PLAYS_PER_EVENT = 200


async def project_sample_catalogue(database: Database) -> None:
    """What spotify's `spotify.catalogue.upserted` events carry for the sample (tracks and
    its playlists with their track ids)."""
    sample = load_sample()
    genres = projection.artist_genres(sample["artists"])
    for kind in ("track", "playlist"):
        items = [projection.item(kind, obj, genres) for obj in sample[f"{kind}s"]]
        for start in range(0, len(items), 200):
            chunk = items[start : start + 200]
            await apply(
                database,
                project_catalogue,
                event("spotify.catalogue.upserted", {"kind": kind, "items": chunk}),
            )


async def project_listening(
    database: Database, listening: Listening, tenant_id: str = AUDIENCE_TENANT
) -> int:
    """The audience's streams (plays of 30 s or more) as `spotify.plays.ingested` events and
    its playlists as `spotify.playlist.changed` events. Returns how many plays."""
    streams = sorted((play for play in listening.plays if not play.skipped), key=lambda play: play.user_id)
    count = 0
    for user_id, plays in groupby(streams, key=lambda play: play.user_id):
        batch = [{"track_id": play.track_id, "played_at": play.played_at.isoformat()} for play in plays]
        for start in range(0, len(batch), PLAYS_PER_EVENT):
            chunk = batch[start : start + PLAYS_PER_EVENT]
            payload = {"user_id": user_id, "country": None, "new": len(chunk), "plays": chunk}
            await apply(database, project_plays, event("spotify.plays.ingested", payload, tenant_id))
            count += len(chunk)
    for playlist in listening.playlists:
        payload = {
            "playlist_id": playlist.id,
            "owner_id": playlist.owner_id,
            "public": True,
            "track_ids": list(playlist.track_ids),
            "version": 1,
            "change": "tracks_added",
        }
        await apply(database, project_playlist, event("spotify.playlist.changed", payload, tenant_id))
    return count


@dataclass(frozen=True)
class TrainedData:
    path: Path
    """A SQLite database holding the projections and the trained, promoted recommender."""
    outcome: TrainingOutcome
    listening: Listening
    streams: int


@pytest.fixture(scope="session")
def listening() -> Listening:
    return generate_listening(listeners=LISTENERS, days=DAYS, seed=7)


@pytest.fixture(scope="session")
async def trained_data(sqlite_factory: SqliteFactory, listening: Listening) -> TrainedData:
    url = sqlite_factory.new()
    database = Database(url)
    try:
        await project_sample_catalogue(database)
        streams = await project_listening(database, listening)
        outcome = await train_recommender(
            database, AiSettings(), created_by="service:ai", encoder=sentence_encoder()
        )
    finally:
        await database.dispose()
    return TrainedData(Path(url.removeprefix("sqlite+aiosqlite:///")), outcome, listening, streams)


@pytest.fixture
def trained_url(trained_data: TrainedData, tmp_path: Path) -> str:
    """This test's own copy of the trained database."""
    path = tmp_path / "ai.db"
    shutil.copyfile(trained_data.path, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def ai_settings(trained_url: str, tmp_data: Path) -> Iterator[Settings]:
    yield Settings(env="test", data_dir=tmp_data, database_url=trained_url, log_json=True)
