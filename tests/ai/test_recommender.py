"""The recommender on the synthetic audience: its offline evaluation beats the baselines, its
lists are diversified and capped per artist, every item carries reasons from the data, and an
explanation answers for any track."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from shared.db import Database
from subgraphs.ai.config import AiSettings
from subgraphs.ai.recommender import engine, seeds
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.tasks import project_plays, train_recommender_when_stale
from tests.ai.conftest import AUDIENCE_TENANT, TrainedData
from tests.support.domain_events import apply, event


@pytest.fixture(scope="module")
async def model(trained_data: TrainedData) -> RecommenderModel:
    database = Database(f"sqlite+aiosqlite:///{trained_data.path}")
    try:
        async with database.read() as session:
            registry = ModelRepository(session)
            production = await registry.production("recommender")
            assert production is not None
            artifact = await registry.artifact(production.id)
            assert artifact is not None
            return RecommenderModel.from_bytes(artifact.data)
    finally:
        await database.dispose()


def test_ours_beats_popularity_and_random_offline(trained_data: TrainedData) -> None:
    metrics = trained_data.outcome.metrics
    ours, popular, random = metrics["ours"], metrics["popularity"], metrics["random"]
    assert ours["cases"] > 200
    assert ours["recall@10"] > popular["recall@10"] > random["recall@10"], metrics
    assert ours["ndcg@10"] > popular["ndcg@10"] > random["ndcg@10"], metrics
    assert ours["coverage"] > popular["coverage"]
    for kind in ("user", "playlist"):
        table = metrics["by_kind"][kind]
        assert table["ours"]["ndcg@10"] > table["popularity"]["ndcg@10"], (kind, table)


def test_the_first_model_was_promoted_with_its_data_snapshot(
    trained_data: TrainedData, model: RecommenderModel
) -> None:
    assert trained_data.outcome.promoted
    assert model.version == trained_data.outcome.version
    assert model.als_factors is not None  # enough plays for ALS
    assert model.embeddings.shape == (len(model.tracks), 384)
    assert np.allclose(np.linalg.norm(model.embeddings, axis=1), 1.0, atol=1e-3)


def _user_seed(model: RecommenderModel, trained_data: TrainedData, user: str) -> engine.Seed:
    plays = [
        (play.track_id, int(play.played_at.timestamp()))
        for play in trained_data.listening.plays
        if play.user_id == user and not play.skipped
    ]
    return seeds.history_seed(model, plays)


def test_a_listener_gets_tracks_of_their_taste_with_reasons(
    trained_data: TrainedData, model: RecommenderModel
) -> None:
    listener = trained_data.listening.listeners[0]
    seed = _user_seed(model, trained_data, listener.id)
    items = engine.recommend(model, seed, first=20, diversity=0.3, max_per_artist=3)
    assert len(items) == 20
    positions = [model.index[item.track_id] for item in items]
    assert not set(positions) & seed.exclude  # nothing already played
    in_taste = sum(bool(set(model.tracks[p].genres) & set(listener.taste)) for p in positions)
    assert in_taste >= 14, (in_taste, listener.taste)
    assert max(Counter(a for p in positions for a in model.tracks[p].artist_ids).values()) <= 3
    assert [item.rank for item in items] == list(range(1, 21))
    for item in items:
        assert item.reasons, item
        assert (
            abs(sum(c.share for c in item.contributions if c.rank <= engine.CANDIDATES_PER_SOURCE) - 1) < 1e-3
        )
        kinds = {reason.kind for reason in item.reasons}
        assert kinds & {
            engine.ReasonKind.SIMILAR_TO,
            engine.ReasonKind.PLAYED_TOGETHER,
            engine.ReasonKind.LISTENERS_ALIKE,
            engine.ReasonKind.POPULAR_IN_GENRE,
        }
        for reason in item.reasons:
            for related in reason.related_track_ids:
                assert model.index[related] in set(seed.tracks.tolist())  # only seed tracks are cited


def test_diversity_trades_score_for_variety(trained_data: TrainedData, model: RecommenderModel) -> None:
    seed = _user_seed(model, trained_data, trained_data.listening.listeners[1].id)

    def spread(diversity: float) -> float:
        items = engine.recommend(model, seed, first=20, diversity=diversity, max_per_artist=20)
        vectors = model.embeddings[[model.index[item.track_id] for item in items]]
        similarity = vectors @ vectors.T
        return float(1 - (similarity.sum() - np.trace(similarity)) / (20 * 19))

    assert spread(0.9) > spread(0.0) + 0.02


def test_track_and_artist_seeds(model: RecommenderModel) -> None:
    track = model.tracks[10]
    items = engine.recommend(
        model, seeds.tracks_seed(model, [track.id]), first=10, diversity=0.2, max_per_artist=3
    )
    assert track.id not in {item.track_id for item in items}
    similar = [
        reason for item in items for reason in item.reasons if reason.kind is engine.ReasonKind.SIMILAR_TO
    ]
    assert similar and all(reason.related_track_ids == (track.id,) for reason in similar)
    artist = track.artist_ids[0]
    by_artist = engine.recommend(
        model, seeds.artist_seed(model, artist), first=10, diversity=0.3, max_per_artist=2
    )
    assert sum(artist in model.tracks[model.index[item.track_id]].artist_ids for item in by_artist) <= 2


def test_explanation_of_a_recommended_and_of_an_excluded_track(
    trained_data: TrainedData, model: RecommenderModel
) -> None:
    seed = _user_seed(model, trained_data, trained_data.listening.listeners[2].id)
    items = engine.recommend(model, seed, first=20, diversity=0.3, max_per_artist=3)
    third = items[2]
    explained = engine.explain(
        model, seed, model.index[third.track_id], first=20, diversity=0.3, max_per_artist=3
    )
    assert explained.rank == 3
    assert explained.reasons == third.reasons
    played = int(next(iter(seed.exclude)))
    excluded = engine.explain(model, seed, played, first=20, diversity=0.3, max_per_artist=3)
    assert excluded.rank is None
    assert excluded.reasons[0].kind is engine.ReasonKind.EXCLUDED


def test_the_artifact_round_trips(model: RecommenderModel) -> None:
    again = RecommenderModel.from_bytes(model.to_bytes())
    assert again.version == model.version
    assert again.tracks == model.tracks
    assert (again.cooccurrence != model.cooccurrence).nnz == 0
    assert again.als_factors is not None and model.als_factors is not None
    assert np.array_equal(again.als_factors, model.als_factors)


async def test_the_worker_retrains_only_when_the_data_grew(
    trained_url: str, trained_data: TrainedData
) -> None:
    database = Database(trained_url)
    ctx = {"db": database, "subgraph_settings": {"ai": AiSettings()}, "platform_redis": None}
    try:
        assert await train_recommender_when_stale(ctx) == {"trained": False}
        plays = [
            {"track_id": play.track_id, "played_at": (play.played_at + timedelta(days=400)).isoformat()}
            for play in trained_data.listening.plays
            if not play.skipped
        ]
        for start in range(0, len(plays), 5_000):
            payload = {"user_id": f"listener-later-{start}", "plays": plays[start : start + 5_000]}
            await apply(database, project_plays, event("spotify.plays.ingested", payload, AUDIENCE_TENANT))
        retrained = await train_recommender_when_stale(ctx)
        assert retrained["version"] != trained_data.outcome.version
        async with database.read() as session:
            production = await ModelRepository(session).production("recommender")
        assert production is not None and production.snapshot["plays"] == 2 * trained_data.streams
    finally:
        await database.dispose()
