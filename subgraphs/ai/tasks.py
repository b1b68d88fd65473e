"""The ai subgraph's work in the worker: domain-event consumers that keep its own tables (the
catalogue's tracks and playlists, plays, platform playlists, projects, memberships, consents),
and the recommender's training (nightly, and at start when nothing is in production)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from arq import cron
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.auth.service_tokens import ServiceTokens
from shared.db import Database, utcnow
from shared.domain_events import Consumer, DomainEvent
from shared.errors import Unavailable
from shared.graph import GraphClient
from shared.jobs import settings_of
from subgraphs.ai.config import AiSettings
from subgraphs.ai.generation import ProviderTuning, create_provider
from subgraphs.ai.models import AiQuerySample
from subgraphs.ai.recommender.store import RECOMMENDER
from subgraphs.ai.repository import (
    CatalogueRepository,
    ConsentRepository,
    MembershipRepository,
    ModelRepository,
    PlaylistRepository,
    PlayRepository,
    ProjectRepository,
    RecommendationLogRepository,
    TrainingDataRepository,
)
from subgraphs.ai.service import drift, generation
from subgraphs.ai.service.training import train_recommender

log = logging.getLogger(__name__)
PERSONALIZATION = "personalization"
STREAM_MS = 30_000
"""A play of at least this long is a stream (Spotify's rule); shorter ones are skips."""


async def project_catalogue(session: AsyncSession, event: DomainEvent) -> None:
    kind, items = event.payload["kind"], event.payload["items"]
    if kind == "track":
        await CatalogueRepository(session).put_tracks(items)
    elif kind == "playlist":
        playlists = PlaylistRepository(session)
        for item in items:
            await playlists.put(
                item["id"], tenant_id=None, owner_id=None, public=True, track_ids=item.get("track_ids") or []
            )


async def project_plays(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    plays = [
        (play["track_id"], datetime.fromisoformat(play["played_at"]))
        for play in payload["plays"]
        if play.get("ms_played", STREAM_MS) >= STREAM_MS  # a skip says nothing of taste
    ]
    await PlayRepository(session, event.tenant_id).add(payload["user_id"], plays)


async def project_playlist(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    await PlaylistRepository(session).put(
        payload["playlist_id"],
        tenant_id=event.tenant_id,
        owner_id=payload.get("owner_id"),
        public=payload["public"],
        track_ids=payload.get("track_ids"),
        version=payload["version"],
    )


async def project_project(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    projects = ProjectRepository(session, event.tenant_id)
    if event.type == "collaboration.project.deleted":
        await projects.set_deleted(payload["project_id"], True, payload["version"])
    elif event.type == "collaboration.project.restored":
        await projects.set_deleted(payload["project_id"], False, payload["version"])
    else:
        track_ids = (payload.get("content") or {}).get("trackIds") or []
        await projects.put(
            payload["project_id"], payload["workspace_id"], payload["title"], track_ids, payload["version"]
        )


async def project_membership(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    members = MembershipRepository(session, event.tenant_id)
    if event.type == "collaboration.member.removed":
        await members.remove(payload["workspace_id"], payload["user_id"])
    else:
        await members.put(payload["workspace_id"], payload["user_id"])


async def project_consent(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    consents = ConsentRepository(session, event.tenant_id)
    if event.type == "accounts.user.signed_up":
        await consents.put(payload["user_id"], PERSONALIZATION in payload["consents"])
    elif payload["consent"] == PERSONALIZATION:
        await consents.put(payload["user_id"], event.type == "accounts.consent.granted")


async def keep_query_sample(session: AsyncSession, event: DomainEvent) -> None:
    payload = event.payload
    vector = np.asarray(payload["vector"], dtype="<f4").tobytes()
    session.add(
        AiQuerySample(model_version=payload["model_version"], vector=vector, sampled_at=event.occurred_at)
    )


CONSUMERS = [
    Consumer("ai.catalogue", ("spotify.catalogue.upserted",), project_catalogue),
    Consumer("ai.plays", ("spotify.plays.ingested",), project_plays),
    Consumer(
        "ai.playlists",
        ("spotify.playlist.created", "spotify.playlist.changed", "spotify.playlist.details_changed"),
        project_playlist,
    ),
    Consumer(
        "ai.projects",
        (
            "collaboration.project.created",
            "collaboration.project.changed",
            "collaboration.project.deleted",
            "collaboration.project.restored",
        ),
        project_project,
    ),
    Consumer(
        "ai.memberships", ("collaboration.member.added", "collaboration.member.removed"), project_membership
    ),
    Consumer("ai.search_queries", ("search.query.sampled",), keep_query_sample),
    Consumer(
        "ai.consents",
        ("accounts.user.signed_up", "accounts.consent.granted", "accounts.consent.revoked"),
        project_consent,
    ),
]


async def train_recommender_job(ctx: dict[str, Any], requested_by: str = "service:ai") -> dict[str, Any]:
    """Trains, evaluates and registers a recommender candidate (promoted by the rule)."""
    outcome = await train_recommender(
        ctx["db"],
        settings_of(ctx, "ai", AiSettings),
        created_by=requested_by,
        redis=ctx.get("platform_redis"),
    )
    log.info("recommender %s trained (promoted: %s)", outcome.version, outcome.promoted)
    return {"version": outcome.version, "promoted": outcome.promoted, "metrics": outcome.metrics}


GROWTH_TO_RETRAIN = 1.5
"""Retrain early when plays or tracks grew by half since the production model's snapshot."""


def _grew(now: int, then: int) -> bool:
    return now >= GROWTH_TO_RETRAIN * then + 1_000


async def train_recommender_when_stale(ctx: dict[str, Any]) -> dict[str, Any]:
    """At start and every two minutes: train when no recommender is in production yet (once
    the catalogue has arrived) or when the data grew well past its snapshot (a fresh `make
    dev` trains on the catalogue first, then again once the sample audience's plays are in)."""
    db: Database = ctx["db"]
    if not settings_of(ctx, "ai", AiSettings).ai_train_at_startup:
        return {"trained": False}
    async with db.read() as session:
        tracks = await CatalogueRepository(session).count()
        plays = await TrainingDataRepository(session).count_plays()
        production = await ModelRepository(session).production(RECOMMENDER)
    if tracks == 0:
        return {"trained": False, "waiting": "catalogue"}
    if production is not None:
        snapshot = production.snapshot
        if not (_grew(plays, snapshot.get("plays", 0)) or _grew(tracks, snapshot.get("tracks", 0))):
            return {"trained": False}
    try:
        return await train_recommender_job(ctx)
    except Unavailable as error:
        return {"trained": False, "waiting": str(error)}


async def check_drift(ctx: dict[str, Any]) -> dict[str, str]:
    """The production recommender's drift reports (hourly)."""
    reports = await drift.detect_drift(ctx["db"], redis=ctx.get("platform_redis"))
    return {report.signal: report.level for report in reports}


async def purge_lineage(ctx: dict[str, Any]) -> dict[str, int]:
    """Served lists older than AI_LINEAGE_DAYS go (daily)."""
    before = utcnow() - timedelta(days=settings_of(ctx, "ai", AiSettings).ai_lineage_days)
    async with ctx["db"].write() as session:
        return {"deleted": await RecommendationLogRepository.purge_before(session, before)}


GENERATION_SCOPES = ("collaboration:read", "spotify:read")


def graph_client(ctx: dict[str, Any]) -> GraphClient:
    """The worker's client for grounding facts: the graph, with a service token acting for
    the generation's tenant (minted once per (tenant, scopes) and renewed before expiry)."""
    if "ai_graph" not in ctx:
        platform = ctx["settings"]
        tokens = ServiceTokens.from_settings(platform)
        url = settings_of(ctx, "ai", AiSettings).graph_url(platform)
        ctx["ai_graph"] = GraphClient(
            lambda subgraph: url, lambda tenant_id: tokens.headers("ai", GENERATION_SCOPES, tenant_id)
        )
    client: GraphClient = ctx["ai_graph"]
    return client


async def generate_content(ctx: dict[str, Any], generation_id: str) -> dict[str, Any]:
    """Grounds, writes and stores one generation (`service/generation.py`)."""
    settings = settings_of(ctx, "ai", AiSettings)
    provider = create_provider(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        tuning=ProviderTuning(
            connect_timeout=settings.llm_connect_timeout, read_timeout=settings.llm_read_timeout
        ),
    )
    try:
        row = await generation.run(
            ctx["db"], ctx["platform_redis"], provider, graph_client(ctx), generation_id
        )
    except Exception:
        if ctx.get("job_try", 1) >= jobs.MAX_TRIES:
            await generation.give_up(ctx["db"], ctx["platform_redis"], generation_id)
        raise  # arq tries again (the generation restarts) until its last try
    finally:
        await provider.aclose()
    return {"status": row.status if row else "missing"}


FUNCTIONS: list[Any] = [train_recommender_job, generate_content, check_drift]
CRON_JOBS = [
    cron(
        train_recommender_job, name="train_recommender_nightly", hour={3}, minute={41}, run_at_startup=False
    ),
    cron(train_recommender_when_stale, minute=set(range(0, 60, 2)), run_at_startup=True),
    cron(check_drift, minute={23}, run_at_startup=False),
    cron(purge_lineage, hour={4}, minute={53}, run_at_startup=False),
]
