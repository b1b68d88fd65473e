"""The analytics subgraph's work in the worker: the consumers that keep its fact table and
catalogue (from spotify's events), and the rollup that turns new plays into the rows every
query reads (every 15 s when plays arrived, and nightly in full for the last days)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

import httpx
from arq import Retry, cron
from redis.exceptions import LockError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.auth.service_tokens import ServiceTokens
from shared.db import Database, new_id, utcnow
from shared.domain_events import Consumer, DomainEvent, emit, transaction
from shared.events import EventStreams
from shared.graph import GraphClient
from shared.jobs import settings_of
from subgraphs.analytics import domain_events as de
from subgraphs.analytics.config import AnalyticsSettings
from subgraphs.analytics.models import AnalyticsReport
from subgraphs.analytics.repository import (
    CatalogueRepository,
    PlayRepository,
    ReportRepository,
    all_schedules,
)
from subgraphs.analytics.service import reports, rollups, updates

log = logging.getLogger(__name__)
ROLLUP_LOCK = "analytics:rollup:lock"
ROLLUP_LEASE_SECONDS = 300
"""Renewed after each round of days (a round took 34 s at 10 million plays): a first rollup
may run for many minutes, and a worker that died frees the lock within this."""


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
    """Rolls the dirty days, one worker at a time (a Redis lock whose lease is renewed after
    each round; a worker that lost it stops rather than roll beside the next), then tells
    each rolled artist's subscribers what changed."""
    redis = ctx["platform_redis"]
    lease = redis.lock(ROLLUP_LOCK, timeout=ROLLUP_LEASE_SECONDS, blocking=False)
    if not await lease.acquire():
        return {"rolled": 0, "busy": True}
    try:
        db: Database = ctx["db"]
        quiet = settings_of(ctx, "analytics", AnalyticsSettings).analytics_rollup_quiet_seconds
        outcome = await rollups.roll_dirty_days(db, quiet_seconds=quiet, after_round=lease.reacquire)
        if outcome.days:
            await updates.announce(db, EventStreams(redis), outcome.days)
            log.info("analytics rolled %d days", outcome.rolled)
        return {"rolled": outcome.rolled, "artistDays": outcome.artist_days}
    finally:
        with suppress(LockError):  # lost to expiry: the lock is someone else's now
            await lease.release()


async def reroll_recent_days(ctx: dict[str, Any]) -> dict[str, Any]:
    """Nightly: the last three days roll again, whatever was marked (a safety net)."""
    db: Database = ctx["db"]
    today = utcnow().date()
    async with db.write() as session:
        await rollups.mark_dirty(session, [today - timedelta(days=n) for n in range(3)])
    return await roll_up(ctx)


def _graph(ctx: dict[str, Any]) -> tuple[GraphClient, httpx.AsyncClient]:
    """The storage subgraph through the platform's graph, as the tenant's `service:analytics`."""
    if "analytics_graph" not in ctx:
        platform = ctx["settings"]
        tokens = ServiceTokens.from_settings(platform)
        url = settings_of(ctx, "analytics", AnalyticsSettings).graph_url(platform)
        http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        ctx["analytics_graph"] = (
            GraphClient(
                lambda _: url, lambda tenant: tokens.headers("analytics", reports.UPLOAD_SCOPES, tenant), http
            ),
            http,
        )
    found: tuple[GraphClient, httpx.AsyncClient] = ctx["analytics_graph"]
    return found


