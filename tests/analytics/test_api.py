"""analytics through GraphQL, served by the host beside accounts: claims (a tenant admin
claims, a platform admin verifies), an artist's and a track's numbers against a brute-force
count of the same plays, trends, and typed errors for every kind of bad input."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import Database
from subgraphs.analytics.service.rollups import roll_dirty_days
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.data.listening import SyntheticPlay, generate_listening
from tests.analytics.conftest import project_plays_of, project_sample_catalogue
from tests.support.counting import count_statements
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import HostedPlatform, hosted_together

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
ANALYTICS = """
query($artist: ID!, $range: DateRangeInput, $last: Last, $granularity: Granularity, $top: Int) {
  artistAnalytics(artistId: $artist, range: $range, last: $last, granularity: $granularity, top: $top) {
    name range { from to days } previousRange { from to }
    streams { value previous change changePercent } skips { value }
    listeners { value previous } monthlyListeners { value }
    followers saves dataFrom dataTo
    series { streams { date value } listeners { date value } monthlyListeners { date value } }
    topTracks { track { id } name streams share }
    countries { key label streams share } cities { key streams } sources { key label streams share }
    devices { key label streams }
  }
}"""
TRACK = """
query($track: ID!, $last: Last) {
  trackAnalytics(trackId: $track, last: $last) {
    name streams { value } listeners { value } series { streams { date value } }
    countries { key streams } cities { key streams } sources { key streams } devices { key streams }
  }
}"""
TRENDS = """
query($artist: ID!) {
  trends(artistId: $artist) {
    asOf weekOverWeek { days streams { current previous changePercent } listeners { current } }
    growth28Days { days streams { current previous } }
    breakouts { track { id } reason } anomalies { date value expected z direction reason }
  }
}"""
FORECAST = """
query($artist: ID!, $metric: ForecastMetric!, $horizon: Int!, $backtest: Boolean) {
  forecast(artistId: $artist, metric: $metric, horizon: $horizon, backtest: $backtest) {
    model historyFrom historyTo
    points { date value lower80 upper80 lower95 upper95 baseline }
    backtest { origins horizon mase baselineMase coverage80 coverage95 }
  }
}"""
PLAYLIST = """query($playlist: ID!) { playlistAnalytics(playlistId: $playlist, last: MONTHS_12) {
  streams { value } skips { value } series { streams { date value } } } }"""
CLAIM = "mutation($i: ClaimArtistInput!) { claimArtist(input: $i) { claim { id status artist { id } } } }"
VERIFY = "mutation($i: VerifyArtistClaimInput!) { verifyArtistClaim(input: $i) { claim { id status } } }"
RELEASE = "mutation($i: ClaimArtistInput!) { releaseArtistClaim(input: $i) { claim { id } } }"
CLAIMS = "{ artistClaims { id status artist { id } } }"
PENDING = "{ pendingArtistClaims(first: 10) { id status tenantId artist { id } } }"


@pytest.fixture(scope="module")
def plays() -> list[SyntheticPlay]:
    return generate_listening(listeners=25, days=60, end=TODAY, seed=5).plays


def _artists_of() -> dict[str, list[str]]:
    return {track["id"]: [a["id"] for a in track["artists"]] for track in load_sample()["tracks"]}


def _busiest_artist(plays: list[SyntheticPlay]) -> str:
    streams: dict[str, int] = defaultdict(int)
    artists_of = _artists_of()
    for play in plays:
        for artist in artists_of[play.track_id]:
            streams[artist] += play.ms_played >= 30_000
    return max(streams, key=lambda artist: streams[artist])


@pytest.fixture
async def platform(
    settings: Settings, redis_server: Any, database: Database, plays
) -> AsyncIterator[HostedPlatform]:
    redis = Redis.from_url(redis_server.url)
    await redis.flushall()
    await redis.aclose()
    await project_sample_catalogue(database)
    await project_plays_of(database, plays)
    await roll_dirty_days(database)
    async with hosted_together(["accounts", "analytics"], settings, redis_server.url) as hosted:
        yield hosted


async def _call(
    platform: HostedPlatform, query: str, variables: dict[str, Any] | None, token: str | None
) -> dict[str, Any]:
    return await gql(platform.client, query, variables, token=token, path="/analytics/graphql")


async def _people(platform: HostedPlatform) -> tuple[dict[str, Any], dict[str, Any]]:
    """A label's owner and a platform admin (its tenant made a platform admin tenant)."""
    label = await sign_up(platform.client, path="/accounts/graphql")
    operator = await sign_up(platform.client, path="/accounts/graphql", tenant_name="Platform Ops")
    me = await gql(
        platform.client, "{ me { tenant { id } } }", token=operator["token"], path="/accounts/graphql"
    )
    runtime = platform.runtimes["analytics"]
    runtime.settings = runtime.settings.model_copy(
        update={"platform_admin_tenants": me["data"]["me"]["tenant"]["id"]}
    )
    return label, operator


