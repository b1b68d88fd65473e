"""Queries of the analytics subgraph. The rollups are SQL over the fact table, behind
`RollupRepository` and `MetricsRepository`: moving analytics to a columnar engine (DuckDB,
ClickHouse) is a new implementation of those two, not a change to the service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from pyroaring import BitMap
from sqlalchemy import Date, and_, case, delete, distinct, exists, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import TenantRepository
from shared.db.repository import insert_new
from subgraphs.analytics.models import (
    AnalyticsArtist,
    AnalyticsArtistAudience,
    AnalyticsArtistClaim,
    AnalyticsArtistDay,
    AnalyticsBreakdownDay,
    AnalyticsBreakdownMonth,
    AnalyticsDirtyDay,
    AnalyticsListener,
    AnalyticsPlay,
    AnalyticsReport,
    AnalyticsReportSchedule,
    AnalyticsRollup,
    AnalyticsTrack,
    AnalyticsTrackArtist,
    AnalyticsTrackDay,
)

VERIFIED = "VERIFIED"
PENDING = "PENDING"
DIMENSIONS = ("track", "country", "city", "source", "device")
"""What an artist's breakdowns are by (`AnalyticsBreakdownDay.dimension`)."""
_INSERT_CHUNK = 2_000


class CatalogueRepository:
    """The catalogue's tracks and artists as analytics needs them (shared by every tenant)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put_tracks(self, items: Sequence[dict[str, Any]]) -> list[str]:
        """Stores tracks and their credits; returns the tracks whose credited artists changed
        (their plays' days must be rolled again)."""
        ids = [item["id"] for item in items]
        stored = {
            track.id: track
            for track in (
                await self.session.execute(select(AnalyticsTrack).where(col(AnalyticsTrack.id).in_(ids)))
            ).scalars()
        }
        recredited: list[str] = []
        for item in items:
            artist_ids = [artist["id"] for artist in item.get("artists") or []]
            track = stored.get(item["id"])
            if track is None:
                track = AnalyticsTrack(id=item["id"], name=item["name"], artist_ids=artist_ids)
                self.session.add(track)
            track.name = item["name"]
            track.album_name = (item.get("album") or {}).get("name")
            track.year = item.get("year")
            if track.id not in stored or list(track.artist_ids) != artist_ids:
                recredited.append(track.id)
                track.artist_ids = artist_ids
        if recredited:
            await self.session.execute(
                delete(AnalyticsTrackArtist).where(col(AnalyticsTrackArtist.track_id).in_(recredited))
            )
            credits = [
                {"track_id": item["id"], "artist_id": artist["id"]}
                for item in items
                if item["id"] in set(recredited)
                for artist in item.get("artists") or []
            ]
            await insert_new(self.session, AnalyticsTrackArtist, credits, ("track_id", "artist_id"))
        return recredited

    async def put_artists(self, items: Sequence[dict[str, Any]]) -> None:
        ids = [item["id"] for item in items]
        stored = {
            artist.id: artist
            for artist in (
                await self.session.execute(select(AnalyticsArtist).where(col(AnalyticsArtist.id).in_(ids)))
            ).scalars()
        }
        for item in items:
            artist = stored.get(item["id"]) or AnalyticsArtist(id=item["id"], name=item["name"])
            artist.name = item["name"]
            artist.popularity = item.get("popularity")
            if item.get("followers") is not None:
                artist.followers = item["followers"]
            self.session.add(artist)

    async def artist(self, artist_id: str) -> AnalyticsArtist | None:
        return await self.session.get(AnalyticsArtist, artist_id)

    async def track(self, track_id: str) -> AnalyticsTrack | None:
        return await self.session.get(AnalyticsTrack, track_id)

    async def track_names(self, track_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(track_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(col(AnalyticsTrack.id), col(AnalyticsTrack.name)).where(col(AnalyticsTrack.id).in_(ids))
        )
        return {track_id: name for track_id, name in rows.all()}

    async def tracks_of(self, artist_ids: Sequence[str]) -> list[str]:
        """The tracks crediting any of the artists, each once, sorted."""
        credit = AnalyticsTrackArtist
        rows = await self.session.execute(
            select(col(credit.track_id))
            .where(col(credit.artist_id).in_(artist_ids))
            .distinct()
            .order_by(col(credit.track_id))
        )
        return list(rows.scalars())


class PlayRepository:
    """The fact table: plays, once each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Stores plays (`AnalyticsPlay` columns), skipping those already stored; returns how
        many were new."""
        new = 0
        for start in range(0, len(rows), _INSERT_CHUNK):
            new += await insert_new(
                self.session,
                AnalyticsPlay,
                rows[start : start + _INSERT_CHUNK],
                ("tenant_id", "user_id", "track_id", "played_at"),
            )
        return new

    async def days_of_tracks(self, track_ids: Sequence[str]) -> list[date]:
        if not track_ids:
            return []
        rows = await self.session.execute(
            select(col(AnalyticsPlay.day)).where(col(AnalyticsPlay.track_id).in_(track_ids)).distinct()
        )
        return list(rows.scalars())

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(AnalyticsPlay))).scalar_one())


