"""Drift checks of the production recommender (a scheduled job): catalogue items that arrived
after it was trained, the seeds of recommendations asked for and the search queries sampled
since it was promoted, and plays since its training data ended, each compared with what it
was trained on. Reports are kept;
a warning or an alert is announced as a domain event."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from redis.asyncio import Redis
from sqlalchemy import select
from sqlmodel import col

from shared.db import Database, new_id
from shared.domain_events import emit
from shared.embeddings import DIMENSIONS, SentenceEncoder, cached_embeddings, model_version, sentence_encoder
from subgraphs.ai import domain_events as de
from subgraphs.ai.models import (
    AiDriftReport,
    AiModel,
    AiPlay,
    AiPlaylist,
    AiQuerySample,
    AiRecommendationLog,
    AiTrack,
)
from subgraphs.ai.recommender.drift import (
    Comparison,
    EmbeddingReference,
    Level,
    compare_plays,
    popularity_deciles,
)
from subgraphs.ai.recommender.model import Floats, RecommenderModel
from subgraphs.ai.recommender.store import RECOMMENDER
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.service.training import track_text, writing

REFERENCE_PLAYS = 50_000
"""The latest training-window plays the play popularity is compared with."""
RECENT_LIMIT = 20_000


async def _production(db: Database) -> tuple[AiModel, RecommenderModel] | None:
    async with db.read() as session:
        registry = ModelRepository(session)
        production = await registry.production(RECOMMENDER)
        artifact = await registry.artifact(production.id) if production is not None else None
    if production is None or artifact is None:
        return None
    return production, await asyncio.to_thread(RecommenderModel.from_bytes, artifact.data)


async def _new_tracks(
    db: Database, encoder: SentenceEncoder, model: RecommenderModel, since: datetime
) -> Floats:
    async with db.read() as session:
        rows = (
            (
                await session.execute(
                    select(AiTrack).where(col(AiTrack.updated_at) > since).limit(RECENT_LIMIT)
                )
            )
            .scalars()
            .all()
        )
    fresh = [row for row in rows if row.id not in model.index]
    if not fresh:
        return np.zeros((0, model.embeddings.shape[1]), dtype=np.float32)
    return await cached_embeddings(db, encoder, [track_text(row) for row in fresh])


def _unit(vector: Floats) -> Floats:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


async def _seed_vectors(db: Database, model: RecommenderModel, since: datetime) -> Floats:
    """The seeds asked for since the promotion (tracks, artists, playlists: not users or
    projects, which are personal), each as the unit mean of its tracks' vectors."""
    async with db.read() as session:
        seeds = (
            await session.execute(
                select(col(AiRecommendationLog.seed_kind), col(AiRecommendationLog.seed_id))
                .where(
                    col(AiRecommendationLog.created_at) > since,
                    col(AiRecommendationLog.seed_kind).in_(["track", "artist", "playlist"]),
                )
                .limit(RECENT_LIMIT)
            )
        ).all()
        playlist_ids = {seed_id for kind, seed_id in seeds if kind == "playlist"}
        playlists = {
            row.id: row.track_ids
            for row in (
                await session.execute(select(AiPlaylist).where(col(AiPlaylist.id).in_(playlist_ids)))
            ).scalars()
        }
    vectors = []
    for kind, seed_id in seeds:
        if seed_id is None:
            continue
        if kind == "track":
            positions = [model.index[seed_id]] if seed_id in model.index else []
        elif kind == "artist":
            positions = model.tracks_of_artist.get(seed_id, [])
        else:
            positions = [model.index[t] for t in playlists.get(seed_id, []) if t in model.index]
        if positions:
            vectors.append(_unit(model.embeddings[positions].mean(axis=0)))
    return np.array(vectors, dtype=np.float32).reshape(-1, model.embeddings.shape[1])


