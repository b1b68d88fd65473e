"""Rolling plays up: facts in (idempotent on the play's natural key), dirty days marked, each
dirty day rolled again whole (with each artist's audience that day: a roaring bitmap of
listener ordinals), then every artist's days (streams, listeners, and monthly listeners: exact
distinct over the 28 days ending each day) and the calendar months the rolled days fall in.

Monthly listeners are computed exactly, in numpy, from the daily audiences: each
stream covers the 28 days from its day, a listener's streams merge into covered segments, and
the count for a day is the number of segments covering it (a difference array, one cumsum).
That is one pass over the rows instead of one 28-day distinct count a day in SQL."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from pyroaring import BitMap
from sqlalchemy import select
from sqlmodel import col

from shared.db import Database, utcnow
from subgraphs.analytics.models import AnalyticsPlay
from subgraphs.analytics.repository import DirtyDayRepository, PlayRepository, RollupRepository

STREAM_MS = 30_000
"""A play of at least this long is a stream (Spotify's rule); shorter ones are skips."""
MONTH_DAYS = 28
"""Monthly listeners: distinct listeners over this many days, ending on the day."""
DAYS_PER_ROUND = 28
"""Dirty days rolled per transaction (a backfill of a year is 14 rounds)."""


def listener_key(tenant_id: str, user_id: str) -> int:
    """A listener as distinct counts see it: 64 bits of a digest, no user id in the rollups."""
    digest = hashlib.blake2b(f"{tenant_id}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def fact_rows(
    tenant_id: str, user_id: str, country: str | None, plays: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`spotify.plays.ingested` entries as fact rows; an entry without `ms_played` is a stream
    (Spotify's recently played lists streams only)."""
    listener = listener_key(tenant_id, user_id)
    rows = []
    for play in plays:
        played_at = datetime.fromisoformat(play["played_at"])
        ms_played = play.get("ms_played")
        rows.append(
            {
                "tenant_id": tenant_id,
                "user_id": user_id,
                "track_id": play["track_id"],
                "played_at": played_at,
                "day": played_at.date(),
                "listener": listener,
                "ms_played": ms_played,
                "stream": ms_played is None or ms_played >= STREAM_MS,
                "country": (play.get("country") or country or "")[:2],
                "city": (play.get("city") or "")[:80],
                "source": (play.get("source") or "")[:32],
                "device": (play.get("device") or "")[:32],
                "context_uri": play.get("context_uri"),
            }
        )
    return rows


@dataclass
class RollupOutcome:
    days: list[date] = field(default_factory=list)
    artist_days: int = 0

    @property
    def rolled(self) -> int:
        return len(self.days)


async def roll_dirty_days(
    db: Database,
    *,
    quiet_seconds: float = 0.0,
    max_rounds: int | None = None,
    after_round: Callable[[], Awaitable[object]] | None = None,
) -> RollupOutcome:
    """Rolls every dirty day (oldest first, `DAYS_PER_ROUND` a round) until none is left. A
    day marked less than `quiet_seconds` ago waits: while a backfill is arriving (each
    listener's plays touch every day) the days are rolled once it has landed, not once per
    batch. Each day is rolled in its own transaction, so ingestion is never blocked for long.
    `after_round` runs once a round has committed (the caller renews its lock there)."""
    outcome = RollupOutcome()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        settled = utcnow() - timedelta(seconds=quiet_seconds)
        async with db.read() as session:
            pending = await DirtyDayRepository(session).pending(DAYS_PER_ROUND, settled)
        if not pending:
            break
        days = [day for day, _ in pending]
        for day in days:
            async with db.write() as session:
                await RollupRepository(session).roll_day(day)
        async with db.write() as session:
            rollups = RollupRepository(session)
            outcome.artist_days += await _roll_artist_days(rollups, min(days), max(days))
            for start, end in _months(days):
                await rollups.roll_month_breakdowns(start, end)
            await DirtyDayRepository(session).clear(pending)
        outcome.days.extend(days)
        rounds += 1
        if after_round is not None:
            await after_round()
    return outcome


async def mark_dirty(db_session: Any, days: Iterable[date]) -> None:
    await DirtyDayRepository(db_session).mark(days, utcnow())


async def roll_everything(db: Database) -> RollupOutcome:
    """Marks every day with plays dirty and rolls them: a rebuild from the facts."""
    async with db.write() as session:
        days = list((await session.execute(select(col(AnalyticsPlay.day)).distinct())).scalars())
        await mark_dirty(session, days)
    return await roll_dirty_days(db)


def _months(days: Sequence[date]) -> list[tuple[date, date]]:
    months: set[tuple[date, date]] = set()
    for day in days:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        months.add((first, following - timedelta(days=1)))
    return sorted(months)


async def _roll_artist_days(rollups: RollupRepository, first: date, last: date) -> int:
    """Every artist's days from `first` to 27 days after `last` (the days whose monthly
    listeners the rolled days count in), from the rolled rows."""
    last_with_data = await rollups.last_day()
    end = max(last, min(last + timedelta(days=MONTH_DAYS - 1), last_with_data or last))
    lookback = first - timedelta(days=MONTH_DAYS - 1)
    audiences = await rollups.audiences(lookback, end)
    stream_rows = await rollups.artist_stream_days(first, end)
    rows = artist_day_rows(audiences, stream_rows, first, end)
    await rollups.replace_artist_days(first, end, rows)
    return len(rows)


def artist_day_rows(
    audiences: Sequence[tuple[str, date, BitMap]],
    stream_rows: Sequence[tuple[str, date, int, int]],
    first: date,
    last: date,
) -> list[dict[str, Any]]:
    """`AnalyticsArtistDay` rows for the days first..last: streams and skips as given, daily
    and monthly listeners counted from the daily audiences (which must reach 27 days back)."""
    origin = first - timedelta(days=MONTH_DAYS - 1)
    span = (last - origin).days + 1
    artists = sorted({row[0] for row in audiences} | {row[0] for row in stream_rows})
    if not artists:
        return []
    code = {artist: index for index, artist in enumerate(artists)}
    daily = np.zeros((len(artists), span), np.int64)
    monthly = np.zeros((len(artists), span + MONTH_DAYS + 1), np.int64)
    if audiences:
        sizes = np.fromiter((len(audience) for _, _, audience in audiences), np.int64, len(audiences))
        artist_codes = np.fromiter((code[artist] for artist, _, _ in audiences), np.int64, len(audiences))
        offsets = np.fromiter(((day - origin).days for _, day, _ in audiences), np.int64, len(audiences))
        daily[artist_codes, offsets] = sizes  # one audience per (artist, day)
        a, d = np.repeat(artist_codes, sizes), np.repeat(offsets, sizes)
        who = np.concatenate([np.asarray(audience.to_array(), np.int64) for _, _, audience in audiences])
        order = np.lexsort((d, who, a))
        a, d, who = a[order], d[order], who[order]
        same_listener = np.zeros(len(a), bool)
        same_listener[1:] = (a[1:] == a[:-1]) & (who[1:] == who[:-1])
        continues = np.zeros(len(a), bool)
        continues[1:] = same_listener[1:] & (d[1:] <= d[:-1] + MONTH_DAYS)
        starts = np.flatnonzero(~continues)
        ends = np.append(starts[1:], len(a)) - 1
        np.add.at(monthly, (a[starts], d[starts]), 1)
        np.add.at(monthly, (a[ends], d[ends] + MONTH_DAYS), -1)
    covered = np.cumsum(monthly, axis=1)[:, :span]
    streams = np.zeros((len(artists), span), np.int64)
    skips = np.zeros((len(artists), span), np.int64)
    for artist, day, stream_count, skip_count in stream_rows:
        offset = (day - origin).days
        if 0 <= offset < span:
            streams[code[artist], offset] = stream_count
            skips[code[artist], offset] = skip_count
    window = slice(MONTH_DAYS - 1, span)
    rows = []
    for index, artist in enumerate(artists):
        active = covered[index, window] | streams[index, window] | skips[index, window]
        for position in (np.flatnonzero(active) + MONTH_DAYS - 1).tolist():
            rows.append(
                {
                    "artist_id": artist,
                    "day": origin + timedelta(days=int(position)),
                    "streams": int(streams[index, position]),
                    "skips": int(skips[index, position]),
                    "listeners": int(daily[index, position]),
                    "monthly_listeners": int(covered[index, position]),
                }
            )
    return rows


async def ingest(
    session: Any, tenant_id: str, user_id: str, country: str | None, plays: Sequence[dict[str, Any]]
) -> None:
    """Stores a batch of plays as facts (those already stored are skipped) and marks their
    days dirty (a redelivered batch re-rolls days to the same rows)."""
    rows = fact_rows(tenant_id, user_id, country, plays)
    await PlayRepository(session).add(rows)
    await mark_dirty(session, {row["day"] for row in rows})
