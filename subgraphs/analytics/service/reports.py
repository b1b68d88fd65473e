"""Reports a manager would send: asked for (`createReport`) or scheduled (weekly, monthly),
rendered by a job (charts with the forecast band, a PDF, a CSV of the series), stored as
assets through the storage subgraph's own upload flow with a service token acting for the
tenant, listed with their assets, and announced (`analytics.report.ready`)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.auth.principal import acting_user, tenant_of
from shared.context import RequestContext
from shared.db import new_id, utcnow
from shared.errors import BadUserInput, Conflict, NotFound, Unavailable
from shared.graph import GraphClient
from shared.mutations import UnitOfWork
from subgraphs.analytics.models import AnalyticsReport, AnalyticsReportSchedule
from subgraphs.analytics.reports import (
    Band,
    Ranked,
    RenderedFile,
    ReportData,
    ReportFormat,
    Section,
    SeriesPoint,
    Total,
    render,
)
from subgraphs.analytics.repository import MetricsRepository, ReportRepository, ScheduleRepository
from subgraphs.analytics.service import insights
from subgraphs.analytics.service.claims import require_claimed
from subgraphs.analytics.service.metrics import Granularity, Window, read_artist

QUEUED, RUNNING, READY, FAILED = "QUEUED", "RUNNING", "READY", "FAILED"
WEEKLY, MONTHLY = "WEEKLY", "MONTHLY"
REPORT_JOB = "render_report"
UPLOAD_SCOPES = ("storage:read", "storage:write")
FORECAST_DAYS = 28
"""How far the streams chart's forecast band reaches past the report's last day."""
MAX_REPORTS_LISTED = 100

CREATE_UPLOAD = """mutation AnalyticsReportUpload($input: CreateUploadInput!) {
  createUpload(input: $input) { asset { id } upload { url method headers { name value } } } }"""
COMPLETE_UPLOAD = """mutation AnalyticsReportComplete($id: ID!) {
  completeUpload(id: $id) { asset { id status } } }"""


def _sections(report_format: ReportFormat, sections: Sequence[Section]) -> list[str]:
    chosen = [section for section in Section if section in set(sections)]
    if report_format in (ReportFormat.PDF, ReportFormat.PNG) and not chosen:
        raise BadUserInput("A PDF or PNG report needs at least one section", field="sections")
    return [section.value for section in chosen or list(Section)]


async def create_report(
    uow: UnitOfWork,
    context: RequestContext,
    artist_id: str,
    span: Window,
    report_format: ReportFormat,
    sections: Sequence[Section],
) -> tuple[AnalyticsReport, jobs.JobHandle]:
    """Records the report (QUEUED) and enqueues its job; FORBIDDEN for an unclaimed artist."""
    tenant_id, user_id = acting_user(context.principal)
    await require_claimed(uow.session, tenant_id, artist_id)
    row = ReportRepository(uow.session, tenant_id).add(
        AnalyticsReport(
            id=new_id("rpt"),
            tenant_id=tenant_id,
            artist_id=artist_id,
            start=span.first,
            end=span.last,
            format=report_format.value,
            sections=_sections(report_format, sections),
            status=QUEUED,
            requested_by=user_id,
        )
    )
    await uow.session.flush()
    uow.target_id = row.id
    handle = await _enqueue(context, row)
    return row, handle


async def _enqueue(context: RequestContext, row: AnalyticsReport) -> jobs.JobHandle:
    queue = context.runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    return await jobs.enqueue_once(
        context.runtime.redis,
        queue,
        kind="analytics.report",
        function=REPORT_JOB,
        owner_id=row.requested_by,
        tenant_id=row.tenant_id,
        unique_key=f"analytics-report:{row.id}",
        report_id=row.id,
        _defer_by=0.2,  # after the request's transaction commits
    )


async def reports(context: RequestContext, artist_id: str, limit: int) -> Sequence[AnalyticsReport]:
    tenant_id = tenant_of(context.principal)
    if not 1 <= limit <= MAX_REPORTS_LISTED:
        raise BadUserInput(f"first must be 1 to {MAX_REPORTS_LISTED}", field="first")
    session = await context.session()
    await require_claimed(session, tenant_id, artist_id)
    return await ReportRepository(session, tenant_id).of_artist(artist_id, limit)


async def report(context: RequestContext, report_id: str) -> AnalyticsReport:
    tenant_id = tenant_of(context.principal)
    session = await context.session()
    row = await ReportRepository(session, tenant_id).get(report_id)
    if row is None:
        raise NotFound("No such report", id=report_id)
    await require_claimed(session, tenant_id, row.artist_id)
    return row


async def schedule_report(
    uow: UnitOfWork,
    context: RequestContext,
    artist_id: str,
    frequency: str,
    report_format: ReportFormat,
    sections: Sequence[Section],
) -> AnalyticsReportSchedule:
    tenant_id, user_id = acting_user(context.principal)
    await require_claimed(uow.session, tenant_id, artist_id)
    schedules = ScheduleRepository(uow.session, tenant_id)
    if any(row.frequency == frequency for row in await schedules.of_artist(artist_id)):
        raise Conflict(
            f"A {frequency.lower()} report of this artist is already scheduled", artistId=artist_id
        )
    row = schedules.add(
        AnalyticsReportSchedule(
            id=new_id("rsc"),
            tenant_id=tenant_id,
            artist_id=artist_id,
            frequency=frequency,
            format=report_format.value,
            sections=_sections(report_format, sections),
            created_by=user_id,
        )
    )
    await uow.session.flush()
    uow.target_id = row.id
    return row


async def cancel_schedule(
    uow: UnitOfWork, context: RequestContext, schedule_id: str
) -> AnalyticsReportSchedule:
    tenant_id, _ = acting_user(context.principal)
    schedules = ScheduleRepository(uow.session, tenant_id)
    row = await schedules.get(schedule_id)
    if row is None:
        raise NotFound("No such report schedule", id=schedule_id)
    await uow.session.delete(row)
    uow.target_id = row.id
    return row


async def schedules(context: RequestContext, artist_id: str) -> Sequence[AnalyticsReportSchedule]:
    tenant_id = tenant_of(context.principal)
    session = await context.session()
    await require_claimed(session, tenant_id, artist_id)
    return await ScheduleRepository(session, tenant_id).of_artist(artist_id)


def due_period(frequency: str, today: date) -> tuple[date, date]:
    """The last complete week (Monday to Sunday) or calendar month before `today`."""
    if frequency == WEEKLY:
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


async def report_data(session: AsyncSession, row: AnalyticsReport, generated_at: datetime) -> ReportData:
    """What the renderer draws: the artist's numbers over the report's range and a forecast of
    its streams from the year before the range's end."""
    span = Window(row.start, row.end)
    found = await read_artist(session, row.artist_id, span, Granularity.DAY, 10)
    history_from = row.end - timedelta(days=364)
    days = await MetricsRepository(session).artist_days(row.artist_id, history_from, row.end)
    history = insights.daily({day.day: day.streams for day in days}, history_from, 365)
    band = None
    if found.data_from is not None and history.any():
        trimmed = history[max(0, (found.data_from - history_from).days) :]
        predicted = await asyncio.to_thread(insights.fit_forecast, trimmed, FORECAST_DAYS)
        band = Band(
            days=[row.end + timedelta(days=n + 1) for n in range(FORECAST_DAYS)],
            point=predicted.point.tolist(),
            lower80=predicted.lower80.tolist(),
            upper80=predicted.upper80.tolist(),
            lower95=predicted.lower95.tolist(),
            upper95=predicted.upper95.tolist(),
        )
    totals = found.totals

    def total(label: str, key: str) -> Total:
        value = totals[key]
        return Total(label, value.value, value.previous, value.change_ratio)

    def ranked(key: str) -> list[Ranked]:
        return [Ranked(item.label, item.streams, item.share) for item in found.breakdowns[key]]

    def points(key: str) -> list[SeriesPoint]:
        return [SeriesPoint(point.day, point.value) for point in found.series[key]]

    return ReportData(
        artist_name=found.name,
        start=row.start,
        end=row.end,
        generated_at=generated_at,
        streams=points("streams"),
        listeners=points("listeners"),
        monthly_listeners=points("monthly_listeners"),
        streams_forecast=band,
        totals=[
            total("Streams", "streams"),
            total("Listeners", "listeners"),
            total("Monthly listeners", "monthly_listeners"),
        ],
        top_tracks=ranked("tracks"),
        countries=ranked("country"),
        sources=ranked("source"),
    )


