"""The analytics subgraph at scale: a year of generated plays (`BENCH_ANALYTICS_PLAYS`, 10
million by default) loaded into the fact table and rolled up, on SQLite and on PostgreSQL
(plays/s, wall time, database size); `artistAnalytics` for 12 months by day with every
breakdown through the subgraph host (a separate process, one uvicorn worker) beside the same
reads called in-process (the honest baseline: the SQL with no HTTP, GraphQL or auth); and the
forecast's fit+predict on a two-year daily series with its backtest against seasonal naive."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func, select, text
from sqlmodel import col

from gateway.host_process import HostProcess
from shared.db import Database
from subgraphs.analytics import forecasting
from subgraphs.analytics.models import AnalyticsArtistDay, AnalyticsTrackDay
from subgraphs.analytics.repository import CatalogueRepository, DirtyDayRepository, PlayRepository
from subgraphs.analytics.service.claims import record_verified
from subgraphs.analytics.service.metrics import Granularity, Window, read_artist
from subgraphs.analytics.service.rollups import fact_rows, roll_dirty_days
from subgraphs.analytics.tasks import project_catalogue
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import SyntheticPlay, iter_plays
from subgraphs.spotify.service.audience import listeners_for
from tests.bench.collab_platform import embedded_redis, migrated_sqlite, platform_settings, postgres_database
from tests.support.domain_events import apply, event
from tests.support.graphql import gql, sign_up

PLAYS = int(os.environ.get("BENCH_ANALYTICS_PLAYS", "10000000"))
DAYS = 365
CHUNK = 20_000
REQUESTS = 100
WARM_UP_SECONDS = 8.0
"""Requests before the measured ones: the host loads the forecast library in a thread at start."""
END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
ANALYTICS = """query($artist: ID!) { artistAnalytics(artistId: $artist, last: MONTHS_12, granularity: DAY) {
  streams { value previous changePercent } skips { value } listeners { value previous }
  monthlyListeners { value previous } followers
  series { streams { date value } skips { date value } listeners { date value } monthlyListeners { date value } }
  topTracks { track { id } name streams share } countries { key streams share } cities { key streams share }
  sources { key label streams share } devices { key streams share } } }"""
TRACK_ANALYTICS = """query($track: ID!) { trackAnalytics(trackId: $track, last: MONTHS_12, granularity: DAY) {
  streams { value previous changePercent } skips { value } listeners { value previous }
  series { streams { date value } skips { date value } listeners { date value } }
  countries { key streams share } cities { key streams share } sources { key label streams share }
  devices { key streams share } } }"""


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {1000 * statistics.median(ordered):6.1f} ms  p95 {1000 * p95:6.1f} ms"


def _rows(plays: Iterator[SyntheticPlay]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for play in plays:
        batch += fact_rows(
            "tnt_bench",
            play.user_id,
            play.country,
            [
                {
                    "track_id": play.track_id,
                    "played_at": play.played_at.isoformat(),
                    "ms_played": play.ms_played,
                    "source": play.source,
                    "device": play.device,
                    "city": play.city,
                    "context_uri": play.context,
                }
            ],
        )
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


async def _catalogue(db: Database) -> None:
    sample = load_sample()
    genres = projection.artist_genres(sample["artists"])
    for kind in ("artist", "track"):
        items = [projection.item(kind, obj, genres) for obj in sample[f"{kind}s"]]
        for start in range(0, len(items), 200):
            payload = {"kind": kind, "items": items[start : start + 200]}
            await apply(db, project_catalogue, event("spotify.catalogue.upserted", payload))


async def _load_and_roll(url: str, label: str) -> tuple[float, float, int]:
    """(ingest plays/s, rollup seconds, plays) for PLAYS generated plays."""
    db = Database(url)
    try:
        await _catalogue(db)
        listeners = listeners_for(PLAYS, DAYS)
        started, loaded = time.perf_counter(), 0
        days: set[date] = set()
        for batch in _rows(iter_plays(listeners=listeners, days=DAYS, end=END, seed=7)):
            async with db.write() as session:
                await PlayRepository(session).add(batch)
            loaded += len(batch)
            days.update(row["day"] for row in batch)
        ingest = time.perf_counter() - started
        async with db.write() as session:
            await DirtyDayRepository(session).mark(days, datetime.now(UTC) - timedelta(hours=1))
        started = time.perf_counter()
        outcome = await roll_dirty_days(db)
        rolled = time.perf_counter() - started
        async with db.read() as session:
            artist_days = (
                await session.execute(select(func.count()).select_from(AnalyticsArtistDay))
            ).scalar_one()
        bare = await _bare_rollup(db)
        print(
            f"  {label:<10} {loaded:,} plays of {listeners:,} listeners: ingest {loaded / ingest:,.0f} plays/s "
            f"({ingest:.0f} s); rollup of {outcome.rolled} days {rolled:.0f} s ({loaded / rolled:,.0f} plays/s, "
            f"{artist_days:,} artist days)\n"
            f"             baseline: the finest-grain rollup alone, one INSERT ... SELECT over every play "
            f"{bare:.0f} s ({loaded / bare:,.0f} plays/s)"
        )
        return loaded / ingest, rolled, loaded
    finally:
        await db.dispose()


async def _bare_rollup(db: Database) -> float:
    """Seconds for the rollup at its cheapest: the (artist, track, day, country, source, device)
    cells of every play in one statement, no days, no listeners' bitmaps, no monthly listeners."""
    statement = text(
        "INSERT INTO bare_rollup SELECT c.artist_id, p.track_id, p.day, p.country, p.source, p.device, "
        "SUM(CASE WHEN p.stream THEN 1 ELSE 0 END), SUM(CASE WHEN p.stream THEN 0 ELSE 1 END), "
        "COUNT(DISTINCT CASE WHEN p.stream THEN p.listener END) "
        "FROM analytics_play p JOIN analytics_track_artist c ON c.track_id = p.track_id "
        "GROUP BY c.artist_id, p.track_id, p.day, p.country, p.source, p.device"
    )
    async with db.write() as session:
        await session.execute(
            text(
                "CREATE TABLE bare_rollup (artist_id VARCHAR(64), track_id VARCHAR(64), day DATE, "
                "country VARCHAR(2), source VARCHAR(32), device VARCHAR(32), streams INTEGER, skips INTEGER, "
                "listeners INTEGER)"
            )
        )
    started = time.perf_counter()
    async with db.write() as session:
        await session.execute(statement)
    elapsed = time.perf_counter() - started
    async with db.write() as session:
        await session.execute(text("DROP TABLE bare_rollup"))  # not part of the database size printed next
    return elapsed


