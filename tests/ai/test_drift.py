"""Drift: a synthetic shift trips the alert and a resample of the reference does not, for the
embedding clusters and for the plays' popularity; the job stores reports for the production
model, announces an alert as a domain event, and `modelDrift` reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import Database
from shared.embeddings import model_version
from subgraphs.ai.recommender.drift import (
    ALERT_PSI,
    WARNING_PSI,
    EmbeddingReference,
    Level,
    compare_plays,
    popularity_deciles,
)
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.service.drift import detect_drift
from subgraphs.ai.tasks import keep_query_sample, project_plays
from tests.ai.conftest import AUDIENCE_TENANT, TrainedData
from tests.support.domain_events import apply, domain_stream, event
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted_together

DRIFT = "{ modelDrift { signal level psi centroidShift recentCount referenceCount } }"


async def _model(database: Database) -> RecommenderModel:
    async with database.read() as session:
        registry = ModelRepository(session)
        production = await registry.production("recommender")
        assert production is not None
        artifact = await registry.artifact(production.id)
        assert artifact is not None
        return RecommenderModel.from_bytes(artifact.data)


async def test_embedding_clusters_alert_on_a_shift_and_not_on_a_resample(trained_data: TrainedData) -> None:
    database = Database(f"sqlite+aiosqlite:///{trained_data.path}")
    try:
        model = await _model(database)
    finally:
        await database.dispose()
    reference = EmbeddingReference.fit(model.embeddings)
    rng = np.random.default_rng(3)
    resample = model.embeddings[rng.choice(len(model.embeddings), size=600, replace=True)]
    calm = reference.compare(resample)
    assert calm.psi is not None and calm.psi < WARNING_PSI and calm.level is Level.OK
    genre = model.tracks[0].genres[0]
    one_genre = np.array([p for p, track in enumerate(model.tracks) if genre in track.genres])
    shifted = reference.compare(model.embeddings[rng.choice(one_genre, size=600, replace=True)])
    assert shifted.psi is not None and shifted.psi >= ALERT_PSI and shifted.level is Level.ALERT
    assert shifted.centroid_shift is not None and calm.centroid_shift is not None
    assert shifted.centroid_shift > 5 * calm.centroid_shift
    assert reference.compare(resample[:10]).level is Level.INSUFFICIENT


async def test_play_popularity_alerts_on_a_shift_and_not_on_a_resample(trained_data: TrainedData) -> None:
    database = Database(f"sqlite+aiosqlite:///{trained_data.path}")
    try:
        model = await _model(database)
    finally:
        await database.dispose()
    edges = popularity_deciles(model.popularity)
    plays = np.array(
        [model.index[p.track_id] for p in trained_data.listening.plays if not p.skipped], dtype=np.int64
    )
    rng = np.random.default_rng(5)
    calm = compare_plays(model.popularity, edges, plays, rng.choice(plays, size=5_000))
    assert calm.psi is not None and calm.psi < WARNING_PSI
    obscure = np.argsort(model.popularity)[: len(model.popularity) // 5]
    shifted = compare_plays(model.popularity, edges, plays, rng.choice(obscure, size=5_000).astype(np.int64))
    assert shifted.psi is not None and shifted.psi >= ALERT_PSI


async def test_the_job_reports_alerts_and_announces_them(
    ai_settings: Settings, redis_server: Any, trained_data: TrainedData
) -> None:
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.flushall()
    database = Database(ai_settings.resolved_database_url)
    try:
        model = await _model(database)
        last = max(play.played_at for play in trained_data.listening.plays if not play.skipped)
        obscure = [model.tracks[p].id for p in np.argsort(model.popularity)[:200]]
        plays = [
            {
                "track_id": obscure[n % len(obscure)],
                "played_at": (last + timedelta(minutes=n + 1)).isoformat(),
            }
            for n in range(400)
        ]
        payload = {"user_id": "listener-9001", "country": None, "new": len(plays), "plays": plays}
        await apply(database, project_plays, event("spotify.plays.ingested", payload, AUDIENCE_TENANT))
        genre = model.tracks[0].genres[0]
        one_genre = [p for p, track in enumerate(model.tracks) if genre in track.genres]
        for n, position in enumerate(one_genre[:60]):  # searches all about one genre
            sample = {"model_version": model_version(), "vector": model.embeddings[position].tolist()}
            await apply(database, keep_query_sample, event("search.query.sampled", sample, "tnt_someone", n))
        reports = await detect_drift(database, redis=redis)
        levels = {report.signal: report.level for report in reports}
        assert levels == {
            "catalogue_embeddings": "insufficient",  # no track arrived since training
            "recommendation_seeds": "insufficient",
            "search_queries": "alert",
            "play_popularity": "alert",
        }
        announced = [e for e in await domain_stream(redis, "ai") if e.type == "ai.model.drift_detected"]
        assert sorted((e.payload["signal"], e.payload["level"]) for e in announced) == [
            ("play_popularity", "alert"),
            ("search_queries", "alert"),
        ]
        async with hosted_together(["accounts", "ai"], ai_settings, redis_server.url) as platform:
            account = await sign_up(platform.client, path="/accounts/graphql")
            body = await gql(platform.client, DRIFT, token=account["token"], path="/ai/graphql")
            rows = {row["signal"]: row for row in body["data"]["modelDrift"]}
            assert (
                rows["play_popularity"]["level"] == "ALERT" and rows["play_popularity"]["recentCount"] == 400
            )
            assert rows["play_popularity"]["psi"] >= ALERT_PSI
    finally:
        await database.dispose()
        await redis.aclose()