async def render_report(
    ctx: dict[str, Any], *, job_id: str, tenant_id: str, report_id: str
) -> dict[str, Any]:
    """Renders a report, stores its files as assets, marks it READY and announces it. A failure
    retries (arq) and, on the last try, marks it FAILED and announces that."""
    db: Database = ctx["db"]
    redis = ctx["platform_redis"]
    async with db.write() as session:
        row = await ReportRepository(session, tenant_id).get(report_id)
        if row is None:
            raise Retry(defer=1)  # the request that created it has not committed yet
        if row.status == reports.READY:
            return {"report": report_id, "status": row.status}
        row.status = reports.RUNNING
        session.add(row)
    await jobs.report(redis, job_id, "RUNNING", 0.1, "rendering", attempt=ctx.get("job_try", 1))
    try:
        async with db.read() as session:
            row = await ReportRepository(session, tenant_id).get(report_id)
            if row is None:
                raise RuntimeError("the report was deleted while it was being rendered")
            data = await reports.report_data(session, row, utcnow())
        files = await asyncio.to_thread(reports.rendered, data, row)
        await jobs.report(redis, job_id, "RUNNING", 0.6, "storing")
        graph, http = _graph(ctx)
        stored = [await reports.store(graph, http, tenant_id, file) for file in files]
    except Exception as error:
        last_try = ctx.get("job_try", 1) >= jobs.MAX_TRIES
        if last_try:
            await _finish(db, redis, tenant_id, report_id, [], f"{type(error).__name__}")
            await jobs.report(redis, job_id, "FAILED", 1.0, f"failed: {type(error).__name__}")
        else:
            await jobs.report(redis, job_id, "RETRYING", 0.0, f"will retry: {type(error).__name__}")
        log.warning("report not rendered", extra={"report": report_id, "error": type(error).__name__})
        raise
    await _finish(db, redis, tenant_id, report_id, stored, None)
    await jobs.report(
        redis, job_id, "COMPLETED", 1.0, "report ready", assets=[file.asset_id for file in stored]
    )
    return {"report": report_id, "files": len(stored)}


async def _finish(
    db: Database,
    redis: Any,
    tenant_id: str,
    report_id: str,
    stored: list[reports.StoredFile],
    error: str | None,
) -> None:
    async with transaction(db, redis) as session:
        row = await ReportRepository(session, tenant_id).get(report_id)
        if row is None:
            return
        row.status = reports.FAILED if error else reports.READY
        row.files = [file.as_json() for file in stored]
        row.error = error
        row.completed_at = utcnow()
        session.add(row)
        artist = await CatalogueRepository(session).artist(row.artist_id)
        artist_name = artist.name if artist else row.artist_id
        if error:
            emit(
                session,
                de.ReportFailed(
                    tenant_id=tenant_id,
                    report_id=row.id,
                    artist_id=row.artist_id,
                    requested_by=row.requested_by,
                    reason=error,
                    artist_name=artist_name,
                ),
            )
        else:
            emit(
                session,
                de.ReportReady(
                    tenant_id=tenant_id,
                    report_id=row.id,
                    artist_id=row.artist_id,
                    requested_by=row.requested_by,
                    format=row.format,
                    asset_ids=[file.asset_id for file in stored],
                    schedule_id=row.schedule_id,
                    artist_name=artist_name,
                ),
            )


async def render_scheduled_reports(ctx: dict[str, Any]) -> dict[str, Any]:
    """Daily: each schedule whose period (last week, last month) has not been rendered gets its
    report, once (the schedule records the period it rendered)."""
    db: Database = ctx["db"]
    redis = ctx["platform_redis"]
    today = utcnow().date()
    queued = 0
    async with db.write() as session:
        for schedule in await all_schedules(session):
            first, last = reports.due_period(schedule.frequency, today)
            if schedule.last_period_start == first:
                continue
            row = AnalyticsReport(
                id=new_id("rpt"),
                tenant_id=schedule.tenant_id,
                artist_id=schedule.artist_id,
                start=first,
                end=last,
                format=schedule.format,
                sections=list(schedule.sections),
                status=reports.QUEUED,
                requested_by=schedule.created_by,
                schedule_id=schedule.id,
            )
            session.add(row)
            schedule.last_period_start = first
            session.add(schedule)
            queued += 1
            await session.flush()
            await jobs.enqueue_once(
                redis,
                ctx["redis"],
                kind="analytics.report",
                function="render_report",
                owner_id=schedule.created_by,
                tenant_id=schedule.tenant_id,
                unique_key=f"analytics-report:{row.id}",
                report_id=row.id,
                _defer_by=1,
            )
    return {"queued": queued}


FUNCTIONS: list[Callable[..., Any]] = [roll_up, reroll_recent_days, render_report, render_scheduled_reports]
CRON_JOBS = [
    cron(roll_up, second={0, 15, 30, 45}, run_at_startup=True, unique=True),
    cron(reroll_recent_days, hour={3}, minute={10}, run_at_startup=False),
    cron(render_scheduled_reports, hour={6}, minute={0}, run_at_startup=True),
]