async def _top_artist(url: str) -> str:
    db = Database(url)
    try:
        async with db.read() as session:
            row = (
                await session.execute(
                    select(col(AnalyticsArtistDay.artist_id), func.sum(col(AnalyticsArtistDay.streams)))
                    .group_by(col(AnalyticsArtistDay.artist_id))
                    .order_by(func.sum(col(AnalyticsArtistDay.streams)).desc())
                    .limit(1)
                )
            ).one()
        return str(row[0])
    finally:
        await db.dispose()


async def _in_process(url: str, artist: str) -> list[float]:
    db = Database(url)
    samples = []
    try:
        yesterday = END.date() - timedelta(days=1)
        span = Window(yesterday - timedelta(days=364), yesterday)
        for _ in range(REQUESTS):
            started = time.perf_counter()
            async with db.read() as session:
                await read_artist(session, artist, span, Granularity.DAY, 10)
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        await db.dispose()


async def _top_track(url: str, artist: str) -> str:
    db = Database(url)
    try:
        async with db.read() as session:
            tracks = await CatalogueRepository(session).tracks_of([artist])
            row = (
                await session.execute(
                    select(col(AnalyticsTrackDay.track_id))
                    .where(col(AnalyticsTrackDay.track_id).in_(tracks))
                    .group_by(col(AnalyticsTrackDay.track_id))
                    .order_by(func.sum(col(AnalyticsTrackDay.streams)).desc())
                    .limit(1)
                )
            ).one()
        return str(row[0])
    finally:
        await db.dispose()


async def _timed(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str, path: str
) -> list[float]:
    """REQUESTS timings after a warm-up (the host loads the forecast library in a thread at start)."""
    warm_until = time.perf_counter() + WARM_UP_SECONDS
    while time.perf_counter() < warm_until:
        body = await gql(client, query, variables, token=token, path=path)
        if "errors" in body:
            raise RuntimeError(body["errors"])
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        await gql(client, query, variables, token=token, path=path)
        samples.append(time.perf_counter() - started)
    return samples