async def _claimed(platform: HostedPlatform, artist: str) -> tuple[dict[str, Any], dict[str, Any]]:
    label, operator = await _people(platform)
    claimed = await _call(platform, CLAIM, {"i": {"artistId": artist}}, label["token"])
    claim = claimed["data"]["claimArtist"]["claim"]
    verified = await _call(platform, VERIFY, {"i": {"claimId": claim["id"]}}, operator["token"])
    assert verified["data"]["verifyArtistClaim"]["claim"]["status"] == "VERIFIED", verified
    return label, operator


async def test_a_claim_opens_an_artists_analytics_only_once_verified(platform, plays):
    artist = _busiest_artist(plays)
    label, operator = await _people(platform)
    unclaimed = await _call(platform, ANALYTICS, {"artist": artist}, label["token"])
    assert codes(unclaimed) == ["FORBIDDEN"]
    claimed = await _call(platform, CLAIM, {"i": {"artistId": artist}}, label["token"])
    claim = claimed["data"]["claimArtist"]["claim"]
    assert claim["status"] == "PENDING"
    assert codes(await _call(platform, ANALYTICS, {"artist": artist}, label["token"])) == ["FORBIDDEN"]
    # The label cannot verify its own claim, nor list everyone's; a platform admin can.
    assert codes(await _call(platform, VERIFY, {"i": {"claimId": claim["id"]}}, label["token"])) == [
        "FORBIDDEN"
    ]
    assert codes(await _call(platform, PENDING, None, label["token"])) == ["FORBIDDEN"]
    pending = await _call(platform, PENDING, None, operator["token"])
    assert [(item["id"], item["status"]) for item in pending["data"]["pendingArtistClaims"]] == [
        (claim["id"], "PENDING")
    ]
    verified = await _call(platform, VERIFY, {"i": {"claimId": claim["id"]}}, operator["token"])
    assert verified["data"]["verifyArtistClaim"]["claim"]["status"] == "VERIFIED"
    assert (await _call(platform, PENDING, None, operator["token"]))["data"]["pendingArtistClaims"] == []
    opened = await _call(platform, ANALYTICS, {"artist": artist}, label["token"])
    assert "errors" not in opened, opened
    listed = await _call(platform, CLAIMS, None, label["token"])
    assert listed["data"]["artistClaims"] == [
        {"id": claim["id"], "status": "VERIFIED", "artist": {"id": artist}}
    ]
    # Another tenant sees nothing of it; releasing closes it again.
    assert codes(await _call(platform, ANALYTICS, {"artist": artist}, operator["token"])) == ["FORBIDDEN"]
    await _call(platform, RELEASE, {"i": {"artistId": artist}}, label["token"])
    assert codes(await _call(platform, ANALYTICS, {"artist": artist}, label["token"])) == ["FORBIDDEN"]


