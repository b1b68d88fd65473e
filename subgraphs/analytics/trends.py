"""Trends of one artist's streams, the computation behind ``trends(artistId)``: growth week over
week and over 28 days, breakout tracks and anomalous days, each with a one-line reason built from
the numbers. Pure: the caller loads the daily series into `ArtistDays`; no database, no GraphQL.

Every series is read as counts per day, oldest first, all ending on the same (last complete) day.
Missing or non-finite values count as 0, shorter series are taken as starting later (padded with
zeros at the front), longer ones are cut to the length of ``streams``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

WEEK = 7
FOUR_WEEKS = 4 * WEEK

MIN_DAYS = 2 * WEEK
"""With fewer days nothing can be compared: the result is empty (zero growth, no lists)."""

BASELINE_WEEKS = 8
"""How many previous same weekdays make "the usual Tuesday" (their median, see `_usual_by_day`)."""
MIN_BASELINE_WEEKS = 4
"""Days with fewer previous same weekdays (the first four weeks) are not scored at all."""
MAD_TO_SD = 1.4826
"""Scales a median absolute deviation to a standard deviation for normal noise."""
SPREAD_WINDOW_DAYS = 12 * WEEK + 1
"""Scored days around a day whose residuals measure its noise: long enough for a stable median
absolute deviation, short enough to follow an artist whose volume (and noise) grows."""
ANOMALY_Z_THRESHOLD = 3.5
"""Robust z beyond which a day is an anomaly, the usual cut-off for modified z-scores (Iglewicz
and Hoaglin): on steady seasonal Poisson streams about one false alarm in four or five years."""
MIN_ANOMALY_STREAMS = 20
"""A day is never an anomaly for a difference of fewer streams than this: plays come in sessions
(8 on average, up to 25), so one listener's binge must not be a spike of a small artist."""

MIN_SHARE_SHIFT = 0.10
"""A source (or the playlists family) is named in a reason only when its share of the streams
moved at least this much (10 points) from its usual share; below that the change is broad."""
SHARE_SHIFT_Z = 3.0
"""The move must also exceed this many binomial standard deviations of a share over the day's
(or week's) streams: on 100 streams a 30 % source moves 10 points by chance about one day in 70."""
DOMINANT_MEMBER = 2 / 3
"""A single playlist source is named instead of "playlists" when it carries this much of the
family's shift."""

BREAKOUT_RELATIVE_GROWTH = 2.0
"""A breakout grows week over week at least this many times as fast as the rest of the artist's
catalogue, and at least this much in absolute terms (a flat track of a falling artist is no
breakout)."""
MIN_BREAKOUT_STREAMS = 20
"""Streams of a track over the last week below which it is never a breakout (3 -> 9 is noise)."""
BREAKOUT_MIN_Z = 3.0
"""How far (in standard deviations) the track's week must exceed what the catalogue's growth
predicts, by the exact test of two Poisson counts (the week's share of the two weeks' streams is
binomial under the catalogue's growth): 10 -> 20 streams doubles but proves nothing."""

DEFAULT_LIMIT = 10

TIMES = "\u00d7"
"""The multiplication sign of "3.1\u00d7 the usual Tuesday"."""

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

PLAYLIST_SOURCES = frozenset({"own_playlist", "editorial_playlist", "algorithmic_playlist", "other_playlist"})
PLAYLISTS = "playlists"
"""The family of the playlist sources (and of unknown sources whose name says playlist)."""

SOURCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "artist_profile": "the artist profile",
        "catalogue": "the catalogue",
        "library": "listeners' libraries",
        "own_playlist": "listeners' own playlists",
        "editorial_playlist": "editorial playlists",
        "algorithmic_playlist": "algorithmic playlists",
        "other_playlist": "other listeners' playlists",
        "radio": "radio",
        "search": "search",
        "other": "other sources",
    }
)
SOURCE_ALIASES: Mapping[str, str] = MappingProxyType(
    {"user_library": "library", "user_playlist": "own_playlist", "algorithmic": "algorithmic_playlist"}
)
"""Names the spotify subgraph's listening data uses for the same sources."""


def canonical_source(source: str) -> str:
    name = source.strip().lower()
    return SOURCE_ALIASES.get(name, name)


def source_label(source: str) -> str:
    """Human words for a source of stream; an unknown one is spelt out from its name."""
    name = canonical_source(source)
    return SOURCE_LABELS.get(name) or name.replace("_", " ").strip() or "unknown sources"


def source_family(source: str) -> str:
    name = canonical_source(source)
    return PLAYLISTS if name in PLAYLIST_SOURCES or "playlist" in name else name


