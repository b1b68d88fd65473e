"""The sample audience: synthetic listeners' plays (skips kept as skips, with device, source of
stream and country) ingested as a library sync's are, one `spotify.plays.ingested` event per
listener, once."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlmodel import col

from shared.db import Database
from subgraphs.spotify.models import StreamEvent
from subgraphs.spotify.service.audience import AUDIENCE_TENANT, seed_audience
from tests.support.domain_events import domain_stream


async def test_the_audience_is_ingested_once_with_its_events(database: Database, redis_server: Any) -> None:
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    await redis.delete("events:spotify")
    try:
        streams = await seed_audience(database, redis, listeners=12, days=7)
        async with database.read() as session:
            stored = (
                await session.execute(
                    select(func.count())
                    .select_from(StreamEvent)
                    .where(col(StreamEvent.tenant_id) == AUDIENCE_TENANT)
                )
            ).scalar_one()
        assert streams == stored > 12 * 7 * 2
        async with database.read() as session:
            rows = (
                (
                    await session.execute(
                        select(StreamEvent).where(col(StreamEvent.tenant_id) == AUDIENCE_TENANT)
                    )
                )
                .scalars()
                .all()
            )
        skips = [row for row in rows if row.ms_played is not None and row.ms_played < 30_000]
        assert 0.1 < len(skips) / len(rows) < 0.4  # skips are kept as skips
        assert all(row.device and row.source and row.country for row in rows)
        ingested = [
            event for event in await domain_stream(redis, "spotify") if event.type == "spotify.plays.ingested"
        ]
        assert len({event.payload["user_id"] for event in ingested}) == len(ingested) == 12
        assert sum(event.payload["new"] for event in ingested) == streams
        assert {event.tenant_id for event in ingested} == {AUDIENCE_TENANT}
        first = ingested[0].payload["plays"][0]
        assert {"track_id", "played_at", "ms_played", "device", "source", "country", "city"} <= set(first)
        assert await seed_audience(database, redis, listeners=12, days=7) == 0
    finally:
        await redis.aclose()
