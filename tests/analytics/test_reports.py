"""Reports end to end on a real server: a member asks for a PDF report, the job renders it
(charts with the forecast band), stores the PDF and the CSV as assets through the storage
subgraph's upload flow with a service token, marks the report READY and announces it; the
PDF read back from storage turns into a first page that is not blank and carries the artist's
name (pdftoppm, pdftotext). Schedules render their period once; bad input is typed."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from arq.connections import ArqRedis
from matplotlib import image as mpimg
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import Database
from shared.redis import free_port
from subgraphs.analytics.config import AnalyticsSettings
from subgraphs.analytics.models import AnalyticsReportSchedule
from subgraphs.analytics.service.claims import record_verified
from subgraphs.analytics.service.rollups import roll_dirty_days
from subgraphs.analytics.tasks import render_report, render_scheduled_reports, roll_up
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import SyntheticPlay, generate_listening
from subgraphs.storage.config import StorageSettings
from tests.analytics.conftest import project_plays_of, project_sample_catalogue
from tests.support.domain_events import domain_stream
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import served_together
from tests.support.ws import GraphQLWebSocket

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
CREATE = """mutation($i: CreateReportInput!) {
  createReport(input: $i) { jobId report { id status format sections range { from to } } } }"""
REPORTS = """query($artist: ID!) { reports(artistId: $artist) {
  id status error scheduled files { asset { id } filename contentType bytes } } }"""
SCHEDULE = """mutation($i: ScheduleReportInput!) { scheduleReport(input: $i) {
  schedule { id frequency format lastPeriodStart } } }"""
ASSET = "query($id: ID!) { asset(id: $id) { id kind status contentType url } }"


@pytest.fixture
def platform(
    settings: Settings, redis_server: Any, database: Database
) -> Iterator[tuple[dict[str, Any], str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    configs = {
        "storage": StorageSettings(storage_public_url=f"{base}/storage"),
        "analytics": AnalyticsSettings(analytics_graph_url=f"{base}/storage/graphql"),
    }
    with served_together(
        ["accounts", "storage", "analytics"], settings, redis_server.url, configs=configs, port=port
    ) as (runtimes, server):
        yield runtimes, server.url


async def _setup(
    platform: tuple[dict[str, Any], str], database: Database, settings: Settings
) -> dict[str, Any]:
    runtimes, url = platform
    await project_sample_catalogue(database)
    plays = generate_listening(listeners=20, days=45, end=TODAY, seed=3).plays
    await project_plays_of(database, plays)
    await roll_dirty_days(database)
    artist = sorted(load_sample()["artists"], key=lambda a: -a["popularity"])[0]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        member = await sign_up(client, path="/accounts/graphql")
        me = await gql(client, "{ me { tenant { id } } }", token=member["token"], path="/accounts/graphql")
    tenant_id = me["data"]["me"]["tenant"]["id"]
    async with database.write() as session:
        await record_verified(session, tenant_id, [artist["id"]], "test")
    return {"url": url, "token": member["token"], "tenant": tenant_id, "artist": artist, "runtimes": runtimes}


def _ctx(
    world: dict[str, Any], settings: Settings, database: Database, redis: Redis, attempt: int = 1
) -> dict[str, Any]:
    return {
        "db": database,
        "settings": settings,
        "platform_redis": redis,
        "subgraph_settings": {
            "analytics": AnalyticsSettings(
                analytics_graph_url=f"{world['url']}/storage/graphql", analytics_rollup_quiet_seconds=0
            )
        },
        "job_try": attempt,
    }


def _pdf_first_page(pdf: bytes, tmp: Path) -> tuple[np.ndarray, str]:
    assert shutil.which("pdftoppm"), "pdftoppm is missing: make system-deps installs poppler-utils"
    source = tmp / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp / "page")], check=True
    )
    page = next(tmp.glob("page*.png"))
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(source), "-"], check=True, capture_output=True
    )
    return mpimg.imread(page), text.stdout.decode()


async def test_a_pdf_report_is_rendered_stored_as_assets_and_announced(
    platform, database, settings, redis_server, tmp_path
):
    world = await _setup(platform, database, settings)
    artist = world["artist"]
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        async with httpx.AsyncClient(base_url=world["url"], timeout=60) as client:
            created = await gql(
                client,
                CREATE,
                {"i": {"artistId": artist["id"], "last": "DAYS_28", "format": "PDF"}},
                token=world["token"],
                path="/analytics/graphql",
            )
            assert "errors" not in created, created
            report = created["data"]["createReport"]["report"]
            assert report["status"] == "QUEUED" and len(report["sections"]) == 6
            outcome = await render_report(
                _ctx(world, settings, database, redis),
                job_id=created["data"]["createReport"]["jobId"],
                tenant_id=world["tenant"],
                report_id=report["id"],
            )
            assert outcome == {"report": report["id"], "files": 2}
            listed = await gql(
                client, REPORTS, {"artist": artist["id"]}, token=world["token"], path="/analytics/graphql"
            )
            stored = listed["data"]["reports"][0]
            assert stored["status"] == "READY" and stored["error"] is None
            assert [f["contentType"] for f in stored["files"]] == ["application/pdf", "text/csv"]
            pdf_asset, csv_asset = (f["asset"]["id"] for f in stored["files"])
            downloads = {}
            for asset_id in (pdf_asset, csv_asset):
                found = await gql(
                    client, ASSET, {"id": asset_id}, token=world["token"], path="/storage/graphql"
                )
                asset = found["data"]["asset"]
                assert asset["kind"] == "REPORT" and asset["status"] == "READY"
                response = await client.get(asset["url"])
                assert response.status_code == 200
                downloads[asset_id] = response.content
        pixels, text = _pdf_first_page(downloads[pdf_asset], tmp_path)
        assert artist["name"] in text
        assert pixels.std() > 0.05 and (pixels[..., :3] < 0.9).mean() > 0.02  # not a blank page
        rows = list(csv.DictReader(io.StringIO(downloads[csv_asset].decode())))
        in_range = [row for row in rows if row["streams"]]
        assert len(in_range) == 28
        forecast = [row for row in rows if not row["streams"]]
        assert forecast and all(
            float(row["forecast_lower80"]) <= float(row["forecast_upper80"]) for row in forecast
        )
        ready = [
            e
            for e in await domain_stream(redis, "analytics")
            if e.type == "analytics.report.ready" and e.payload["report_id"] == report["id"]
        ]
        assert [e.payload["asset_ids"] for e in ready] == [[pdf_asset, csv_asset]]
    finally:
        await redis.aclose()


async def test_reports_refuse_what_they_cannot_render(platform, database, settings, redis_server):
    world = await _setup(platform, database, settings)
    stranger_artist = sorted(load_sample()["artists"], key=lambda a: -a["popularity"])[1]["id"]
    async with httpx.AsyncClient(base_url=world["url"], timeout=30) as client:

        async def create(**fields: Any) -> dict[str, Any]:
            return await gql(client, CREATE, {"i": fields}, token=world["token"], path="/analytics/graphql")

        assert codes(await create(artistId=stranger_artist)) == ["FORBIDDEN"]
        assert codes(await create(artistId=world["artist"]["id"], sections=[], format="PDF")) == [
            "BAD_USER_INPUT"
        ]
        future = {
            "from": (TODAY + timedelta(days=2)).date().isoformat(),
            "to": (TODAY + timedelta(days=9)).date().isoformat(),
        }
        assert codes(await create(artistId=world["artist"]["id"], range=future)) == ["BAD_USER_INPUT"]
        listed = await gql(
            client,
            REPORTS,
            {"artist": world["artist"]["id"]},
            token=world["token"],
            path="/analytics/graphql",
        )
        assert listed["data"]["reports"] == []


async def test_an_empty_range_renders_an_honest_empty_report(
    platform, database, settings, redis_server, tmp_path
):
    world = await _setup(platform, database, settings)
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        async with httpx.AsyncClient(base_url=world["url"], timeout=60) as client:
            created = await gql(
                client,
                CREATE,
                {
                    "i": {
                        "artistId": world["artist"]["id"],
                        "range": {"from": "2024-01-01", "to": "2024-01-31"},
                    }
                },
                token=world["token"],
                path="/analytics/graphql",
            )
            report = created["data"]["createReport"]
            await render_report(
                _ctx(world, settings, database, redis),
                job_id=report["jobId"],
                tenant_id=world["tenant"],
                report_id=report["report"]["id"],
            )
            listed = await gql(
                client,
                REPORTS,
                {"artist": world["artist"]["id"]},
                token=world["token"],
                path="/analytics/graphql",
            )
            stored = listed["data"]["reports"][0]
            assert stored["status"] == "READY"
            found = await gql(
                client,
                ASSET,
                {"id": stored["files"][0]["asset"]["id"]},
                token=world["token"],
                path="/storage/graphql",
            )
            pdf = (await client.get(found["data"]["asset"]["url"])).content
        _, text = _pdf_first_page(pdf, tmp_path)
        assert "No plays in this period" in text
    finally:
        await redis.aclose()


async def test_a_schedule_renders_its_period_once(platform, database, settings, redis_server):
    world = await _setup(platform, database, settings)
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    arq = ArqRedis.from_url(redis_server.url)
    try:
        async with httpx.AsyncClient(base_url=world["url"], timeout=30) as client:
            schedule = {"artistId": world["artist"]["id"], "frequency": "WEEKLY", "format": "CSV"}
            scheduled = await gql(
                client, SCHEDULE, {"i": schedule}, token=world["token"], path="/analytics/graphql"
            )
            assert "errors" not in scheduled, scheduled
            again = await gql(
                client, SCHEDULE, {"i": schedule}, token=world["token"], path="/analytics/graphql"
            )
            assert codes(again) == ["CONFLICT"]
            ctx = {**_ctx(world, settings, database, redis), "redis": arq}
            assert await render_scheduled_reports(ctx) == {"queued": 1}
            assert await render_scheduled_reports(ctx) == {"queued": 0}  # its period is rendered once
            listed = await gql(
                client,
                REPORTS,
                {"artist": world["artist"]["id"]},
                token=world["token"],
                path="/analytics/graphql",
            )
        (report,) = listed["data"]["reports"]
        assert report["scheduled"] is True and report["status"] == "QUEUED"
        monday = TODAY.date() - timedelta(days=TODAY.weekday() + 7)
        schedule_id = scheduled["data"]["scheduleReport"]["schedule"]["id"]
        async with database.read() as session:
            stored = await session.get(AnalyticsReportSchedule, schedule_id)
        assert stored is not None and stored.last_period_start == monday
    finally:
        await arq.aclose()
        await redis.aclose()


async def test_analytics_updated_follows_rollups_and_resumes(platform, database, settings, redis_server):
    """Over WebSocket (token in connection_init): each rollup that changes the artist reaches
    the subscriber with the days it changed; a subscription resumed after an update's id gets
    what came after it; another tenant is refused."""
    world = await _setup(platform, database, settings)
    artist = world["artist"]["id"]
    ws_url = world["url"].replace("http", "ws") + "/analytics/graphql"
    query = """subscription($artist: ID!, $after: String) { analyticsUpdated(artistId: $artist, after: $after) {
      id days streams latestDay listeners monthlyListeners artist { id } } }"""
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    track = next(t["id"] for t in load_sample()["tracks"] if t["artists"][0]["id"] == artist)
    days = [(TODAY - timedelta(days=n)).date() for n in (3, 2)]
    try:
        for day in days:  # two late plays, each rolled on its own
            noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
            play = SyntheticPlay(
                "late-fan", track, noon, 180_000, False, "FR", "Lyon", "mobile", "search", None
            )
            await project_plays_of(database, [play])
            assert (await roll_up(_ctx(world, settings, database, redis)))["rolled"] == 1
        auth = {"Authorization": f"Bearer {world['token']}"}
        async with GraphQLWebSocket(ws_url, auth) as ws:
            assert (await ws.ack())["type"] == "connection_ack"
            await ws.subscribe(query, {"artist": artist, "after": "0-0"})
            updates = [(await ws.next())["payload"]["data"]["analyticsUpdated"] for _ in days]
        assert [update["days"] for update in updates] == [[day.isoformat()] for day in days]
        assert all(update["artist"] == {"id": artist} and update["streams"] >= 1 for update in updates)
        assert updates[1]["monthlyListeners"] >= updates[1]["listeners"] >= 1
        async with GraphQLWebSocket(ws_url, auth) as ws:
            await ws.ack()
            await ws.subscribe(query, {"artist": artist, "after": updates[0]["id"]})
            resumed = await ws.next()
            assert resumed["payload"]["data"]["analyticsUpdated"]["id"] == updates[1]["id"]
        async with httpx.AsyncClient(base_url=world["url"]) as client:
            stranger = await sign_up(client, path="/accounts/graphql")
        async with GraphQLWebSocket(ws_url, {"Authorization": f"Bearer {stranger['token']}"}) as ws:
            await ws.ack()
            await ws.subscribe(query, {"artist": artist})
            assert "FORBIDDEN" in json.dumps(await ws.next())
    finally:
        await redis.aclose()