@dataclass(frozen=True, eq=False)
class ArtistDays:
    """Daily series of one artist (arrays compare by identity: ``eq=False``)."""

    start: date
    """The day of the first value."""
    streams: npt.NDArray[Any]
    listeners: npt.NDArray[Any]
    """Distinct listeners per day."""
    sources: Mapping[str, npt.NDArray[Any]]
    """Streams per day by source of stream (``editorial_playlist``, ``radio``, ...)."""
    tracks: Mapping[str, npt.NDArray[Any]]
    """Streams per day by track id, counted in ``streams`` too (the rest of the catalogue is
    ``streams`` minus the track)."""


@dataclass(frozen=True)
class Growth:
    current: float
    previous: float
    change: float
    change_ratio: float | None
    """``change / previous`` (0.25 is +25 %); None when there was nothing before."""

    @classmethod
    def between(cls, current: float, previous: float) -> Growth:
        change = current - previous
        return cls(current, previous, change, change / previous if previous > 0 else None)


NO_GROWTH = Growth(0.0, 0.0, 0.0, None)


@dataclass(frozen=True)
class PeriodGrowth:
    """The last ``days`` against the ``days`` before. Zero growth when the series is shorter than
    two periods: a partial period would compare unlike with unlike."""

    days: int
    streams: Growth
    """Total streams over the period."""
    listeners: Growth
    """Mean distinct listeners per day: daily distinct listeners do not add up over days."""


class AnomalyDirection(StrEnum):
    SPIKE = "SPIKE"
    DROP = "DROP"


@dataclass(frozen=True)
class Anomaly:
    day: date
    value: float
    """Streams of the day."""
    expected: float
    """The usual streams of that weekday (median of the previous same weekdays)."""
    z: float
    direction: AnomalyDirection
    reason: str


@dataclass(frozen=True)
class Breakout:
    track_id: str
    current: float
    """Streams over the last 7 days."""
    previous: float
    """Streams over the 7 days before."""
    growth_ratio: float | None
    """``current / previous``; None when the track had no streams the week before."""
    baseline_growth_ratio: float | None
    """The same ratio for the rest of the artist's catalogue (the artist's streams without this
    track, so a hit does not raise its own bar); None when the rest had no streams before."""
    reason: str


@dataclass(frozen=True)
class Trends:
    week_over_week: PeriodGrowth
    growth_28d: PeriodGrowth
    breakouts: list[Breakout]
    """Fastest growth first."""
    anomalies: list[Anomaly]
    """Latest first."""


def compute_trends(
    days: ArtistDays, *, limit: int = DEFAULT_LIMIT, anomaly_threshold: float = ANOMALY_Z_THRESHOLD
) -> Trends:
    """Growth, breakouts and anomalies of an artist; both lists are capped at ``limit``."""
    series = _Series.of(days)
    if len(series.streams) < MIN_DAYS:
        return Trends(
            PeriodGrowth(WEEK, NO_GROWTH, NO_GROWTH), PeriodGrowth(FOUR_WEEKS, NO_GROWTH, NO_GROWTH), [], []
        )
    return Trends(
        week_over_week=series.growth(WEEK),
        growth_28d=series.growth(FOUR_WEEKS),
        breakouts=_breakouts(series)[: max(limit, 0)],
        anomalies=_anomalies(series, days.start, anomaly_threshold, max(limit, 0)),
    )


@dataclass(frozen=True)
class _Series:
    streams: Floats
    listeners: Floats
    sources: dict[str, Floats]
    """By canonical source name (aliases summed)."""
    tracks: dict[str, Floats]

    @classmethod
    def of(cls, days: ArtistDays) -> _Series:
        streams = _counts(days.streams, None)
        length = len(streams)
        sources: dict[str, Floats] = {}
        for name, values in days.sources.items():
            key = canonical_source(name)
            sources[key] = sources.get(key, np.zeros(length)) + _counts(values, length)
        tracks = {track_id: _counts(values, length) for track_id, values in days.tracks.items()}
        return cls(streams, _counts(days.listeners, length), sources, tracks)

    def growth(self, days: int) -> PeriodGrowth:
        if len(self.streams) < 2 * days:
            return PeriodGrowth(days, NO_GROWTH, NO_GROWTH)
        return PeriodGrowth(
            days,
            Growth.between(float(self.streams[-days:].sum()), float(self.streams[-2 * days : -days].sum())),
            Growth.between(
                float(self.listeners[-days:].mean()), float(self.listeners[-2 * days : -days].mean())
            ),
        )