async def test_an_artists_numbers_match_a_count_of_the_plays(platform, plays, database):
    artist = _busiest_artist(plays)
    label, _ = await _claimed(platform, artist)
    yesterday = (TODAY - timedelta(days=1)).date()
    first = yesterday - timedelta(days=27)
    artists_of = _artists_of()
    mine = [play for play in plays if artist in artists_of[play.track_id]]

    def streams_between(start: date, end: date) -> list[SyntheticPlay]:
        return [p for p in mine if start <= p.played_at.date() <= end and p.ms_played >= 30_000]

    current = streams_between(first, yesterday)
    previous = streams_between(first - timedelta(days=28), first - timedelta(days=1))
    with count_statements(platform.runtimes["analytics"].db) as counter:
        body = await _call(platform, ANALYTICS, {"artist": artist, "last": "DAYS_28"}, label["token"])
    assert "errors" not in body, body
    found = body["data"]["artistAnalytics"]
    assert found["range"] == {"from": first.isoformat(), "to": yesterday.isoformat(), "days": 28}
    assert found["streams"]["value"] == len(current)
    assert found["streams"]["previous"] == len(previous)
    assert found["streams"]["change"] == len(current) - len(previous)
    assert found["listeners"]["value"] == len({p.user_id for p in current})
    assert found["monthlyListeners"]["value"] == len({p.user_id for p in current})
    assert found["skips"]["value"] == len(
        [p for p in mine if first <= p.played_at.date() <= yesterday and p.ms_played < 30_000]
    )
    assert [point["date"] for point in found["series"]["streams"]] == [
        (first + timedelta(days=n)).isoformat() for n in range(28)
    ]
    assert sum(point["value"] for point in found["series"]["streams"]) == len(current)
    by_country: dict[str, int] = defaultdict(int)
    for play in current:
        by_country[play.country] += 1
    assert {item["key"]: item["streams"] for item in found["countries"]} == dict(
        sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    )
    assert abs(sum(item["share"] for item in found["sources"]) - 1.0) < 1e-9
    assert found["topTracks"][0]["streams"] >= found["topTracks"][-1]["streams"]
    assert found["followers"] is not None and found["saves"] is None
    # claims, days, listeners, every breakdown (months and edge days), names, artist, span
    assert counter.count <= 7, counter.statements

    year = await _call(
        platform, ANALYTICS, {"artist": artist, "last": "MONTHS_12", "top": 50}, label["token"]
    )
    a_year = streams_between(yesterday - timedelta(days=364), yesterday)
    by_country_year: dict[str, int] = defaultdict(int)
    for play in a_year:
        by_country_year[play.country] += 1
    # Whole months come from the monthly rows, the days at either end from the daily ones.
    assert {item["key"]: item["streams"] for item in year["data"]["artistAnalytics"]["countries"]} == dict(
        by_country_year
    )

    weekly = await _call(
        platform, ANALYTICS, {"artist": artist, "last": "DAYS_28", "granularity": "WEEK"}, label["token"]
    )
    weeks = weekly["data"]["artistAnalytics"]["series"]
    assert sum(point["value"] for point in weeks["streams"]) == len(current)
    for point in weeks["listeners"]:
        start = date.fromisoformat(point["date"])
        end = min(start + timedelta(days=6 - start.weekday()), yesterday)
        assert point["value"] == len({p.user_id for p in streams_between(start, end)})


async def test_a_track_a_playlist_and_the_trends_of_a_claimed_artist(platform, plays):
    artists_of = _artists_of()
    playlist_streams: dict[str, int] = defaultdict(int)
    for play in plays:
        if (play.context or "").startswith("spotify:playlist:") and play.ms_played >= 30_000:
            for credited in artists_of[play.track_id]:
                playlist_streams[credited] += 1
    artist = max(playlist_streams, key=lambda credited: playlist_streams[credited])
    label, _ = await _claimed(platform, artist)
    track = next(p.track_id for p in plays if artist in artists_of[p.track_id])
    other = next(p.track_id for p in plays if artist not in artists_of[p.track_id])
    with count_statements(platform.runtimes["analytics"].db) as counter:
        body = await _call(platform, TRACK, {"track": track, "last": "MONTHS_12"}, label["token"])
    assert "errors" not in body, body
    found = body["data"]["trackAnalytics"]
    expected = [p for p in plays if p.track_id == track and p.ms_played >= 30_000 and p.played_at < TODAY]
    assert found["streams"]["value"] == len(expected)
    assert found["listeners"]["value"] == len({p.user_id for p in expected})
    for breakdown, of_play in (
        ("countries", lambda p: p.country),
        ("cities", lambda p: p.city),
        ("sources", lambda p: p.source),
        ("devices", lambda p: p.device),
    ):
        counted: dict[str, int] = defaultdict(int)
        for play in expected:
            counted[of_play(play) or ""] += 1
        top = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(item["key"], item["streams"]) for item in found[breakdown]] == top, breakdown
    assert counter.count <= 5, counter.statements  # track, claims, days, listeners, breakdowns
    assert codes(await _call(platform, TRACK, {"track": other}, label["token"])) == ["FORBIDDEN"]
    from_playlists = [
        p
        for p in plays
        if artist in artists_of[p.track_id]
        and (p.context or "").startswith("spotify:playlist:")
        and p.ms_played >= 30_000
        and p.played_at < TODAY
    ]
    uri = max(
        {p.context for p in from_playlists}, key=lambda uri: sum(p.context == uri for p in from_playlists)
    )
    playlist = str(uri).removeprefix("spotify:playlist:")
    expected_from = [p for p in from_playlists if p.context == uri]
    listed = await _call(platform, PLAYLIST, {"playlist": playlist}, label["token"])
    assert "errors" not in listed, listed
    assert listed["data"]["playlistAnalytics"]["streams"]["value"] == len(expected_from) > 0
    trends = await _call(platform, TRENDS, {"artist": artist}, label["token"])
    assert "errors" not in trends, trends
    found = trends["data"]["trends"]
    assert found["weekOverWeek"]["days"] == 7 and found["growth28Days"]["days"] == 28
    last_week = [
        p
        for p in plays
        if artist in artists_of[p.track_id]
        and p.ms_played >= 30_000
        and TODAY - timedelta(days=7) <= p.played_at < TODAY
    ]
    assert found["weekOverWeek"]["streams"]["current"] == len(last_week)