async def _through_subgraph(root: Path, url: str, artist: str, track: str) -> dict[str, list[float]]:
    settings = platform_settings(root, url)
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(embedded_redis(root))
        host = await stack.enter_async_context(
            HostProcess(settings, redis.url, ["accounts", "analytics"], workers=1, log_path=root / "host.log")
        )
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        account = await sign_up(client, path=f"{host.url}/accounts/graphql")
        me = await gql(
            client, "{ me { tenant { id } } }", token=account["token"], path=f"{host.url}/accounts/graphql"
        )
        db = Database(url)
        async with db.write() as session:
            await record_verified(session, me["data"]["me"]["tenant"]["id"], [artist], "bench")
        await db.dispose()
        path = f"{host.url}/analytics/graphql"
        token = account["token"]
        return {
            "artistAnalytics": await _timed(client, ANALYTICS, {"artist": artist}, token, path),
            "trackAnalytics": await _timed(client, TRACK_ANALYTICS, {"track": track}, token, path),
        }


async def _size(url: str) -> str:
    """Pages in use (SQLite keeps a dropped table's pages in its file until a VACUUM)."""
    db = Database(url)
    try:
        async with db.read() as session:
            if url.startswith("sqlite"):
                pages = (await session.execute(text("PRAGMA page_count"))).scalar_one()
                free = (await session.execute(text("PRAGMA freelist_count"))).scalar_one()
                size = (pages - free) * (await session.execute(text("PRAGMA page_size"))).scalar_one()
            else:
                size = (
                    await session.execute(text("select pg_database_size(current_database())"))
                ).scalar_one()
        return f"{size / 1e6:,.0f} MB"
    finally:
        await db.dispose()


async def run() -> None:
    print(f"rollup throughput, {PLAYS:,} generated plays over {DAYS} days (BENCH_ANALYTICS_PLAYS to change):")
    root = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    sqlite_url = await migrated_sqlite(root / "sqlite")
    await _load_and_roll(sqlite_url, "SQLite")
    print(f"             database size {await _size(sqlite_url)}")
    artist = await _top_artist(sqlite_url)
    track = await _top_track(sqlite_url, artist)
    latency = {"SQLite": await _through_subgraph(root / "host-sqlite", sqlite_url, artist, track)}
    async with postgres_database() as pg_url:
        await _load_and_roll(pg_url, "PostgreSQL")
        print(f"             database size {await _size(pg_url)}")
        latency["PostgreSQL"] = await _through_subgraph(root / "host-postgres", pg_url, artist, track)
    for field, subject in (
        ("artistAnalytics", "the most streamed artist"),
        ("trackAnalytics", "its most streamed track"),
    ):
        target = " (target p95 <= 100 ms)" if field == "artistAnalytics" else ""
        print(
            f"`{field}` 12 months by day, every breakdown, {subject}, {REQUESTS} requests after a warm-up{target}:"
        )
        for label, timings in latency.items():
            print(f"  subgraph ({label}){' ' * (12 - len(label))}{_ms(timings[field])}")
        if field == "artistAnalytics":
            print(f"  reads in-process (SQLite) {_ms(await _in_process(sqlite_url, artist))}")
    await _forecasts(sqlite_url, artist)


async def _forecasts(url: str, artist: str) -> None:
    db = Database(url)
    try:
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(col(AnalyticsArtistDay.day), col(AnalyticsArtistDay.streams)).where(
                        col(AnalyticsArtistDay.artist_id) == artist
                    )
                )
            ).all()
    finally:
        await db.dispose()
    first = END.date() - timedelta(days=DAYS)
    year = np.zeros(DAYS)
    for day, streams in rows:
        offset = (day - first).days
        if 0 <= offset < DAYS:
            year[offset] = streams
    two_years = np.concatenate([year * 0.8, year])  # the year before at 80 %: a two-year daily series
    forecasting.forecast(two_years, 28)
    fits = []
    for _ in range(10):
        started = time.perf_counter()
        forecasting.forecast(two_years, 28)
        fits.append(time.perf_counter() - started)
    print(
        f"`forecast` fit+predict on a 730-day series, 28 days ahead: median {1000 * statistics.median(fits):.0f} ms"
    )
    tested = forecasting.backtest(year, horizon=28, origins=6)
    print(
        f"backtest of the most streamed artist's year (6 origins x 28 days): MASE {tested.mase:.3f} against "
        f"seasonal naive {tested.baseline_mase:.3f}; coverage 80 % {tested.coverage80:.2f}, 95 % {tested.coverage95:.2f}"
    )
