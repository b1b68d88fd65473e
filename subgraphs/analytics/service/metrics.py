"""An artist's, a track's or a playlist's numbers over a range: totals with the previous
period's, series by day, week or month, and breakdowns. Everything is read from the rollups
(`MetricsRepository`); listeners over a range or a bucket are exact: the size of the union of
the days' audiences (roaring bitmaps of listener ordinals), a few milliseconds for two years."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyroaring import BitMap
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput, Forbidden
from subgraphs.analytics.repository import (
    BreakdownRow,
    CatalogueRepository,
    MetricsRepository,
)
from subgraphs.analytics.service.claims import NOT_CLAIMED, claimed_artists, require_claimed

SOURCE_LABELS = {
    "artist_profile": "Artist profile and catalogue",
    "user_library": "Listener's own library",
    "user_playlist": "Listener's own playlists",
    "other_playlist": "Other listeners' playlists",
    "editorial_playlist": "Editorial playlists",
    "algorithmic": "Algorithmic playlists",
    "radio": "Radio and autoplay",
    "search": "Search",
    "other": "Other",
    "": "Unknown",
}
DEVICE_LABELS = {
    "mobile": "Mobile",
    "desktop": "Desktop",
    "tablet": "Tablet",
    "smart_speaker": "Smart speaker",
    "car": "Car",
    "web": "Web player",
    "": "Unknown",
}


def _place(key: str) -> str:
    return key or "Unknown"


def _source(key: str) -> str:
    return SOURCE_LABELS.get(key, key)


def _device(key: str) -> str:
    return DEVICE_LABELS.get(key, key)


LABELS: dict[str, Callable[[str], str]] = {
    "country": _place,
    "city": _place,
    "source": _source,
    "device": _device,
}
"""How each breakdown's values read for people."""


class Last(enum.Enum):
    DAYS_7 = 7
    DAYS_28 = 28
    MONTHS_12 = 365


