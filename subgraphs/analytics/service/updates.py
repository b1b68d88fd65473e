"""`analyticsUpdated`: after a rollup, each claimed artist whose days changed gets an entry
on its stream (`analytics:artist:<id>`) saying which days and what they hold now; a
subscriber follows the stream and may resume after an entry id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date

import orjson

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.db import Database, utcnow
from shared.errors import BadUserInput
from shared.events import EventStreams, StreamHub, is_event_id
from subgraphs.analytics.models import AnalyticsArtistDay
from subgraphs.analytics.repository import MetricsRepository, verified_artists_of_any_tenant
from subgraphs.analytics.service.claims import require_claimed

STREAM_LENGTH = 1_000


def stream_key(artist_id: str) -> str:
    return f"analytics:artist:{artist_id}"


@dataclass(frozen=True)
class ArtistUpdate:
    id: str
    """The stream entry id (resume after it)."""
    artist_id: str
    days: list[date]
    streams: int
    """Streams on the changed days, as they are now."""
    latest_day: date
    listeners: int
    """Listeners of the latest changed day."""
    monthly_listeners: int
    """Monthly listeners on the latest changed day."""


async def announce(db: Database, streams: EventStreams, rolled: Sequence[date]) -> int:
    """One entry per claimed artist with rows on the rolled days; returns how many."""
    async with db.read() as session:
        claimed = await verified_artists_of_any_tenant(session)
        rows = (
            await MetricsRepository(session).artists_on_days(claimed, sorted(set(rolled))) if claimed else []
        )
    by_artist: dict[str, list[AnalyticsArtistDay]] = {}
    for row in rows:
        by_artist.setdefault(row.artist_id, []).append(row)
    at = utcnow().isoformat()
    for artist_id, artist_rows in by_artist.items():
        latest = max(artist_rows, key=lambda row: row.day)
        fields = {
            "days": orjson.dumps(sorted(row.day.isoformat() for row in artist_rows)).decode(),
            "streams": str(sum(row.streams for row in artist_rows)),
            "latest_day": latest.day.isoformat(),
            "listeners": str(latest.listeners),
            "monthly_listeners": str(latest.monthly_listeners),
            "rolled_at": at,
        }
        await streams.redis.xadd(stream_key(artist_id), fields, maxlen=STREAM_LENGTH, approximate=True)  # type: ignore[arg-type]
    return len(by_artist)


async def follow(hub: StreamHub, artist_id: str, after: str | None) -> AsyncIterator[ArtistUpdate]:
    async for entry_id, fields in hub.follow(stream_key(artist_id), after):
        yield ArtistUpdate(
            id=entry_id,
            artist_id=artist_id,
            days=[date.fromisoformat(day) for day in orjson.loads(fields["days"])],
            streams=int(fields["streams"]),
            latest_day=date.fromisoformat(fields["latest_day"]),
            listeners=int(fields["listeners"]),
            monthly_listeners=int(fields["monthly_listeners"]),
        )


async def follow_claimed(
    context: RequestContext, artist_id: str, after: str | None
) -> AsyncIterator[ArtistUpdate]:
    """The artist's updates for a tenant that has claimed it; BAD_USER_INPUT for a malformed
    `after`."""
    tenant_id = tenant_of(context.principal)
    if after is not None and not is_event_id(after):
        raise BadUserInput("after is an update id such as 1700000000000-0", field="after")
    async with context.runtime.db.read() as session:
        await require_claimed(session, tenant_id, artist_id)
    async for update in follow(context.runtime.services.stream_hub, artist_id, after):
        yield update