BAD_INPUT = [
    ({"range": {"from": "2026-03-10", "to": "2026-03-01"}}, "range"),
    ({"range": {"from": "2026-03-01", "to": "2999-01-01"}}, "range.to"),
    ({"range": {"from": "2019-01-01", "to": "2026-03-01"}}, "range"),
    ({"range": {"from": "2026-03-01", "to": "2026-03-10"}, "last": "DAYS_7"}, "range"),
    ({"last": "DAYS_7", "top": 0}, "top"),
    ({"last": "DAYS_7", "top": 51}, "top"),
]


async def test_bad_ranges_and_limits_are_typed(platform, plays):
    artist = _busiest_artist(plays)
    label, _ = await _claimed(platform, artist)
    for variables, field in BAD_INPUT:
        body = await _call(platform, ANALYTICS, {"artist": artist, **variables}, label["token"])
        assert codes(body) == ["BAD_USER_INPUT"], (variables, body)
        assert body["errors"][0]["extensions"].get("field") == field, variables


async def test_unknown_artists_and_strangers(platform, plays):
    label, _ = await _people(platform)
    assert codes(await _call(platform, ANALYTICS, {"artist": "0000000000000000000000"}, label["token"])) == [
        "FORBIDDEN"
    ]
    unknown = await _call(platform, CLAIM, {"i": {"artistId": "0000000000000000000000"}}, label["token"])
    assert codes(unknown) == ["NOT_FOUND"]
    assert codes(await _call(platform, ANALYTICS, {"artist": _busiest_artist(plays)}, None)) == [
        "UNAUTHENTICATED"
    ]


async def test_an_artist_without_plays_in_range_gets_an_honest_empty_answer(platform, plays):
    artist = _busiest_artist(plays)
    label, _ = await _claimed(platform, artist)
    body = await _call(
        platform,
        ANALYTICS,
        {"artist": artist, "range": {"from": "2024-01-01", "to": "2024-01-31"}},
        label["token"],
    )
    assert "errors" not in body, body
    found = body["data"]["artistAnalytics"]
    assert found["streams"]["value"] == 0 and found["streams"]["changePercent"] is None
    assert len(found["series"]["streams"]) == 31 and all(p["value"] == 0 for p in found["series"]["streams"])
    assert found["topTracks"] == [] and found["countries"] == []
    assert found["dataFrom"] is not None  # says where the data is


async def test_a_forecast_has_ordered_intervals_a_baseline_and_typed_bounds(platform, plays):
    artist = _busiest_artist(plays)
    label, _ = await _claimed(platform, artist)
    body = await _call(
        platform,
        FORECAST,
        {"artist": artist, "metric": "STREAMS", "horizon": 14, "backtest": True},
        label["token"],
    )
    assert "errors" not in body, body
    found = body["data"]["forecast"]
    yesterday = (TODAY - timedelta(days=1)).date()
    assert found["historyTo"] == yesterday.isoformat() and found["model"]
    assert [point["date"] for point in found["points"]] == [
        (yesterday + timedelta(days=n)).isoformat() for n in range(1, 15)
    ]
    for point in found["points"]:
        assert (
            0
            <= point["lower95"]
            <= point["lower80"]
            <= point["value"]
            <= point["upper80"]
            <= point["upper95"]
        )
    assert found["backtest"]["origins"] >= 1 and found["backtest"]["baselineMase"] > 0
    again = await _call(
        platform,
        FORECAST,
        {"artist": artist, "metric": "STREAMS", "horizon": 14, "backtest": True},
        label["token"],
    )
    assert again == body  # the cached fit answers the same
    for horizon in (0, 91):
        refused = await _call(
            platform, FORECAST, {"artist": artist, "metric": "LISTENERS", "horizon": horizon}, label["token"]
        )
        assert (
            codes(refused) == ["BAD_USER_INPUT"] and refused["errors"][0]["extensions"]["field"] == "horizon"
        )
    other = next(a for a in _artists_of().values() for a in a if a != artist)
    assert codes(
        await _call(platform, FORECAST, {"artist": other, "metric": "STREAMS", "horizon": 7}, label["token"])
    ) == ["FORBIDDEN"]
