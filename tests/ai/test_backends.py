"""The ai subgraph end to end on both databases (SQLite and PostgreSQL): projections from
events, training with the model's weights stored in the registry, recommendations and their
lineage through GraphQL, and drift reports."""

from __future__ import annotations

from typing import Any

from shared.config import Settings
from shared.db import Database
from shared.embeddings import sentence_encoder
from subgraphs.ai.config import AiSettings
from subgraphs.ai.repository import PlayRepository
from subgraphs.ai.service.drift import detect_drift
from subgraphs.ai.service.training import train_recommender
from subgraphs.ai.tasks import project_consent, project_plays
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import generate_listening
from tests.ai.conftest import project_listening, project_sample_catalogue
from tests.support.domain_events import apply, event
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted_together

RECOMMEND = """query($seed: RecommendationSeed!) { recommendations(seed: $seed, first: 10) {
  id modelVersion personalized items { track { id } reasons { kind } } } }"""
SERVED = "query($id: ID!) { servedRecommendations(id: $id) { modelVersion tracks { id } } }"


async def test_projections_training_and_recommendations(
    settings: Settings, database: Database, redis_server: Any
) -> None:
    listening = generate_listening(listeners=40, days=21, seed=11)
    await project_sample_catalogue(database)
    await project_sample_catalogue(database)  # the same events again change nothing
    streams = await project_listening(database, listening)
    await project_listening(database, listening)  # at-least-once delivery: plays are kept once
    outcome = await train_recommender(
        database, AiSettings(), created_by="service:ai", encoder=sentence_encoder()
    )
    assert outcome.promoted and outcome.metrics["ours"]["cases"] > 0
    async with hosted_together(["accounts", "ai"], settings, redis_server.url) as platform:
        account = await sign_up(platform.client, path="/accounts/graphql")
        me = await gql(
            platform.client, "{ me { id tenant { id } } }", token=account["token"], path="/accounts/graphql"
        )
        tenant_id, user_id = me["data"]["me"]["tenant"]["id"], me["data"]["me"]["id"]
        plays = [
            {"track_id": play.track_id, "played_at": play.played_at.isoformat()}
            for play in listening.plays[:60]
        ]
        await apply(
            database,
            project_plays,
            event("spotify.plays.ingested", {"user_id": user_id, "plays": plays}, tenant_id),
        )
        consent = {"user_id": user_id, "consent": "personalization"}
        await apply(database, project_consent, event("accounts.consent.granted", consent, tenant_id))
        for seed in ({"kind": "USER"}, {"kind": "PLAYLIST", "id": load_sample()["playlists"][2]["id"]}):
            body = await gql(
                platform.client, RECOMMEND, {"seed": seed}, token=account["token"], path="/ai/graphql"
            )
            assert "errors" not in body, body
            listed = body["data"]["recommendations"]
            assert listed["modelVersion"] == outcome.version and len(listed["items"]) == 10
            assert listed["personalized"] is (seed["kind"] == "USER")
            served = await gql(
                platform.client, SERVED, {"id": listed["id"]}, token=account["token"], path="/ai/graphql"
            )
            assert served["data"]["servedRecommendations"]["tracks"] == [
                item["track"] for item in listed["items"]
            ]
    reports = await detect_drift(database, encoder=sentence_encoder())
    assert {report.signal for report in reports} == {
        "catalogue_embeddings",
        "recommendation_seeds",
        "search_queries",
        "play_popularity",
    }
    assert streams > 1000


async def test_skips_are_not_taste(database: Database) -> None:
    plays = [
        {"track_id": "t_stream", "played_at": "2026-11-02T10:00:00+00:00", "ms_played": 184_000},
        {"track_id": "t_skip", "played_at": "2026-11-02T10:03:00+00:00", "ms_played": 12_000},
        {"track_id": "t_history", "played_at": "2026-11-02T10:04:00+00:00"},  # Spotify's history: streams
    ]
    payload = {"user_id": "usr_1", "plays": plays}
    await apply(database, project_plays, event("spotify.plays.ingested", payload, "tnt_1"))
    async with database.read() as session:
        kept = await PlayRepository(session, "tnt_1").of_user("usr_1", 10)
    assert sorted(track for track, _ in kept) == ["t_history", "t_stream"]