def rendered(data: ReportData, row: AnalyticsReport) -> list[RenderedFile]:
    return render(data, [Section(value) for value in row.sections], ReportFormat(row.format))


@dataclass(frozen=True)
class StoredFile:
    asset_id: str
    filename: str
    content_type: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {
            "assetId": self.asset_id,
            "filename": self.filename,
            "contentType": self.content_type,
            "bytes": self.size,
        }


async def store(
    graph: GraphClient, http: httpx.AsyncClient, tenant_id: str, file: RenderedFile
) -> StoredFile:
    """Uploads one file as a client does: createUpload, PUT the bytes where it says, completeUpload."""
    content_type = file.content_type.split(";", 1)[0]
    created = await graph.query(
        tenant_id,
        "storage",
        CREATE_UPLOAD,
        {
            "input": {
                "kind": "REPORT",
                "contentType": content_type,
                "size": len(file.content),
                "checksum": hashlib.sha256(file.content).hexdigest(),
                "filename": file.filename,
            }
        },
    )
    upload = created.get("createUpload")
    if not upload:
        raise Unavailable("storage refused the report's upload")
    target = upload["upload"]
    headers = {header["name"]: header["value"] for header in target["headers"]}
    response = await http.request(target["method"], target["url"], content=file.content, headers=headers)
    if response.status_code >= 300:
        raise Unavailable(f"the report's upload answered HTTP {response.status_code}")
    asset_id = upload["asset"]["id"]
    completed = await graph.query(tenant_id, "storage", COMPLETE_UPLOAD, {"id": asset_id})
    if not (completed.get("completeUpload") or {}).get("asset"):
        raise Unavailable("storage did not accept the report's bytes")
    return StoredFile(asset_id, file.filename, content_type, len(file.content))


def now() -> datetime:
    return utcnow()
