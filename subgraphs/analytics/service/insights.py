"""What the numbers say: trends (growth, breakout tracks, anomalous days, each with its reason)
and forecasts with intervals, computed from the rollups of one claimed artist. A forecast is
fitted on request (in a thread) and kept in Redis for the day, keyed by the series itself, so
a new rollup gives a new fit and the same series is fitted once."""

from __future__ import annotations

import asyncio
import enum
import hashlib
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import orjson

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput
from subgraphs.analytics import forecasting
from subgraphs.analytics.repository import MetricsRepository
from subgraphs.analytics.service.claims import require_claimed
from subgraphs.analytics.trends import ArtistDays, Trends, compute_trends

TREND_DAYS = 20 * 7
"""Days of history trends read: the anomaly baseline's 8 weeks plus three months to score."""


def daily(values: dict[date, int], first: date, days: int) -> np.ndarray:
    """Values by day as an array from `first`, zeros where nothing is recorded."""
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
        streams=daily({row.day: row.streams for row in rows}, first, TREND_DAYS),
        listeners=daily({row.day: row.listeners for row in rows}, first, TREND_DAYS),
        sources={source: daily(values, first, TREND_DAYS) for source, values in sources.items()},
        tracks={track: daily(values, first, TREND_DAYS) for track, values in tracks.items()},
    )
    return last, compute_trends(days, limit=limit)


class Metric(enum.Enum):
    STREAMS = "streams"
    LISTENERS = "listeners"
    MONTHLY_LISTENERS = "monthly_listeners"


MAX_HORIZON = 90
HISTORY_DAYS = 730
"""The most history a forecast is fitted on (two years of days)."""
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ArtistForecast:
    metric: Metric
    history_from: date | None
    history_to: date
    forecast: forecasting.Forecast | None
    """None when the artist has no plays yet."""
    backtest: forecasting.Backtest | None


BACKTEST_HORIZON = 28
BACKTEST_ORIGINS = 6
MIN_TRAINING_DAYS = 4 * 7
"""A fold is fitted on at least this much history (below it the forecast is seasonal naive)."""


def backtest_folds(days: int, horizon: int) -> tuple[int, int] | None:
    """(horizon, origins) of the backtest a history of `days` allows: folds of the asked
    horizon (at most 28 days), as many as fit up to 6; None when not even one does."""
    fold = min(horizon, BACKTEST_HORIZON)
    origins = min(BACKTEST_ORIGINS, (days - MIN_TRAINING_DAYS) // fold)
    return (fold, origins) if origins >= 1 else None


def fit_forecast(history: np.ndarray, horizon: int) -> forecasting.Forecast:
    return forecasting.forecast(history, horizon)


async def artist_forecast(
    context: RequestContext, artist_id: str, metric: Metric, horizon: int, with_backtest: bool
) -> ArtistForecast:
    if not 1 <= horizon <= MAX_HORIZON:
        raise BadUserInput(f"horizon must be 1 to {MAX_HORIZON} days", field="horizon")
    tenant_id = tenant_of(context.principal)
    session = await context.session()
    await require_claimed(session, tenant_id, artist_id)
    last = utcnow().date() - timedelta(days=1)
    first = last - timedelta(days=HISTORY_DAYS - 1)
    rows = await MetricsRepository(session).artist_days(artist_id, first, last)
    if not rows:
        return ArtistForecast(metric, None, last, None, None)
    start = rows[0].day
    history = daily({row.day: getattr(row, metric.value) for row in rows}, start, (last - start).days + 1)
    key = (
        "analytics:forecast:"
        + hashlib.sha256(f"{horizon}:{with_backtest}:{start}".encode() + history.tobytes()).hexdigest()
    )
    redis = context.runtime.redis
    cached = await redis.get(key)
    if cached is not None:
        predicted, tested = _decoded(cached)
    else:
        predicted = await asyncio.to_thread(forecasting.forecast, history, horizon)
        tested = None
        folds = backtest_folds(len(history), horizon)
        if with_backtest and folds:
            tested = await asyncio.to_thread(forecasting.backtest, history, *folds)
        await redis.set(key, _encoded(predicted, tested), ex=CACHE_SECONDS)
    return ArtistForecast(metric, start, last, predicted, tested)


def _encoded(predicted: forecasting.Forecast, tested: forecasting.Backtest | None) -> bytes:
    return orjson.dumps(
        {"forecast": asdict(predicted), "backtest": asdict(tested) if tested else None},
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def _decoded(raw: bytes) -> tuple[forecasting.Forecast, forecasting.Backtest | None]:
    data = orjson.loads(raw)
    stored = data["forecast"]
    predicted = forecasting.Forecast(
        model=stored["model"],
        **{
            key: np.asarray(stored[key])
            for key in ("point", "lower80", "upper80", "lower95", "upper95", "baseline")
        },
    )
    tested = data["backtest"]
    return predicted, forecasting.Backtest(**tested) if tested else None