class DirtyDayRepository:
    """Days waiting to be rolled; a day marked again while it is being rolled stays marked."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mark(self, days: Iterable[date], at: datetime) -> None:
        days = sorted(set(days))
        if not days:
            return
        await self.session.execute(
            update(AnalyticsDirtyDay).where(col(AnalyticsDirtyDay.day).in_(days)).values(marked_at=at)
        )
        await insert_new(
            self.session, AnalyticsDirtyDay, [{"day": day, "marked_at": at} for day in days], ("day",)
        )

    async def pending(self, limit: int, marked_before: datetime) -> list[tuple[date, datetime]]:
        rows = await self.session.execute(
            select(col(AnalyticsDirtyDay.day), col(AnalyticsDirtyDay.marked_at))
            .where(col(AnalyticsDirtyDay.marked_at) <= marked_before)
            .order_by(col(AnalyticsDirtyDay.day))
            .limit(limit)
        )
        return [(day, marked_at) for day, marked_at in rows.all()]

    async def clear(self, rolled: Sequence[tuple[date, datetime]]) -> None:
        for day, marked_at in rolled:
            await self.session.execute(
                delete(AnalyticsDirtyDay).where(
                    col(AnalyticsDirtyDay.day) == day, col(AnalyticsDirtyDay.marked_at) <= marked_at
                )
            )

    async def count(self) -> int:
        return int(
            (await self.session.execute(select(func.count()).select_from(AnalyticsDirtyDay))).scalar_one()
        )


def _streams() -> Any:
    return func.sum(case((col(AnalyticsPlay.stream), 1), else_=0))


def _skips() -> Any:
    return func.sum(case((col(AnalyticsPlay.stream), 0), else_=1))


def _listeners() -> Any:
    return func.count(distinct(case((col(AnalyticsPlay.stream), col(AnalyticsPlay.listener)), else_=None)))


_CREDITED = AnalyticsPlay.__table__.join(  # type: ignore[attr-defined]
    AnalyticsTrackArtist.__table__,  # type: ignore[attr-defined]
    col(AnalyticsTrackArtist.track_id) == col(AnalyticsPlay.track_id),
)
_BREAKDOWN_COLUMNS = {
    "track": col(AnalyticsPlay.track_id),
    "country": col(AnalyticsPlay.country),
    "city": col(AnalyticsPlay.city),
    "source": col(AnalyticsPlay.source),
    "device": col(AnalyticsPlay.device),
}


class RollupRepository:
    """Rolls plays up, one day at a time, replacing the day's rows whole (so rolling a day
    twice gives the same rows, and a late play re-rolls its day)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def roll_day(self, day: date) -> None:
        play, credit = AnalyticsPlay, AnalyticsTrackArtist
        on_day = col(play.day) == day
        for table in (AnalyticsRollup, AnalyticsBreakdownDay, AnalyticsTrackDay, AnalyticsArtistAudience):
            await self.session.execute(delete(table).where(col(table.day) == day))
        cells = (
            col(credit.artist_id),
            col(play.track_id),
            col(play.country),
            col(play.source),
            col(play.device),
        )
        await self.session.execute(
            insert(AnalyticsRollup).from_select(
                [
                    "artist_id",
                    "track_id",
                    "country",
                    "source",
                    "device",
                    "day",
                    "streams",
                    "skips",
                    "listeners",
                ],
                select(
                    *cells,
                    literal(day, Date()),
                    _streams(),
                    _skips(),
                    _listeners(),
                )  # type: ignore[attr-defined]
                .select_from(_CREDITED)
                .where(on_day)
                .group_by(*cells),
            )
        )
        for dimension, column in _BREAKDOWN_COLUMNS.items():
            await self.session.execute(
                insert(AnalyticsBreakdownDay).from_select(
                    ["artist_id", "dimension", "day", "value", "streams", "skips", "listeners"],
                    select(
                        col(credit.artist_id),
                        literal(dimension),
                        literal(day, Date()),  # type: ignore[attr-defined]
                        column,
                        _streams(),
                        _skips(),
                        _listeners(),
                    )
                    .select_from(_CREDITED)
                    .where(on_day)
                    .group_by(col(credit.artist_id), column),
                )
            )
        await self.session.execute(
            insert(AnalyticsTrackDay).from_select(
                ["track_id", "day", "streams", "skips", "listeners"],
                select(
                    col(play.track_id),
                    literal(day, Date()),  # type: ignore[attr-defined]
                    _streams(),
                    _skips(),
                    _listeners(),
                )
                .where(on_day)
                .group_by(col(play.track_id)),
            )
        )
        await self._roll_audiences(day)

    async def _roll_audiences(self, day: date) -> None:
        """The day's listeners of each artist as a bitmap, numbering listeners never seen before."""
        play, credit, known = AnalyticsPlay, AnalyticsTrackArtist, AnalyticsListener
        streamed = (col(play.day) == day, col(play.stream))
        await self.session.execute(
            insert(known).from_select(
                ["listener"],
                select(col(play.listener))
                .where(*streamed, ~exists().where(col(known.listener) == col(play.listener)))
                .distinct()
                .order_by(col(play.listener)),
            )
        )
        found = await self.session.execute(
            select(col(credit.artist_id), col(known.ordinal))
            .select_from(_CREDITED.join(known.__table__, col(known.listener) == col(play.listener)))  # type: ignore[attr-defined]
            .where(*streamed)
            .distinct()
        )
        audiences: dict[str, BitMap] = {}
        for artist_id, ordinal in found.all():
            audiences.setdefault(artist_id, BitMap()).add(cast(int, ordinal))
        rows = [
            {"artist_id": artist_id, "day": day, "listeners": audience.serialize()}
            for artist_id, audience in audiences.items()
        ]
        for start in range(0, len(rows), _INSERT_CHUNK):
            await self.session.execute(insert(AnalyticsArtistAudience), rows[start : start + _INSERT_CHUNK])

    async def audiences(self, first: date, last: date) -> list[tuple[str, date, BitMap]]:
        """(artist, day, listener ordinals) of every artist's streams between two days (inclusive)."""
        audience = AnalyticsArtistAudience
        rows = await self.session.execute(
            select(col(audience.artist_id), col(audience.day), col(audience.listeners)).where(
                col(audience.day).between(first, last)
            )
        )
        return [(artist, day, BitMap.deserialize(blob)) for artist, day, blob in rows.all()]

    async def artist_stream_days(self, first: date, last: date) -> list[tuple[str, date, int, int]]:
        """(artist, day, streams, skips) between two days (inclusive)."""
        row = AnalyticsBreakdownDay
        rows = await self.session.execute(
            select(col(row.artist_id), col(row.day), func.sum(col(row.streams)), func.sum(col(row.skips)))
            .where(col(row.dimension) == "device", col(row.day).between(first, last))
            .group_by(col(row.artist_id), col(row.day))
        )
        return [(artist, day, int(streams), int(skips)) for artist, day, streams, skips in rows.all()]

    async def replace_artist_days(self, first: date, last: date, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(
            delete(AnalyticsArtistDay).where(col(AnalyticsArtistDay.day).between(first, last))
        )
        for start in range(0, len(rows), _INSERT_CHUNK):
            await self.session.execute(insert(AnalyticsArtistDay), list(rows[start : start + _INSERT_CHUNK]))

    async def roll_month_breakdowns(self, start: date, end: date) -> None:
        """Every artist's breakdowns over one calendar month, from its days."""
        month, day = AnalyticsBreakdownMonth, AnalyticsBreakdownDay
        await self.session.execute(delete(month).where(col(month.month) == start))
        await self.session.execute(
            insert(month).from_select(
                ["artist_id", "dimension", "month", "value", "streams", "skips", "listeners"],
                select(
                    col(day.artist_id),
                    col(day.dimension),
                    literal(start, Date()),
                    col(day.value),
                    func.sum(col(day.streams)),
                    func.sum(col(day.skips)),
                    func.sum(col(day.listeners)),
                )
                .where(col(day.day).between(start, end))
                .group_by(col(day.artist_id), col(day.dimension), col(day.value)),
            )
        )

    async def last_day(self) -> date | None:
        day: date | None = (
            await self.session.execute(select(func.max(col(AnalyticsArtistAudience.day))))
        ).scalar_one()
        return day


@dataclass(frozen=True)
class ArtistDayRow:
    day: date
    streams: int
    skips: int
    listeners: int
    monthly_listeners: int


@dataclass(frozen=True)
class BreakdownRow:
    value: str
    streams: int
    skips: int
    listeners: int
    """Summed over days: an upper bound of the distinct listeners, used for ordering only."""


def _top_values(
    values: dict[str, list[BreakdownRow]], limit: int
) -> dict[str, tuple[list[BreakdownRow], int]]:
    """Per dimension: its first `limit` values by streams (ties by value), and all their streams."""
    ranked = {}
    for dimension, rows in values.items():
        rows.sort(key=lambda item: (-item.streams, item.value))
        ranked[dimension] = (rows[:limit], sum(item.streams for item in rows))
    return ranked


def _months_and_edges(first: date, last: date) -> tuple[list[date], list[tuple[date, date]]]:
    """The whole calendar months inside first..last (their first days), and the day ranges
    left at either end."""
    start = first if first.day == 1 else (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    months: list[date] = []
    while True:
        following = (start + timedelta(days=32)).replace(day=1)
        if following - timedelta(days=1) > last:
            break
        months.append(start)
        start = following
    if not months:
        return [], [(first, last)]
    edges = []
    if first < months[0]:
        edges.append((first, months[0] - timedelta(days=1)))
    if start <= last:
        edges.append((start, last))
    return months, edges


class MetricsRepository:
    """What the API reads: rollups of one artist or track over a range (inclusive days)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def artists_on_days(
        self, artist_ids: Sequence[str], days: Sequence[date]
    ) -> list[AnalyticsArtistDay]:
        row = AnalyticsArtistDay
        found = await self.session.execute(
            select(row).where(col(row.artist_id).in_(artist_ids), col(row.day).in_(days))
        )
        return list(found.scalars())

    async def artist_days(self, artist_id: str, first: date, last: date) -> list[ArtistDayRow]:
        row = AnalyticsArtistDay
        rows = await self.session.execute(
            select(
                col(row.day), col(row.streams), col(row.skips), col(row.listeners), col(row.monthly_listeners)
            )
            .where(col(row.artist_id) == artist_id, col(row.day).between(first, last))
            .order_by(col(row.day))
        )
        return [ArtistDayRow(*values) for values in rows.all()]

    async def audience_days(self, artist_id: str, first: date, last: date) -> dict[date, BitMap]:
        """Who streamed the artist on each day between two days (inclusive), as listener ordinals."""
        audience = AnalyticsArtistAudience
        rows = await self.session.execute(
            select(col(audience.day), col(audience.listeners)).where(
                col(audience.artist_id) == artist_id, col(audience.day).between(first, last)
            )
        )
        return {day: BitMap.deserialize(blob) for day, blob in rows.all()}

    async def breakdowns(
        self, artist_id: str, dimensions: Sequence[str], first: date, last: date, limit: int
    ) -> dict[str, tuple[list[BreakdownRow], int]]:
        """Per dimension: the top values by streams, and the streams of every value (the
        shares' base). Whole calendar months are read from the monthly rows, the days at
        either end from the daily ones: two statements for every dimension."""
        months, edges = _months_and_edges(first, last)
        totals: dict[tuple[str, str], list[int]] = {}

        def add(found: Any) -> None:
            for dimension, value, s, k, n in found.all():
                cell = totals.setdefault((dimension, value), [0, 0, 0])
                cell[0] += int(s)
                cell[1] += int(k)
                cell[2] += int(n)

        if months:
            month = AnalyticsBreakdownMonth
            add(
                await self.session.execute(
                    select(
                        col(month.dimension),
                        col(month.value),
                        func.sum(col(month.streams)),
                        func.sum(col(month.skips)),
                        func.sum(col(month.listeners)),
                    )
                    .where(
                        col(month.artist_id) == artist_id,
                        col(month.dimension).in_(list(dimensions)),
                        col(month.month).between(months[0], months[-1]),
                    )
                    .group_by(col(month.dimension), col(month.value))
                )
            )
        if edges:
            row = AnalyticsBreakdownDay
            add(
                await self.session.execute(
                    select(
                        col(row.dimension),
                        col(row.value),
                        func.sum(col(row.streams)),
                        func.sum(col(row.skips)),
                        func.sum(col(row.listeners)),
                    )
                    .where(
                        col(row.artist_id) == artist_id,
                        col(row.dimension).in_(list(dimensions)),
                        or_(*(col(row.day).between(start, end) for start, end in edges)),
                    )
                    .group_by(col(row.dimension), col(row.value))
                )
            )
        values: dict[str, list[BreakdownRow]] = {dimension: [] for dimension in dimensions}
        for (dimension, value), (streams, skips, listeners) in totals.items():
            values[dimension].append(BreakdownRow(value, streams, skips, listeners))
        return _top_values(values, limit)

    async def source_days(self, artist_id: str, first: date, last: date) -> list[tuple[date, str, int]]:
        row = AnalyticsBreakdownDay
        rows = await self.session.execute(
            select(col(row.day), col(row.value), col(row.streams)).where(
                col(row.artist_id) == artist_id,
                col(row.dimension) == "source",
                col(row.day).between(first, last),
            )
        )
        return [(day, value, int(streams)) for day, value, streams in rows.all()]

    async def track_series(self, artist_id: str, first: date, last: date) -> list[tuple[str, date, int]]:
        row = AnalyticsBreakdownDay
        rows = await self.session.execute(
            select(col(row.value), col(row.day), col(row.streams)).where(
                col(row.artist_id) == artist_id,
                col(row.dimension) == "track",
                col(row.day).between(first, last),
            )
        )
        return [(track, day, int(streams)) for track, day, streams in rows.all()]

    async def track_days(self, track_id: str, first: date, last: date) -> list[tuple[date, int, int, int]]:
        row = AnalyticsTrackDay
        rows = await self.session.execute(
            select(col(row.day), col(row.streams), col(row.skips), col(row.listeners))
            .where(col(row.track_id) == track_id, col(row.day).between(first, last))
            .order_by(col(row.day))
        )
        return [(day, int(s), int(k), int(n)) for day, s, k, n in rows.all()]

    async def track_listeners(self, track_id: str, ranges: Sequence[tuple[date, date]]) -> list[int]:
        play = AnalyticsPlay
        counts = [
            func.count(
                distinct(
                    case(
                        (and_(col(play.day).between(first, last), col(play.stream)), col(play.listener)),
                        else_=None,
                    )
                )
            )
            for first, last in ranges
        ]
        widest = (min(first for first, _ in ranges), max(last for _, last in ranges))
        found = await self.session.execute(
            select(*counts).where(col(play.track_id) == track_id, col(play.day).between(*widest))
        )
        return [int(value) for value in found.one()]

    async def track_breakdowns(
        self, track_id: str, dimensions: Sequence[str], first: date, last: date, limit: int
    ) -> dict[str, tuple[list[BreakdownRow], int]]:
        """Per dimension: the track's top values by streams and the streams of every value.
        One pass over the track's plays grouped by every dimension at once (a few thousand
        groups), summed per dimension here: each pass reads the plays' rows from the table,
        which is what a track's analytics spends its time on."""
        play = AnalyticsPlay
        columns = [_BREAKDOWN_COLUMNS[dimension] for dimension in dimensions]
        rows = await self.session.execute(
            select(*columns, _streams(), _skips())
            .where(col(play.track_id) == track_id, col(play.day).between(first, last))
            .group_by(*columns)
        )
        sums: dict[str, dict[str, list[int]]] = {dimension: {} for dimension in dimensions}
        for row in rows.all():
            streams, skips = int(row[-2]), int(row[-1])
            for dimension, value in zip(dimensions, row, strict=False):
                cell = sums[dimension].setdefault(value, [0, 0])
                cell[0] += streams
                cell[1] += skips
        values = {
            dimension: [BreakdownRow(value, s, k, 0) for value, (s, k) in cells.items()]
            for dimension, cells in sums.items()
        }
        return _top_values(values, limit)

    async def data_span(self, artist_id: str) -> tuple[date, date] | None:
        row = AnalyticsArtistDay
        first, last = (
            await self.session.execute(
                select(func.min(col(row.day)), func.max(col(row.day))).where(col(row.artist_id) == artist_id)
            )
        ).one()
        return (first, last) if first is not None else None

    async def playlist_days(
        self, context_uri: str, track_ids: Sequence[str], first: date, last: date
    ) -> list[tuple[date, int, int, int]]:
        play = AnalyticsPlay
        rows = await self.session.execute(
            select(col(play.day), _streams(), _skips(), _listeners())
            .where(
                col(play.context_uri) == context_uri,
                col(play.day).between(first, last),
                col(play.track_id).in_(track_ids),
            )
            .group_by(col(play.day))
            .order_by(col(play.day))
        )
        return [(day, int(s), int(k), int(n)) for day, s, k, n in rows.all()]


class ClaimRepository(TenantRepository[AnalyticsArtistClaim]):
    model = AnalyticsArtistClaim

    async def of_artist(self, artist_id: str) -> AnalyticsArtistClaim | None:
        found = await self.session.execute(
            self.select().where(col(AnalyticsArtistClaim.artist_id) == artist_id)
        )
        return found.scalars().first()

    async def verified_artists(self) -> list[str]:
        found = await self.session.execute(
            select(col(AnalyticsArtistClaim.artist_id)).where(
                col(AnalyticsArtistClaim.tenant_id) == self.tenant_id,
                col(AnalyticsArtistClaim.status) == VERIFIED,
            )
        )
        return list(found.scalars())

    async def all(self) -> Sequence[AnalyticsArtistClaim]:
        found = await self.session.execute(self.select().order_by(col(AnalyticsArtistClaim.created_at)))
        return found.scalars().all()


async def claim_by_id(session: AsyncSession, claim_id: str) -> AnalyticsArtistClaim | None:
    """Any tenant's claim: for the platform admins who verify claims."""
    return await session.get(AnalyticsArtistClaim, claim_id)


async def pending_across_tenants(session: AsyncSession, limit: int) -> Sequence[AnalyticsArtistClaim]:
    """Claims of every tenant waiting for a platform admin, oldest first."""
    claim = AnalyticsArtistClaim
    rows = await session.execute(
        select(claim).where(col(claim.status) == PENDING).order_by(col(claim.created_at)).limit(limit)
    )
    return rows.scalars().all()


async def verified_artists_of_any_tenant(session: AsyncSession) -> list[str]:
    """Every artist some tenant has a verified claim on (whom rollup updates concern)."""
    claim = AnalyticsArtistClaim
    rows = await session.execute(
        select(col(claim.artist_id))
        .where(col(claim.status) == VERIFIED)
        .distinct()
        .order_by(col(claim.artist_id))
    )
    return list(rows.scalars())


class ReportRepository(TenantRepository[AnalyticsReport]):
    model = AnalyticsReport

    async def of_artist(self, artist_id: str, limit: int) -> Sequence[AnalyticsReport]:
        found = await self.session.execute(
            self.select()
            .where(col(AnalyticsReport.artist_id) == artist_id)
            .order_by(col(AnalyticsReport.created_at).desc())
            .limit(limit)
        )
        return found.scalars().all()


class ScheduleRepository(TenantRepository[AnalyticsReportSchedule]):
    model = AnalyticsReportSchedule

    async def of_artist(self, artist_id: str) -> Sequence[AnalyticsReportSchedule]:
        found = await self.session.execute(
            self.select().where(col(AnalyticsReportSchedule.artist_id) == artist_id)
        )
        return found.scalars().all()


async def all_schedules(session: AsyncSession) -> Sequence[AnalyticsReportSchedule]:
    """Every tenant's schedules: for the scheduler's cron only."""
    return (await session.execute(select(AnalyticsReportSchedule))).scalars().all()
