"""Trends of an artist on synthetic days (seeded): growth is exact, injected spikes and drops are
found with the right weekday and source, steady seasonal noise raises (almost) nothing, and only a
track that outgrows the rest of the catalogue is a breakout."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

import numpy as np
import pytest

from subgraphs.analytics.trends import (
    MIN_DAYS,
    NO_GROWTH,
    Anomaly,
    ArtistDays,
    Growth,
    Trends,
    compute_trends,
    source_label,
)

MONDAY = date(2025, 1, 6)
WEEKDAY_FACTORS = np.array([0.8, 0.75, 0.85, 0.95, 1.25, 1.35, 1.05])
SOURCE_MIX = {
    "library": 0.3,
    "own_playlist": 0.1,
    "editorial_playlist": 0.1,
    "algorithmic_playlist": 0.15,
    "other_playlist": 0.05,
    "radio": 0.1,
    "search": 0.1,
    "artist_profile": 0.05,
    "other": 0.05,
}
TRACK_WEIGHTS = {"anthem": 0.4, "ballad": 0.25, "b_side": 0.15, "intro": 0.1, "remix": 0.1}


def steady_artist(seed: int, days: int, daily_mean: float) -> ArtistDays:
    """Poisson streams per track around a weekly profile, split over sources by a fixed mix."""
    rng = np.random.default_rng(seed)
    rate = daily_mean * WEEKDAY_FACTORS[np.arange(days) % 7]
    tracks = {track: rng.poisson(rate * weight) for track, weight in TRACK_WEIGHTS.items()}
    streams = np.sum(list(tracks.values()), axis=0)
    by_source = rng.multinomial(streams, list(SOURCE_MIX.values()))
    sources = {source: by_source[:, i] for i, source in enumerate(SOURCE_MIX)}
    return ArtistDays(MONDAY, streams, rng.binomial(streams, 0.4), sources, tracks)


def add_streams(days: ArtistDays, day: int, track: str, extra_by_source: dict[str, int]) -> ArtistDays:
    """``days`` with extra streams of one track on one day, from the given sources."""
    extra = sum(extra_by_source.values())
    streams = days.streams.copy()
    streams[day] += extra
    sources = {source: values.copy() for source, values in days.sources.items()}
    for source, count in extra_by_source.items():
        sources[source][day] += count
    tracks = {track_id: values.copy() for track_id, values in days.tracks.items()}
    tracks[track][day] += extra
    return dataclasses.replace(days, streams=streams, sources=sources, tracks=tracks)


def anomaly_on(trends: Trends, day: int, *, injected: int = 1) -> Anomaly:
    """The one anomaly found on ``day``; steady noise may add one more to the ``injected`` ones."""
    on_day = [anomaly for anomaly in trends.anomalies if anomaly.day == MONDAY + timedelta(days=day)]
    assert len(on_day) == 1 and len(trends.anomalies) <= injected + 1, trends.anomalies
    return on_day[0]


def test_a_spike_on_a_tuesday_is_found_with_its_weekday_and_its_source():
    days = steady_artist(seed=1, days=26 * 7, daily_mean=300)
    tuesday = 20 * 7 + 1
    usual = 0.75 * 300
    spiked = add_streams(days, tuesday, "ballad", {"editorial_playlist": 450, "algorithmic_playlist": 30})

    anomaly = anomaly_on(compute_trends(spiked), tuesday)

    assert anomaly.day == MONDAY + timedelta(days=tuesday) and anomaly.day.weekday() == 1
    assert anomaly.direction == "SPIKE" and anomaly.z > 3.5
    assert anomaly.value == spiked.streams[tuesday]
    assert anomaly.expected == pytest.approx(usual, rel=0.1)
    editorial_share = spiked.sources["editorial_playlist"][tuesday] / spiked.streams[tuesday]
    times = anomaly.value / anomaly.expected
    assert anomaly.reason == (
        f"streams {times:.1f}\u00d7 the usual Tuesday, {round(editorial_share * 100)} % from editorial playlists"
    )
    assert all(a.day != anomaly.day for a in compute_trends(days).anomalies)


def test_a_spike_spread_over_playlists_names_the_family():
    days = steady_artist(seed=2, days=16 * 7, daily_mean=300)
    friday = 14 * 7 + 4
    spread = {
        "own_playlist": 150,
        "editorial_playlist": 150,
        "algorithmic_playlist": 150,
        "other_playlist": 150,
    }

    anomaly = anomaly_on(compute_trends(add_streams(days, friday, "anthem", spread)), friday)

    assert anomaly.day.weekday() == 4
    assert re.fullmatch(r"streams \d\.\d\u00d7 the usual Friday, \d+ % from playlists", anomaly.reason)


def test_a_drop_on_a_sunday_is_found_and_names_no_source_when_all_fell_alike():
    days = steady_artist(seed=3, days=26 * 7, daily_mean=300)
    sunday = 22 * 7 + 6
    rng = np.random.default_rng(33)
    sources = {source: values.copy() for source, values in days.sources.items()}
    for values in sources.values():
        values[sunday] = rng.binomial(values[sunday], 0.35)
    streams = days.streams.copy()
    streams[sunday] = sum(values[sunday] for values in sources.values())
    dropped = dataclasses.replace(days, streams=streams, sources=sources)

    anomaly = anomaly_on(compute_trends(dropped), sunday)

    assert anomaly.day == MONDAY + timedelta(days=sunday) and anomaly.direction == "DROP"
    assert anomaly.z < -3.5 and anomaly.value < anomaly.expected
    assert anomaly.reason == f"streams {anomaly.value / anomaly.expected:.1f}\u00d7 the usual Sunday"


def test_a_drop_of_one_source_names_it():
    days = steady_artist(seed=4, days=12 * 7, daily_mean=1000)
    wednesday = 11 * 7 + 2
    sources = {source: values.copy() for source, values in days.sources.items()}
    streams = days.streams.copy()
    streams[wednesday] -= sources["library"][wednesday]
    sources["library"][wednesday] = 0

    anomaly = anomaly_on(
        compute_trends(dataclasses.replace(days, streams=streams, sources=sources)), wednesday
    )

    assert anomaly.direction == "DROP"
    assert re.fullmatch(
        r"streams 0\.\d\u00d7 the usual Wednesday, listeners' libraries down to 0 % from a usual (29|30|31) %",
        anomaly.reason,
    )


def test_anomalies_are_latest_first_and_capped():
    days = steady_artist(seed=5, days=30 * 7, daily_mean=300)
    spike_days = [8 * 7 + 3, 12 * 7 + 1, 17 * 7 + 5, 23 * 7, 27 * 7 + 6]
    for day in spike_days:
        days = add_streams(days, day, "anthem", {"radio": 600})

    trends = compute_trends(days, limit=100)
    latest = compute_trends(days, limit=3).anomalies

    injected = [anomaly_on(trends, day, injected=len(spike_days)) for day in spike_days]
    assert all(a.reason.endswith("from radio") for a in injected)
    everything = trends.anomalies
    assert [a.day for a in everything] == sorted((a.day for a in everything), reverse=True)
    assert latest == everything[:3]
    assert compute_trends(days, limit=0).anomalies == []


@pytest.mark.parametrize("daily_mean", [2, 40, 300, 20_000])
def test_a_steady_seasonal_year_raises_at_most_one_anomaly(daily_mean):
    flagged = [
        len(compute_trends(steady_artist(seed, 365, daily_mean), limit=100).anomalies) for seed in range(6)
    ]

    assert max(flagged) <= 1
    assert sum(flagged) <= 2


def test_a_near_constant_series_needs_more_than_poisson_noise_to_flag():
    flat = np.full(10 * 7, 400.0)
    wiggle, jump = flat.copy(), flat.copy()
    wiggle[60] = 460
    jump[60] = 500

    assert compute_trends(ArtistDays(MONDAY, wiggle, flat, {}, {})).anomalies == []
    (anomaly,) = compute_trends(ArtistDays(MONDAY, jump, flat, {}, {})).anomalies
    assert anomaly.z == pytest.approx(100 / np.sqrt(400))
    assert anomaly.reason == "streams 1.2\u00d7 the usual Friday"


def test_a_small_artist_binge_is_no_anomaly():
    quiet = np.zeros(10 * 7)
    quiet[::9] = 1
    quiet[62] = 15

    assert compute_trends(ArtistDays(MONDAY, quiet, quiet, {}, {})).anomalies == []


def with_rising_track(days: ArtistDays, name: str, before: int, now: int, source: str) -> ArtistDays:
    """A track streamed ``before`` a day until last week and ``now`` a day over the last week."""
    length = len(days.streams)
    track = np.full(length, before)
    track[-7:] = now
    streams = days.streams + track
    sources = dict(days.sources)
    sources[source] = days.sources[source] + track
    return dataclasses.replace(days, streams=streams, sources=sources, tracks={**days.tracks, name: track})


def test_a_track_outgrowing_the_catalogue_is_a_breakout_and_a_big_steady_one_is_not():
    days = steady_artist(seed=6, days=8 * 7, daily_mean=300)
    days = with_rising_track(days, "sleeper", before=10, now=80, source="algorithmic_playlist")

    (breakout,) = compute_trends(days).breakouts

    assert breakout.track_id == "sleeper"
    assert (breakout.current, breakout.previous, breakout.growth_ratio) == (560, 70, 8.0)
    rest_now = days.streams[-7:].sum() - 560
    rest_before = days.streams[-14:-7].sum() - 70
    assert breakout.baseline_growth_ratio == pytest.approx(rest_now / rest_before)
    algorithmic = days.sources["algorithmic_playlist"]
    share_now = algorithmic[-7:].sum() / days.streams[-7:].sum()
    share_before = algorithmic[-14:-7].sum() / days.streams[-14:-7].sum()
    assert breakout.reason == (
        f"streams up 8.0\u00d7 week over week against {breakout.baseline_growth_ratio:.1f}\u00d7 for the rest"
        f" of the artist's catalogue, as algorithmic playlists rose to {round(share_now * 100)} % of the"
        f" artist's streams from {round(share_before * 100)} %"
    )
    anthem = days.tracks["anthem"]
    assert anthem[-7:].sum() > 500 and 0.8 < anthem[-7:].sum() / anthem[-14:-7].sum() < 1.25


def test_noise_and_tiny_volumes_are_no_breakouts():
    days = steady_artist(seed=7, days=6 * 7, daily_mean=300)
    tiny = np.zeros(len(days.streams))
    tiny[-14] = tiny[-3] = tiny[-2] = tiny[-1] = 2
    doubled = np.ones(len(days.streams))
    doubled[-14:-7] = [2, 1, 2, 1, 2, 1, 1]
    doubled[-7:] = [3, 3, 3, 3, 3, 4, 3]
    days = dataclasses.replace(days, tracks={**days.tracks, "tiny": tiny, "doubled": doubled})

    assert doubled[-7:].sum() >= 2 * doubled[-14:-7].sum() >= 20
    assert compute_trends(days).breakouts == []


def test_a_revived_track_comes_first_and_a_new_release_is_no_breakout():
    days = steady_artist(seed=8, days=8 * 7, daily_mean=300)
    revived, release, rising = (np.zeros(len(days.streams)) for _ in range(3))
    revived[:20] = 3
    revived[-7:] = 40
    release[-7:] = 200
    rising[:-7] = 5
    rising[-7:] = 30
    tracks = {**days.tracks, "revived": revived, "release": release, "rising": rising}
    streams = days.streams + revived + release + rising
    sources = {**days.sources, "search": days.sources["search"] + revived + release + rising}

    breakouts = compute_trends(
        dataclasses.replace(days, streams=streams, sources=sources, tracks=tracks)
    ).breakouts

    assert [b.track_id for b in breakouts] == ["revived", "rising"]
    assert breakouts[0].growth_ratio is None
    assert breakouts[0].reason.startswith("280 streams this week after none the week before, against ")
    assert breakouts[1].growth_ratio == 6.0


def test_growth_is_exact_on_a_hand_built_series():
    streams = np.array([10] * 28 + [20] * 21 + [30] * 7)
    listeners = np.array([4] * 28 + [5] * 21 + [8] * 7)

    trends = compute_trends(ArtistDays(MONDAY, streams, listeners, {}, {}))

    assert trends.week_over_week.days == 7
    assert trends.week_over_week.streams == Growth(210.0, 140.0, 70.0, 0.5)
    assert trends.week_over_week.listeners == Growth(8.0, 5.0, 3.0, pytest.approx(0.6))
    assert trends.growth_28d.days == 28
    assert trends.growth_28d.streams == Growth(630.0, 280.0, 350.0, 1.25)
    assert trends.growth_28d.listeners == Growth(5.75, 4.0, 1.75, pytest.approx(0.4375))


def test_a_period_longer_than_half_the_series_or_from_nothing_has_no_ratio():
    streams = np.array([0] * 7 + [5] * 13)

    trends = compute_trends(ArtistDays(MONDAY, streams, streams, {}, {}))

    assert trends.week_over_week.streams == Growth(35.0, 30.0, 5.0, pytest.approx(1 / 6))
    assert trends.growth_28d.streams == NO_GROWTH
    from_nothing = compute_trends(ArtistDays(MONDAY, np.array([0] * 7 + [3] * 7), np.zeros(14), {}, {}))
    assert from_nothing.week_over_week.streams == Growth(21.0, 0.0, 21.0, None)


@pytest.mark.parametrize(
    "streams", [np.array([]), np.arange(MIN_DAYS - 1) * 100, np.zeros(120)], ids=["empty", "short", "zeros"]
)
def test_empty_short_and_silent_series_give_an_empty_result(streams):
    tracks = {"only": streams.copy()}
    trends = compute_trends(ArtistDays(MONDAY, streams, streams, {"radio": streams}, tracks))

    assert trends.breakouts == [] and trends.anomalies == []
    for period in (trends.week_over_week, trends.growth_28d):
        assert period.streams == NO_GROWTH and period.listeners == NO_GROWTH


def test_ragged_and_unknown_inputs_are_taken_gracefully():
    days = steady_artist(seed=9, days=20 * 7, daily_mean=300)
    tuesday = 18 * 7 + 1
    spiked = add_streams(days, tuesday, "anthem", {"library": 500})
    sources = {
        **{source: values for source, values in spiked.sources.items() if source != "library"},
        "user_library": spiked.sources["library"][-100:],
        "tiktok_clip": np.append(np.full(len(days.streams) - 1, np.nan), 3.0),
    }
    ragged = dataclasses.replace(spiked, listeners=spiked.listeners[-30:], sources=sources)

    trends = compute_trends(ragged)

    anomaly = anomaly_on(trends, tuesday)
    assert anomaly.reason.endswith("from listeners' libraries")
    assert trends.week_over_week.listeners == compute_trends(spiked).week_over_week.listeners
    assert trends.growth_28d.listeners.previous < trends.growth_28d.listeners.current
    assert (source_label("tiktok_clip"), source_label("algorithmic")) == (
        "tiktok clip",
        "algorithmic playlists",
    )