def _counts(values: npt.ArrayLike, length: int | None) -> Floats:
    array = np.asarray(values, dtype=np.float64).ravel()
    array = np.clip(np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    if length is None:
        return array
    if length == 0:
        return np.zeros(0)
    array = array[-length:]
    return np.concatenate([np.zeros(length - len(array)), array]) if len(array) < length else array


def _usual_by_day(values: Floats) -> Floats:
    """The usual value of each day: the median of the same weekday over the previous 8 weeks, from
    the fifth week on (NaN before). Weekly seasonality is the strongest pattern of streaming
    (weekends differ from Mondays), and the median of that weekday alone captures it with no model
    to fit; it ignores a past spike (one of 8), and follows a new level within about a month. It is
    also what a reason can say plainly: "3.1\u00d7 the usual Tuesday"."""
    length = len(values)
    same_weekdays = np.full((BASELINE_WEEKS, length), np.nan)
    for weeks_back in range(1, min(BASELINE_WEEKS, (length - 1) // WEEK) + 1):
        same_weekdays[weeks_back - 1, WEEK * weeks_back :] = values[: length - WEEK * weeks_back]
    usual = np.full(length, np.nan)
    enough = np.count_nonzero(~np.isnan(same_weekdays), axis=0) >= MIN_BASELINE_WEEKS
    if enough.any():
        usual[enough] = np.nanmedian(same_weekdays[:, enough], axis=0)
    return usual


def _rolling_mad(values: Floats, window: int) -> Floats:
    """Median absolute deviation of each value's surrounding ``window`` values (the window slides
    inwards at the edges, so every day is measured on as many residuals as there are)."""
    if len(values) <= window:
        median = np.median(values)
        return np.full(len(values), np.median(np.abs(values - median)))
    windows = np.lib.stride_tricks.sliding_window_view(values, window)
    medians = np.median(windows, axis=1, keepdims=True)
    mads = np.median(np.abs(windows - medians), axis=1)
    first = np.clip(np.arange(len(values)) - window // 2, 0, len(values) - window)
    return np.asarray(mads[first], dtype=np.float64)


def _anomalies(series: _Series, start: date, threshold: float, limit: int) -> list[Anomaly]:
    """Days whose residual from the usual weekday is beyond ``threshold`` robust z-scores. The scale
    is the residuals' MAD around the day but never below the Poisson noise of the expected count
    (``sqrt(expected)``, at least 1): a near-constant series has a MAD near 0 and would otherwise
    flag every wiggle."""
    streams = series.streams
    usual = _usual_by_day(streams)
    scored = np.flatnonzero(~np.isnan(usual))
    if scored.size == 0 or limit == 0:
        return []
    expected = usual[scored]
    residual = streams[scored] - expected
    scale = np.maximum(
        MAD_TO_SD * _rolling_mad(residual, SPREAD_WINDOW_DAYS), np.sqrt(np.maximum(expected, 1.0))
    )
    z = residual / scale
    flagged = np.flatnonzero((np.abs(z) >= threshold) & (np.abs(residual) >= MIN_ANOMALY_STREAMS))
    if flagged.size == 0:
        return []
    usual_by_source = {source: _usual_by_day(values) for source, values in series.sources.items()}
    anomalies = []
    for index in flagged[::-1][:limit]:
        day = int(scored[index])
        weekday = WEEKDAYS[(start + timedelta(days=day)).weekday()]
        direction = AnomalyDirection.SPIKE if residual[index] > 0 else AnomalyDirection.DROP
        anomalies.append(
            Anomaly(
                day=start + timedelta(days=day),
                value=float(streams[day]),
                expected=float(expected[index]),
                z=float(z[index]),
                direction=direction,
                reason=_anomaly_reason(
                    series, usual_by_source, day, float(expected[index]), weekday, direction
                ),
            )
        )
    return anomalies


def _anomaly_reason(
    series: _Series,
    usual_by_source: Mapping[str, Floats],
    day: int,
    expected: float,
    weekday: str,
    direction: AnomalyDirection,
) -> str:
    value = float(series.streams[day])
    if expected < 0.5:
        headline = f"{value:.0f} streams on a {weekday} that usually has none"
    elif value == 0:
        headline = f"no streams against {expected:.0f} on the usual {weekday}"
    else:
        headline = f"streams {_times(value / expected)} the usual {weekday}"
    today = {source: float(values[day]) for source, values in series.sources.items()}
    before = {source: float(np.nan_to_num(usual[day])) for source, usual in usual_by_source.items()}
    shift = _biggest_shift(today, before, rising=direction is AnomalyDirection.SPIKE)
    if shift is None:
        return headline
    if direction is AnomalyDirection.SPIKE:
        return f"{headline}, {_percent(shift.share)} from {shift.label}"
    return f"{headline}, {shift.label} down to {_percent(shift.share)} from a usual {_percent(shift.usual)}"


def _breakouts(series: _Series) -> list[Breakout]:
    artist_now = float(series.streams[-WEEK:].sum())
    artist_before = float(series.streams[-2 * WEEK : -WEEK].sum())
    sources = series.sources.items()
    week_sums = {source: float(values[-WEEK:].sum()) for source, values in sources}
    week_before = {source: float(values[-2 * WEEK : -WEEK].sum()) for source, values in sources}
    shift = _biggest_shift(week_sums, week_before, rising=True)
    breakouts = []
    for track_id, values in series.tracks.items():
        now, before = float(values[-WEEK:].sum()), float(values[-2 * WEEK : -WEEK].sum())
        if now < MIN_BREAKOUT_STREAMS or not values[:-WEEK].any():
            continue
        rest_now, rest_before = max(artist_now - now, 0.0), max(artist_before - before, 0.0)
        baseline = rest_now / rest_before if rest_before > 0 else None
        bar = max(1.0 if baseline is None else baseline, 1.0)
        growth = now / before if before > 0 else None
        if growth is not None and growth < BREAKOUT_RELATIVE_GROWTH * bar:
            continue
        if _excess_z(now, before, bar) < BREAKOUT_MIN_Z:
            continue
        breakouts.append(
            Breakout(track_id, now, before, growth, baseline, _breakout_reason(now, growth, baseline, shift))
        )
    return sorted(breakouts, key=lambda b: (b.growth_ratio is not None, -(b.growth_ratio or 0.0), -b.current))


def _excess_z(now: float, before: float, growth: float) -> float:
    """z of ``now`` given ``now + before`` streams if the track grew like ``growth``: then ``now``
    is binomial with probability ``growth / (1 + growth)``."""
    total = now + before
    probability = growth / (1.0 + growth)
    return float((now - total * probability) / np.sqrt(total * probability * (1.0 - probability)))


def _breakout_reason(now: float, growth: float | None, baseline: float | None, shift: _Shift | None) -> str:
    if growth is None:
        headline = f"{now:.0f} streams this week after none the week before,"
    else:
        headline = f"streams up {_times(growth)} week over week"
    if baseline is None:
        headline += " while the rest of the catalogue had no streams the week before"
    else:
        headline += f" against {_times(baseline)} for the rest of the artist's catalogue"
    if shift is None:
        return headline
    return (
        f"{headline}, as {shift.label} rose to {_percent(shift.share)} of the artist's streams"
        f" from {_percent(shift.usual)}"
    )


@dataclass(frozen=True)
class _Shift:
    label: str
    share: float
    usual: float

    @property
    def gain(self) -> float:
        return self.share - self.usual


def _biggest_shift(now: Mapping[str, float], usual: Mapping[str, float], *, rising: bool) -> _Shift | None:
    """The source family whose share of streams moved most (up for a rise, down for a fall) from
    its usual share, if by at least `MIN_SHARE_SHIFT` and beyond chance. Shares, not streams: when
    every source triples, the biggest one accounts for most of the excess yet explains nothing.
    Within the playlists family, one playlist source carrying most of the move is named instead."""
    total_now, total_usual = sum(now.values()), sum(usual.values())
    if total_now <= 0 or total_usual <= 0:
        return None
    sign = 1.0 if rising else -1.0
    shifts = {
        source: _Shift(source_label(source), now[source] / total_now, usual.get(source, 0.0) / total_usual)
        for source in now
    }
    families: dict[str, list[str]] = {}
    for source in shifts:
        families.setdefault(source_family(source), []).append(source)
    best: _Shift | None = None
    for family, members in families.items():
        if len(members) == 1:
            shift = shifts[members[0]]
        else:
            shift = _Shift(
                family,
                sum(shifts[m].share for m in members),
                sum(shifts[m].usual for m in members),
            )
            leader = max((shifts[m] for m in members), key=lambda s: sign * s.gain)
            if sign * shift.gain > 0 and sign * leader.gain >= DOMINANT_MEMBER * sign * shift.gain:
                shift = leader
        chance = SHARE_SHIFT_Z * np.sqrt(shift.usual * (1.0 - shift.usual) / total_now)
        notable = sign * shift.gain >= max(MIN_SHARE_SHIFT, chance)
        if notable and (best is None or sign * shift.gain > sign * best.gain):
            best = shift
    return best


def _times(ratio: float) -> str:
    digits = 0 if ratio >= 10 else 1 if ratio >= 0.1 else 2
    return f"{ratio:.{digits}f}{TIMES}"


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"