async def _search_queries(db: Database, since: datetime) -> Floats:
    """Sampled search query vectors since the promotion, of the sentence model in use."""
    async with db.read() as session:
        rows = (
            (
                await session.execute(
                    select(col(AiQuerySample.vector))
                    .where(
                        col(AiQuerySample.sampled_at) > since,
                        col(AiQuerySample.model_version) == model_version(),
                    )
                    .limit(RECENT_LIMIT)
                )
            )
            .scalars()
            .all()
        )
    return np.array([np.frombuffer(row, dtype="<f4") for row in rows], dtype=np.float32).reshape(
        -1, DIMENSIONS
    )


async def _plays(
    db: Database, model: RecommenderModel, until: datetime | None
) -> tuple[np.ndarray, np.ndarray]:
    """(reference, recent) plays as track positions: the latest of the training window, and
    those after it."""
    async with db.read() as session:
        reference_stmt = (
            select(col(AiPlay.track_id)).order_by(col(AiPlay.played_at).desc()).limit(REFERENCE_PLAYS)
        )
        recent_stmt = select(col(AiPlay.track_id)).limit(RECENT_LIMIT)
        if until is not None:
            reference_stmt = reference_stmt.where(col(AiPlay.played_at) <= until)
            recent_stmt = recent_stmt.where(col(AiPlay.played_at) > until)
        reference = list((await session.execute(reference_stmt)).scalars())
        recent = list((await session.execute(recent_stmt)).scalars()) if until is not None else []

    def positions(tracks: Sequence[str]) -> np.ndarray:
        return np.array([model.index[t] for t in tracks if t in model.index], dtype=np.int64)

    return positions(reference), positions(recent)


def _report(row: AiModel, signal: str, comparison: Comparison) -> AiDriftReport:
    return AiDriftReport(
        id=new_id("drf"),
        model_name=row.name,
        model_version=row.version,
        signal=signal,
        psi=None if comparison.psi is None else round(comparison.psi, 6),
        centroid_shift=comparison.centroid_shift,
        reference_count=comparison.reference_count,
        recent_count=comparison.recent_count,
        level=comparison.level.value,
        details={"reference_share": comparison.reference_share, "recent_share": comparison.recent_share},
    )


async def detect_drift(
    db: Database, encoder: SentenceEncoder | None = None, redis: Redis | None = None
) -> list[AiDriftReport]:
    """Checks the production recommender on each signal; returns the reports stored."""
    found = await _production(db)
    if found is None:
        return []
    row, model = found
    reference = await asyncio.to_thread(EmbeddingReference.fit, model.embeddings)
    until = datetime.fromisoformat(row.snapshot["to"]) if row.snapshot.get("to") else None
    reference_plays, recent_plays = await _plays(db, model, until)
    comparisons = {
        "catalogue_embeddings": reference.compare(
            await _new_tracks(db, encoder or sentence_encoder(), model, row.created_at)
        ),
        "recommendation_seeds": reference.compare(await _seed_vectors(db, model, row.stage_changed_at)),
        "search_queries": reference.compare(await _search_queries(db, row.stage_changed_at)),
        "play_popularity": compare_plays(
            model.popularity, popularity_deciles(model.popularity), reference_plays, recent_plays
        ),
    }
    reports = [_report(row, signal, comparison) for signal, comparison in comparisons.items()]
    async with writing(db, redis) as session:
        for report in reports:
            session.add(report)
            if report.level in (Level.WARNING, Level.ALERT) and report.psi is not None:
                emit(
                    session,
                    de.DriftDetected(
                        tenant_id=None,
                        actor_id="service:ai",
                        report_id=report.id,
                        name=row.name,
                        version=row.version,
                        signal=report.signal,
                        level=report.level,
                        psi=report.psi,
                    ),
                )
    return reports


async def latest(db: Database, name: str, limit: int) -> Sequence[AiDriftReport]:
    async with db.read() as session:
        stmt = (
            select(AiDriftReport)
            .where(col(AiDriftReport.model_name) == name)
            .order_by(col(AiDriftReport.created_at).desc(), col(AiDriftReport.id).desc())
            .limit(limit)
        )
        return (await session.execute(stmt)).scalars().all()
