"""Rollups against a brute-force count of the same plays: streams and skips by Spotify's 30 s
rule, exact daily and monthly listeners (28 days), idempotent re-rolls, late plays re-rolling
their day, plays that arrive before their track being credited once it does. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pyroaring import BitMap
from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError
from sqlalchemy import func, select

from shared.db import Database, utcnow
from subgraphs.analytics.config import AnalyticsSettings
from subgraphs.analytics.models import (
    AnalyticsArtistAudience,
    AnalyticsArtistDay,
    AnalyticsBreakdownDay,
    AnalyticsPlay,
    AnalyticsRollup,
)
from subgraphs.analytics.repository import DirtyDayRepository
from subgraphs.analytics.service import rollups
from subgraphs.analytics.service.rollups import (
    DAYS_PER_ROUND,
    artist_day_rows,
    roll_dirty_days,
    roll_everything,
)
from subgraphs.analytics.tasks import ROLLUP_LEASE_SECONDS, ROLLUP_LOCK, roll_up
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import SyntheticPlay, generate_listening
from tests.analytics.conftest import project_plays_of, project_sample_catalogue

END = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def listening() -> list[SyntheticPlay]:
    return generate_listening(listeners=40, days=60, end=END, seed=11).plays


def _artists_of() -> dict[str, list[str]]:
    return {track["id"]: [a["id"] for a in track["artists"]] for track in load_sample()["tracks"]}


def _expected(plays: list[SyntheticPlay]) -> dict[tuple[str, date], dict[str, Any]]:
    """Per (artist, day): streams, skips, the set of listeners who streamed."""
    artists_of = _artists_of()
    days: dict[tuple[str, date], dict[str, Any]] = defaultdict(
        lambda: {"streams": 0, "skips": 0, "who": set()}
    )
    for play in plays:
        for artist in artists_of[play.track_id]:
            cell = days[(artist, play.played_at.date())]
            if play.ms_played >= 30_000:
                cell["streams"] += 1
                cell["who"].add(play.user_id)
            else:
                cell["skips"] += 1
    return days


async def _artist_days(database: Database) -> dict[tuple[str, date], tuple[int, int, int, int]]:
    async with database.read() as session:
        rows = (await session.execute(select(AnalyticsArtistDay))).scalars().all()
    return {(r.artist_id, r.day): (r.streams, r.skips, r.listeners, r.monthly_listeners) for r in rows}


async def _fingerprint(database: Database) -> tuple[Any, ...]:
    async with database.read() as session:
        rollup = (await session.execute(select(AnalyticsRollup))).scalars().all()
        breakdown = (await session.execute(select(AnalyticsBreakdownDay))).scalars().all()
        audiences = (await session.execute(select(AnalyticsArtistAudience))).scalars().all()
    return (
        sorted(
            (r.artist_id, r.day, r.track_id, r.country, r.source, r.device, r.streams, r.skips, r.listeners)
            for r in rollup
        ),
        sorted((r.artist_id, r.dimension, r.day, r.value, r.streams, r.listeners) for r in breakdown),
        sorted((r.artist_id, r.day, r.listeners) for r in audiences),
        sorted((await _artist_days(database)).items()),
    )


async def test_rollups_match_a_brute_force_count_and_rolling_again_changes_nothing(database, listening):
    await project_sample_catalogue(database)
    fed = await project_plays_of(database, listening)
    assert fed == len(listening)
    outcome = await roll_dirty_days(database)
    assert outcome.rolled == len({play.played_at.date() for play in listening})

    expected = _expected(listening)
    stored = await _artist_days(database)
    for (artist, day), cell in expected.items():
        streams, skips, listeners, _ = stored[(artist, day)]
        assert (streams, skips, listeners) == (cell["streams"], cell["skips"], len(cell["who"]))
    # Monthly listeners: distinct over the 28 days ending on the day, checked on a sample of artists.
    busiest = sorted(
        {artist for artist, _ in expected},
        key=lambda a: -sum(c["streams"] for (x, _), c in expected.items() if x == a),
    )
    for artist in busiest[:5]:
        for (stored_artist, day), (_, _, _, monthly) in stored.items():
            if stored_artist != artist:
                continue
            window = [day - timedelta(days=n) for n in range(28)]
            who = set().union(*(expected[(artist, d)]["who"] for d in window if (artist, d) in expected))
            assert monthly == len(who), (artist, day)

    before = await _fingerprint(database)
    await roll_everything(database)
    assert await _fingerprint(database) == before


async def test_a_late_play_rolls_its_day_again_and_a_replayed_batch_counts_once(database, listening):
    await project_sample_catalogue(database)
    await project_plays_of(database, listening)
    await project_plays_of(database, listening)  # the same events delivered twice
    async with database.read() as session:
        assert (await session.execute(select(func.count()).select_from(AnalyticsPlay))).scalar_one() == len(
            listening
        )
    await roll_dirty_days(database)
    track = listening[0].track_id
    artist = _artists_of()[track][0]
    day = listening[0].played_at.date() + timedelta(days=3)
    before = (await _artist_days(database)).get((artist, day), (0, 0, 0, 0))
    late = SyntheticPlay(
        user_id="late-listener",
        track_id=track,
        played_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12),
        ms_played=200_000,
        skipped=False,
        country="SE",
        city="Stockholm",
        device="mobile",
        source="search",
        context=None,
    )
    await project_plays_of(database, [late])
    assert (await roll_dirty_days(database, quiet_seconds=60)).days == []  # it waits for quiet
    outcome = await roll_dirty_days(database)
    assert outcome.days == [day]
    after = await _artist_days(database)
    assert after[(artist, day)][0] == before[0] + 1
    assert after[(artist, day)][2] == before[2] + 1
    # A new listener counts in the monthly listeners of the 28 days from that day.
    for n in range(28):
        later = day + timedelta(days=n)
        if (artist, later) in after and later <= max(d for _, d in after):
            assert after[(artist, later)][3] >= 1


async def test_plays_before_their_track_are_credited_when_it_arrives(database, listening):
    plays = listening[:300]
    await project_plays_of(database, plays)
    await roll_dirty_days(database)
    assert await _artist_days(database) == {}
    await project_sample_catalogue(database)
    await roll_dirty_days(database)
    expected = _expected(plays)
    stored = await _artist_days(database)
    assert sum(cell["streams"] for cell in expected.values()) == sum(v[0] for (a, d), v in stored.items())


def test_monthly_listeners_cover_28_days_and_merge_a_listeners_streams():
    first = date(2026, 3, 1)
    rows = [
        ("a1", first - timedelta(days=27), BitMap([1])),  # counts on `first`, the window's oldest day
        ("a1", first, BitMap([2])),
        ("a1", first + timedelta(days=1), BitMap([2])),  # the same listener again: still one
        ("a1", first + timedelta(days=40), BitMap([1])),
    ]
    result = {
        row["day"]: row
        for row in artist_day_rows(rows, [("a1", first, 5, 1)], first, first + timedelta(days=45))
    }
    assert result[first]["monthly_listeners"] == 2
    assert result[first + timedelta(days=1)]["monthly_listeners"] == 1  # listener 1 left the window
    assert result[first + timedelta(days=1)]["listeners"] == 1
    assert result[first]["streams"] == 5 and result[first]["skips"] == 1
    assert result[first + timedelta(days=28)]["monthly_listeners"] == 1  # listener 2 still inside
    assert first + timedelta(days=30) not in result  # nobody in the 28 days ending that day
    assert result[first + timedelta(days=45)]["monthly_listeners"] == 1


async def test_one_worker_rolls_at_a_time_on_a_lease_renewed_each_round(
    database, listening, redis_server, monkeypatch
):
    """A second worker finds the rollup busy and leaves the holder's lock alone; the holder
    renews its lease after each round and frees it at the end; a worker whose lease another
    took stops at the next round instead of rolling beside it, and leaves that lock alone."""
    await project_sample_catalogue(database)
    await project_plays_of(database, listening)
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    settings = {"analytics": AnalyticsSettings(analytics_rollup_quiet_seconds=0)}
    ctx = {"db": database, "platform_redis": redis, "subgraph_settings": settings}
    try:
        other = redis.lock(ROLLUP_LOCK, timeout=60)
        assert await other.acquire(blocking=False)
        assert await roll_up(ctx) == {"rolled": 0, "busy": True}
        assert await redis.get(ROLLUP_LOCK) == other.local.token.decode()
        await other.release()

        renewals: list[int] = []
        real_roll = rollups.roll_dirty_days

        async def watched(db: Database, **kwargs: Any) -> Any:
            async def renewed() -> None:
                renewals.append(await redis.ttl(ROLLUP_LOCK))
                await kwargs["after_round"]()
                renewals[-1] = await redis.ttl(ROLLUP_LOCK)

            return await real_roll(db, **{**kwargs, "after_round": renewed})

        monkeypatch.setattr(rollups, "roll_dirty_days", watched)
        done = await roll_up(ctx)
        days = len({play.played_at.date() for play in listening})
        assert done["rolled"] == days
        assert len(renewals) == -(-days // DAYS_PER_ROUND)
        assert all(ttl > ROLLUP_LEASE_SECONDS - 5 for ttl in renewals)
        assert await redis.exists(ROLLUP_LOCK) == 0

        async def taken_over(db: Database, **kwargs: Any) -> Any:
            async def stolen() -> None:
                await redis.set(ROLLUP_LOCK, "another-worker", ex=60)
                await kwargs["after_round"]()

            return await real_roll(db, **{**kwargs, "after_round": stolen})

        monkeypatch.setattr(rollups, "roll_dirty_days", taken_over)
        async with database.write() as session:
            await rollups.mark_dirty(session, {play.played_at.date() for play in listening})
        with pytest.raises(LockNotOwnedError):
            await roll_up(ctx)
        assert await redis.get(ROLLUP_LOCK) == "another-worker"
        async with database.read() as session:
            left = await DirtyDayRepository(session).pending(1000, utcnow())
        assert len(left) == days - DAYS_PER_ROUND  # the first round committed, the rest waits
    finally:
        await redis.delete(ROLLUP_LOCK)
        await redis.aclose()
