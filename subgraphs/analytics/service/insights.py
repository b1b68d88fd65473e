"""What the numbers say: trends (growth, breakout tracks, anomalous days, each with its reason)
and forecasts with intervals, computed from the rollups of one claimed artist."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from subgraphs.analytics.repository import MetricsRepository
from subgraphs.analytics.service.claims import require_claimed
from subgraphs.analytics.trends import ArtistDays, Trends, compute_trends

TREND_DAYS = 20 * 7
"""Days of history trends read: the anomaly baseline's 8 weeks plus three months to score."""


def _daily(values: dict[date, int], first: date, days: int) -> np.ndarray:
    series = np.zeros(days, np.float64)
    for day, value in values.items():
        offset = (day - first).days
        if 0 <= offset < days:
            series[offset] += value
    return series


async def artist_trends(context: RequestContext, artist_id: str, limit: int = 10) -> tuple[date, Trends]:
    """(the last day scored, the trends), up to yesterday (the last complete day)."""
    tenant_id = tenant_of(context.principal)
    session = await context.session()
    await require_claimed(session, tenant_id, artist_id)
    metrics = MetricsRepository(session)
    last = utcnow().date() - timedelta(days=1)
    first = last - timedelta(days=TREND_DAYS - 1)
    rows = await metrics.artist_days(artist_id, first, last)
    sources: dict[str, dict[date, int]] = {}
    for day, source, streams in await metrics.source_days(artist_id, first, last):
        sources.setdefault(source, {})[day] = streams
    tracks: dict[str, dict[date, int]] = {}
    for track, day, streams in await metrics.track_series(artist_id, first, last):
        tracks.setdefault(track, {})[day] = streams
    days = ArtistDays(
        start=first,
        streams=_daily({row.day: row.streams for row in rows}, first, TREND_DAYS),
        listeners=_daily({row.day: row.listeners for row in rows}, first, TREND_DAYS),
        sources={source: _daily(values, first, TREND_DAYS) for source, values in sources.items()},
        tracks={track: _daily(values, first, TREND_DAYS) for track, values in tracks.items()},
    )
    return last, compute_trends(days, limit=limit)
