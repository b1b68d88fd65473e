"""The analytics subgraph's work in the worker: the consumers that keep its fact table and
catalogue (from spotify's events), and the rollup that turns new plays into the rows every
query reads (every 15 s when plays arrived, and nightly in full for the last days)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq import cron
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, utcnow
from shared.domain_events import Consumer, DomainEvent
from shared.events import EventStreams
from subgraphs.analytics.repository import CatalogueRepository, PlayRepository
from subgraphs.analytics.service import rollups, updates

log = logging.getLogger(__name__)
ROLLUP_LOCK = "analytics:rollup:lock"
ROLLUP_LOCK_SECONDS = 600


async def project_plays(session: AsyncSession, event: DomainEvent) -> None:
    if not event.tenant_id:
        return
    payload = event.payload
    await rollups.ingest(
        session, event.tenant_id, payload["user_id"], payload.get("country"), payload["plays"]
    )


async def project_catalogue(session: AsyncSession, event: DomainEvent) -> None:
    kind, items = event.payload["kind"], event.payload["items"]
    catalogue = CatalogueRepository(session)
    if kind == "artist":
        await catalogue.put_artists(items)
    elif kind == "track":
        recredited = await catalogue.put_tracks(items)
        # Plays that arrived before their track did are credited now: their days roll again.
        await rollups.mark_dirty(session, await PlayRepository(session).days_of_tracks(recredited))


CONSUMERS = [
    Consumer("analytics.plays", ("spotify.plays.ingested",), project_plays),
    Consumer("analytics.catalogue", ("spotify.catalogue.upserted",), project_catalogue),
]


async def roll_up(ctx: dict[str, Any]) -> dict[str, Any]:
    """Rolls the dirty days (one worker at a time: a Redis lock), then tells each rolled
    artist's subscribers what changed."""
    redis = ctx["platform_redis"]
    if not await redis.set(ROLLUP_LOCK, "1", nx=True, ex=ROLLUP_LOCK_SECONDS):
        return {"rolled": 0, "busy": True}
    try:
        db: Database = ctx["db"]
        outcome = await rollups.roll_dirty_days(db)
        if outcome.days:
            await updates.announce(db, EventStreams(redis), outcome.days)
            log.info("analytics rolled %d days", outcome.rolled)
        return {"rolled": outcome.rolled, "artistDays": outcome.artist_days}
    finally:
        await redis.delete(ROLLUP_LOCK)


async def reroll_recent_days(ctx: dict[str, Any]) -> dict[str, Any]:
    """Nightly: the last three days roll again, whatever was marked (a safety net)."""
    db: Database = ctx["db"]
    today = utcnow().date()
    async with db.write() as session:
        await rollups.mark_dirty(session, [today - timedelta(days=n) for n in range(3)])
    return await roll_up(ctx)


FUNCTIONS = [roll_up, reroll_recent_days]
CRON_JOBS = [
    cron(roll_up, second={0, 15, 30, 45}, run_at_startup=True, unique=True),
    cron(reroll_recent_days, hour={3}, minute={10}, run_at_startup=False),
]