class Granularity(enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@dataclass(frozen=True)
class Window:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> Iterator[date]:
        return (self.first + timedelta(days=n) for n in range(self.days))

    @property
    def previous(self) -> Window:
        return Window(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def window(
    first: date | None, last: date | None, period: Last | None, max_days: int, today: date | None = None
) -> Window:
    """The range asked for: `from`..`to` (inclusive) or the last N complete days; the default
    is the last 28 days. BAD_USER_INPUT for both at once, half a range, an inverted or a
    future range, or one longer than `max_days`."""
    today = today or utcnow().date()
    if period is not None and (first is not None or last is not None):
        raise BadUserInput("Ask for a range or for `last`, not both", field="range")
    if first is None and last is None:
        yesterday = today - timedelta(days=1)
        days = (period or Last.DAYS_28).value
        return Window(yesterday - timedelta(days=days - 1), yesterday)
    if first is None or last is None:
        raise BadUserInput("A range needs both `from` and `to`", field="range")
    if first > last:
        raise BadUserInput("The range ends before it starts", field="range")
    if last > today:
        raise BadUserInput("The range reaches into the future", field="range.to")
    span = Window(first, last)
    if span.days > max_days:
        raise BadUserInput(f"A range covers at most {max_days} days", field="range")
    return span


@dataclass(frozen=True)
class Total:
    value: float
    previous: float

    @property
    def change(self) -> float:
        return self.value - self.previous

    @property
    def change_ratio(self) -> float | None:
        return self.change / self.previous if self.previous else None


@dataclass(frozen=True)
class Point:
    day: date
    value: float


@dataclass(frozen=True)
class Ranked:
    key: str
    label: str
    streams: int
    skips: int
    share: float
    """Of the range's streams."""


@dataclass
class Analytics:
    """What `artistAnalytics` (and its track and playlist kin) answers."""

    subject_id: str
    name: str
    window: Window
    granularity: Granularity
    data_from: date | None
    data_to: date | None
    totals: dict[str, Total]
    series: dict[str, list[Point]]
    breakdowns: dict[str, list[Ranked]] = field(default_factory=dict)
    followers: int | None = None


def buckets(span: Window, granularity: Granularity) -> list[tuple[date, date]]:
    """The range cut into days, calendar weeks (from Monday) or months; the first and last
    bucket are clipped to the range."""
    cuts: list[tuple[date, date]] = []
    start = span.first
    while start <= span.last:
        if granularity is Granularity.DAY:
            end = start
        elif granularity is Granularity.WEEK:
            end = start + timedelta(days=6 - start.weekday())
        else:
            end = (start.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        end = min(end, span.last)
        cuts.append((start, end))
        start = end + timedelta(days=1)
    return cuts


def _distinct(audience: Mapping[date, BitMap], span: Window) -> int:
    """Distinct listeners over a range: the size of the union of its days' audiences."""
    return len(BitMap.union(BitMap(), *(audience[day] for day in span.dates() if day in audience)))


def _day_sum(days: Mapping[date, Sequence[int]], span: Window, index: int) -> int:
    """The sum of one column of per-day rows over a range."""
    return sum(days[day][index] for day in span.dates() if day in days)


def _check_top(context: RequestContext, top: int) -> None:
    most = context.runtime.config.analytics_max_top
    if not 1 <= top <= most:
        raise BadUserInput(f"top must be 1 to {most}", field="top")


def _ranked(rows: Sequence[BreakdownRow], total: int, label: Callable[[str], str]) -> list[Ranked]:
    return [
        Ranked(row.value, label(row.value), row.streams, row.skips, row.streams / total if total else 0.0)
        for row in rows
    ]


async def artist_analytics(
    context: RequestContext,
    artist_id: str,
    span: Window,
    granularity: Granularity,
    top: int,
) -> Analytics:
    tenant_id = tenant_of(context.principal)
    _check_top(context, top)
    session = await context.session()
    await require_claimed(session, tenant_id, artist_id)
    return await read_artist(session, artist_id, span, granularity, top)


async def read_artist(
    session: AsyncSession, artist_id: str, span: Window, granularity: Granularity, top: int
) -> Analytics:
    """An artist's numbers, for a caller already allowed to see them (a request checked the
    claim; a report job was created by one that had)."""
    metrics, catalogue = MetricsRepository(session), CatalogueRepository(session)
    previous = span.previous
    days = await metrics.artist_days(artist_id, previous.first, span.last)
    current_days = [row for row in days if row.day >= span.first]
    previous_days = [row for row in days if row.day < span.first]
    audience = await metrics.audience_days(artist_id, previous.first, span.last)
    cuts = buckets(span, granularity)
    monthly_now = next((row.monthly_listeners for row in reversed(current_days)), 0)
    monthly_before = next((row.monthly_listeners for row in reversed(previous_days)), 0)
    totals = {
        "streams": Total(sum(r.streams for r in current_days), sum(r.streams for r in previous_days)),
        "skips": Total(sum(r.skips for r in current_days), sum(r.skips for r in previous_days)),
        "listeners": Total(_distinct(audience, span), _distinct(audience, previous)),
        "monthly_listeners": Total(monthly_now, monthly_before),
    }
    by_day = {row.day: row for row in current_days}
    if granularity is Granularity.DAY:
        listeners_of = {cut: by_day[cut[0]].listeners if cut[0] in by_day else 0 for cut in cuts}
    else:
        listeners_of = {cut: _distinct(audience, Window(*cut)) for cut in cuts}
    series: dict[str, list[Point]] = {"streams": [], "skips": [], "listeners": [], "monthly_listeners": []}
    for start, end in cuts:
        inside = [
            by_day[start + timedelta(days=n)]
            for n in range((end - start).days + 1)
            if start + timedelta(days=n) in by_day
        ]
        series["streams"].append(Point(start, sum(row.streams for row in inside)))
        series["skips"].append(Point(start, sum(row.skips for row in inside)))
        series["listeners"].append(Point(start, listeners_of[(start, end)]))
        last_row = by_day.get(end)
        series["monthly_listeners"].append(Point(start, last_row.monthly_listeners if last_row else 0))
    found = await metrics.breakdowns(artist_id, ("track", *LABELS), span.first, span.last, top)
    track_rows, total = found["track"]
    names = await catalogue.track_names(row.value for row in track_rows)
    breakdowns = {"tracks": _ranked(track_rows, total, lambda key: names.get(key, key))}
    for dimension, label in LABELS.items():
        breakdowns[dimension] = _ranked(*found[dimension], label)
    artist = await catalogue.artist(artist_id)
    data = await metrics.data_span(artist_id)
    return Analytics(
        subject_id=artist_id,
        name=artist.name if artist else artist_id,
        window=span,
        granularity=granularity,
        data_from=data[0] if data else None,
        data_to=data[1] if data else None,
        totals=totals,
        series=series,
        breakdowns=breakdowns,
        followers=artist.followers if artist else None,
    )


async def track_analytics(
    context: RequestContext, track_id: str, span: Window, granularity: Granularity, top: int
) -> Analytics:
    """A track of a claimed artist: streams, skips and listeners, and where they came from."""
    tenant_id = tenant_of(context.principal)
    _check_top(context, top)
    session = await context.session()
    catalogue, metrics = CatalogueRepository(session), MetricsRepository(session)
    track = await catalogue.track(track_id)
    claimed = set(await claimed_artists(session, tenant_id))
    if track is None or not claimed.intersection(track.artist_ids):
        raise Forbidden(NOT_CLAIMED, trackId=track_id)
    previous = span.previous
    days = {row[0]: row[1:] for row in await metrics.track_days(track_id, previous.first, span.last)}
    cuts = buckets(span, granularity)
    counted = await metrics.track_listeners(
        track_id,
        [(span.first, span.last), (previous.first, previous.last)]
        + ([] if granularity is Granularity.DAY else cuts),
    )

    totals = {
        "streams": Total(_day_sum(days, span, 0), _day_sum(days, previous, 0)),
        "skips": Total(_day_sum(days, span, 1), _day_sum(days, previous, 1)),
        "listeners": Total(counted[0], counted[1]),
    }
    series: dict[str, list[Point]] = {"streams": [], "skips": [], "listeners": []}
    for position, (start, end) in enumerate(cuts):
        series["streams"].append(Point(start, _day_sum(days, Window(start, end), 0)))
        series["skips"].append(Point(start, _day_sum(days, Window(start, end), 1)))
        listeners = days[start][2] if granularity is Granularity.DAY and start in days else 0
        if granularity is not Granularity.DAY:
            listeners = counted[2 + position]
        series["listeners"].append(Point(start, listeners))
    found = await metrics.track_breakdowns(track_id, list(LABELS), span.first, span.last, top)
    breakdowns = {dimension: _ranked(*found[dimension], label) for dimension, label in LABELS.items()}
    known = sorted(days)
    return Analytics(
        subject_id=track_id,
        name=track.name,
        window=span,
        granularity=granularity,
        data_from=known[0] if known else None,
        data_to=known[-1] if known else None,
        totals=totals,
        series=series,
        breakdowns=breakdowns,
    )


async def playlist_analytics(
    context: RequestContext, playlist_id: str, span: Window, granularity: Granularity
) -> Analytics:
    """How a playlist performs for the tenant's claimed artists: streams of their tracks
    played from it (the playlist as context)."""
    tenant_id = tenant_of(context.principal)
    session = await context.session()
    catalogue, metrics = CatalogueRepository(session), MetricsRepository(session)
    artists = await claimed_artists(session, tenant_id)
    if not artists:
        raise Forbidden("Playlist analytics cover your claimed artists' tracks: claim an artist first")
    track_ids = await catalogue.tracks_of(artists)
    previous = span.previous
    uri = f"spotify:playlist:{playlist_id}"
    days = {row[0]: row[1:] for row in await metrics.playlist_days(uri, track_ids, previous.first, span.last)}
    totals = {
        "streams": Total(_day_sum(days, span, 0), _day_sum(days, previous, 0)),
        "skips": Total(_day_sum(days, span, 1), _day_sum(days, previous, 1)),
    }
    series: dict[str, list[Point]] = {"streams": [], "skips": []}
    for cut in buckets(span, granularity):
        series["streams"].append(Point(cut[0], _day_sum(days, Window(*cut), 0)))
        series["skips"].append(Point(cut[0], _day_sum(days, Window(*cut), 1)))
    known = sorted(days)
    return Analytics(
        subject_id=playlist_id,
        name=playlist_id,
        window=span,
        granularity=granularity,
        data_from=known[0] if known else None,
        data_to=known[-1] if known else None,
        totals=totals,
        series=series,
    )
