"""GraphQL types of the analytics subgraph: totals with their previous period, series ready
to chart (`{date, value}`), breakdowns, claims and updates."""

from __future__ import annotations

import enum
import math
from datetime import date, datetime, timedelta
from typing import Any

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.references import Artist, Asset, Playlist, Track
from shared.schema import described_enum
from subgraphs.analytics import trends
from subgraphs.analytics.config import AnalyticsServices, AnalyticsSettings
from subgraphs.analytics.models import AnalyticsArtistClaim, AnalyticsReport, AnalyticsReportSchedule
from subgraphs.analytics.reports import ReportFormat, Section
from subgraphs.analytics.service import insights, metrics
from subgraphs.analytics.service.updates import ArtistUpdate

AnalyticsInfo = Info[RequestContext[AnalyticsSettings, AnalyticsServices], None]


described_enum(
    metrics.Last,
    "A range ending yesterday (the last complete day, UTC).",
    {
        metrics.Last.DAYS_7: "The last 7 days.",
        metrics.Last.DAYS_28: "The last 28 days.",
        metrics.Last.MONTHS_12: "The last 365 days.",
    },
)
described_enum(
    metrics.Granularity,
    "How a series is bucketed.",
    {
        metrics.Granularity.DAY: "One point a day.",
        metrics.Granularity.WEEK: "One point a calendar week (from Monday).",
        metrics.Granularity.MONTH: "One point a calendar month.",
    },
)
Last = metrics.Last
Granularity = metrics.Granularity


@strawberry.enum(description="Where a claim stands.")
class ClaimStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Recorded; waits for a platform admin.")
    VERIFIED = strawberry.enum_value("VERIFIED", description="The tenant sees the artist's analytics.")


@strawberry.input(description="Days from `from` to `to`, both included (UTC).")
class DateRangeInput:
    from_: date = strawberry.field(name="from", description="The first day.")
    to: date = strawberry.field(description="The last day; not after today.")


@strawberry.type(description="Days from `from` to `to`, both included (UTC).")
class DateRange:
    from_: date = strawberry.field(name="from", description="The first day.")
    to: date = strawberry.field(description="The last day.")
    days: int = strawberry.field(description="How many days.")

    @classmethod
    def of(cls, span: metrics.Window) -> DateRange:
        return cls(from_=span.first, to=span.last, days=span.days)


@strawberry.type(description="A metric over the range, beside the same metric over the previous period.")
class MetricTotal:
    value: float = strawberry.field(description="Over the range.")
    previous: float = strawberry.field(description="Over the period of the same length just before it.")
    change: float = strawberry.field(description="`value - previous`.")
    change_percent: float | None = strawberry.field(
        description="The change in % of `previous`; null when `previous` is 0."
    )

    @classmethod
    def of(cls, total: metrics.Total) -> MetricTotal:
        ratio = total.change_ratio
        return cls(
            value=total.value,
            previous=total.previous,
            change=total.change,
            change_percent=round(ratio * 100, 2) if ratio is not None else None,
        )


@strawberry.type(description="One point of a series: a bucket's first day and its value.")
class SeriesPoint:
    date: date = strawberry.field(description="The day, or the first day of the week or month.")
    value: float = strawberry.field(description="The bucket's value.")


def _points(points: list[metrics.Point]) -> list[SeriesPoint]:
    return [SeriesPoint(date=point.day, value=point.value) for point in points]


@strawberry.type(
    description="A share of the range's streams: a country, a city, a source of stream, a device."
)
class BreakdownItem:
    key: str = strawberry.field(
        description="The value as stored (country code, source name...); empty: unknown."
    )
    label: str = strawberry.field(description="The value for people.")
    streams: int = strawberry.field(description="Streams (plays of 30 s or more).")
    skips: int = strawberry.field(description="Plays under 30 s.")
    share: float = strawberry.field(description="Share of the range's streams, 0 to 1.")

    @classmethod
    def of(cls, ranked: metrics.Ranked) -> BreakdownItem:
        return cls(
            key=ranked.key, label=ranked.label, streams=ranked.streams, skips=ranked.skips, share=ranked.share
        )


@strawberry.type(description="A track among the artist's most streamed over the range.")
class TopTrack:
    track: Track = strawberry.field(description="The track (joined by the router).")
    name: str = strawberry.field(description="Its name as the catalogue gives it.")
    streams: int = strawberry.field(description="Streams over the range.")
    skips: int = strawberry.field(description="Plays under 30 s over the range.")
    share: float = strawberry.field(description="Share of the artist's streams, 0 to 1.")


@strawberry.type(description="The series of a subject over the range, one point per bucket.")
class AnalyticsSeries:
    streams: list[SeriesPoint] = strawberry.field(description="Streams per bucket.")
    skips: list[SeriesPoint] = strawberry.field(description="Plays under 30 s per bucket.")
    listeners: list[SeriesPoint] = strawberry.field(
        description="Distinct listeners per bucket (exact; a week's is not the sum of its days)."
    )
    monthly_listeners: list[SeriesPoint] | None = strawberry.field(
        description="Monthly listeners (distinct over the 28 days ending on the bucket's last day); "
        "artists only."
    )


def _series(analytics: metrics.Analytics) -> AnalyticsSeries:
    series = analytics.series
    return AnalyticsSeries(
        streams=_points(series["streams"]),
        skips=_points(series["skips"]),
        listeners=_points(series.get("listeners", [])),
        monthly_listeners=_points(series["monthly_listeners"]) if "monthly_listeners" in series else None,
    )


@strawberry.type(
    description="An artist's audience over a range, as Spotify for Artists shows it, from our own "
    "listening data."
)
class ArtistAnalytics:
    artist: Artist = strawberry.field(description="The artist (joined by the router).")
    name: str = strawberry.field(description="The artist's name.")
    range: DateRange = strawberry.field(description="The range the totals and series cover.")
    previous_range: DateRange = strawberry.field(description="The period the comparisons are with.")
    granularity: Granularity = strawberry.field(description="How the series are bucketed.")
    data_from: date | None = strawberry.field(
        description="The first day with plays of the artist; null: none yet."
    )
    data_to: date | None = strawberry.field(description="The last day with plays of the artist.")
    streams: MetricTotal = strawberry.field(description="Plays of 30 s or more.")
    skips: MetricTotal = strawberry.field(description="Plays under 30 s.")
    listeners: MetricTotal = strawberry.field(description="Distinct listeners who streamed (exact).")
    monthly_listeners: MetricTotal = strawberry.field(
        description="Distinct listeners over the 28 days ending on the range's last day (exact)."
    )
    followers: int | None = strawberry.field(
        description="Followers where the catalogue says; null: not known."
    )
    saves: int | None = strawberry.field(
        description="Saves to listeners' libraries: null, the listening history analytics receives "
        "carries none."
    )
    series: AnalyticsSeries = strawberry.field(
        description="Streams, skips, listeners and monthly listeners over time."
    )
    top_tracks: list[TopTrack] = strawberry.field(description="The most streamed tracks, most first.")
    countries: list[BreakdownItem] = strawberry.field(description="Streams by listener country (ISO code).")
    cities: list[BreakdownItem] = strawberry.field(description="Streams by listener city, where known.")
    sources: list[BreakdownItem] = strawberry.field(
        description="Streams by source of stream (how listeners found it)."
    )
    devices: list[BreakdownItem] = strawberry.field(description="Streams by device.")

    @classmethod
    def of(cls, analytics: metrics.Analytics) -> ArtistAnalytics:
        top_tracks = [
            TopTrack(
                track=Track(id=strawberry.ID(item.key)),
                name=item.label,
                streams=item.streams,
                skips=item.skips,
                share=item.share,
            )
            for item in analytics.breakdowns["tracks"]
        ]
        return cls(
            artist=Artist(id=strawberry.ID(analytics.subject_id)),
            name=analytics.name,
            listeners=MetricTotal.of(analytics.totals["listeners"]),
            monthly_listeners=MetricTotal.of(analytics.totals["monthly_listeners"]),
            followers=analytics.followers,
            saves=None,
            top_tracks=top_tracks,
            **_period_fields(analytics),
            **_place_and_source_fields(analytics),
        )


def _period_fields(analytics: metrics.Analytics) -> dict[str, Any]:
    """What artist, track and playlist analytics share: the ranges, streams, skips, series."""
    return {
        "range": DateRange.of(analytics.window),
        "previous_range": DateRange.of(analytics.window.previous),
        "granularity": analytics.granularity,
        "data_from": analytics.data_from,
        "data_to": analytics.data_to,
        "streams": MetricTotal.of(analytics.totals["streams"]),
        "skips": MetricTotal.of(analytics.totals["skips"]),
        "series": _series(analytics),
    }


def _place_and_source_fields(analytics: metrics.Analytics) -> dict[str, Any]:
    breakdowns = analytics.breakdowns
    return {
        "countries": [BreakdownItem.of(item) for item in breakdowns["country"]],
        "cities": [BreakdownItem.of(item) for item in breakdowns["city"]],
        "sources": [BreakdownItem.of(item) for item in breakdowns["source"]],
        "devices": [BreakdownItem.of(item) for item in breakdowns["device"]],
    }


@strawberry.type(
    description="A track's audience over a range (a track of an artist your tenant has claimed)."
)
class TrackAnalytics:
    track: Track = strawberry.field(description="The track (joined by the router).")
    name: str = strawberry.field(description="The track's name.")
    range: DateRange = strawberry.field(description="The range the totals and series cover.")
    previous_range: DateRange = strawberry.field(description="The period the comparisons are with.")
    granularity: Granularity = strawberry.field(description="How the series are bucketed.")
    data_from: date | None = strawberry.field(description="The first day with plays of the track.")
    data_to: date | None = strawberry.field(description="The last day with plays of the track.")
    streams: MetricTotal = strawberry.field(description="Plays of 30 s or more.")
    skips: MetricTotal = strawberry.field(description="Plays under 30 s.")
    listeners: MetricTotal = strawberry.field(description="Distinct listeners who streamed (exact).")
    series: AnalyticsSeries = strawberry.field(description="Streams, skips and listeners over time.")
    countries: list[BreakdownItem] = strawberry.field(description="Streams by listener country.")
    cities: list[BreakdownItem] = strawberry.field(description="Streams by listener city, where known.")
    sources: list[BreakdownItem] = strawberry.field(description="Streams by source of stream.")
    devices: list[BreakdownItem] = strawberry.field(description="Streams by device.")

    @classmethod
    def of(cls, analytics: metrics.Analytics) -> TrackAnalytics:
        return cls(
            track=Track(id=strawberry.ID(analytics.subject_id)),
            name=analytics.name,
            listeners=MetricTotal.of(analytics.totals["listeners"]),
            **_period_fields(analytics),
            **_place_and_source_fields(analytics),
        )


@strawberry.type(
    description="How a playlist performs for your claimed artists: their tracks streamed from it."
)
class PlaylistAnalytics:
    playlist: Playlist = strawberry.field(description="The playlist (joined by the router).")
    range: DateRange = strawberry.field(description="The range the totals and series cover.")
    previous_range: DateRange = strawberry.field(description="The period the comparisons are with.")
    granularity: Granularity = strawberry.field(description="How the series are bucketed.")
    data_from: date | None = strawberry.field(description="The first day in range with such streams.")
    data_to: date | None = strawberry.field(description="The last day in range with such streams.")
    streams: MetricTotal = strawberry.field(description="Streams of your artists' tracks from this playlist.")
    skips: MetricTotal = strawberry.field(description="Plays under 30 s of them from this playlist.")
    series: AnalyticsSeries = strawberry.field(
        description="Streams and skips over time (listeners left empty)."
    )

    @classmethod
    def of(cls, analytics: metrics.Analytics) -> PlaylistAnalytics:
        return cls(playlist=Playlist(id=strawberry.ID(analytics.subject_id)), **_period_fields(analytics))


@strawberry.type(
    description="A tenant's claim on an artist: verified claims open the artist's analytics to the tenant."
)
class ArtistClaim:
    id: strawberry.ID = strawberry.field(description="Claim id (opaque).")
    artist: Artist = strawberry.field(description="The artist claimed (joined by the router).")
    tenant_id: strawberry.ID = strawberry.field(description="The claiming tenant (accounts' tenant id).")
    status: ClaimStatus = strawberry.field(description="Pending or verified.")
    claimed_at: datetime = strawberry.field(description="When it was claimed (UTC).")
    verified_at: datetime | None = strawberry.field(description="When a platform admin verified it.")

    @classmethod
    def of(cls, row: AnalyticsArtistClaim) -> ArtistClaim:
        return cls(
            id=strawberry.ID(row.id),
            artist=Artist(id=strawberry.ID(row.artist_id)),
            tenant_id=strawberry.ID(row.tenant_id),
            status=ClaimStatus(row.status),
            claimed_at=row.created_at,
            verified_at=row.verified_at,
        )


@strawberry.type(description="The claim after the change.")
class ArtistClaimPayload:
    claim: ArtistClaim = strawberry.field(description="The claim as stored (as it was, when released).")


@strawberry.type(description="An artist's rollup landed: which days changed and what they hold now.")
class AnalyticsUpdate:
    id: str = strawberry.field(description="Event id: resume after it with `after`.")
    artist: Artist = strawberry.field(description="The artist (joined by the router).")
    days: list[date] = strawberry.field(description="The days rolled again.")
    streams: int = strawberry.field(description="Streams on those days, as they are now.")
    latest_day: date = strawberry.field(description="The latest of those days.")
    listeners: int = strawberry.field(description="Listeners on the latest day.")
    monthly_listeners: int = strawberry.field(description="Monthly listeners on the latest day.")

    @classmethod
    def of(cls, update: ArtistUpdate) -> AnalyticsUpdate:
        return cls(
            id=update.id,
            artist=Artist(id=strawberry.ID(update.artist_id)),
            days=update.days,
            streams=update.streams,
            latest_day=update.latest_day,
            listeners=update.listeners,
            monthly_listeners=update.monthly_listeners,
        )


@strawberry.type(description="A metric over a period beside the period just before it.")
class Growth:
    current: float = strawberry.field(description="This period: total streams, or average daily listeners.")
    previous: float = strawberry.field(description="The period before, measured the same way.")
    change: float = strawberry.field(description="`current - previous`.")
    change_percent: float | None = strawberry.field(
        description="The change in % of `previous`; null when it is 0."
    )

    @classmethod
    def of(cls, growth: trends.Growth) -> Growth:
        ratio = growth.change_ratio
        return cls(
            current=growth.current,
            previous=growth.previous,
            change=growth.change,
            change_percent=round(ratio * 100, 2) if ratio is not None else None,
        )


@strawberry.type(
    description="Growth of streams and listeners over the last N days against the N days before."
)
class PeriodGrowth:
    days: int = strawberry.field(description="The period's length in days (7 or 28).")
    streams: Growth = strawberry.field(description="Total streams.")
    listeners: Growth = strawberry.field(
        description="Average daily listeners (distinct counts do not add up)."
    )

    @classmethod
    def of(cls, growth: trends.PeriodGrowth) -> PeriodGrowth:
        return cls(days=growth.days, streams=Growth.of(growth.streams), listeners=Growth.of(growth.listeners))


@strawberry.type(description="A track growing well above the rest of the artist's catalogue, week over week.")
class Breakout:
    track: Track = strawberry.field(description="The track (joined by the router).")
    streams_this_week: float = strawberry.field(description="Streams over the last 7 days.")
    streams_last_week: float = strawberry.field(description="Streams over the 7 days before.")
    growth_ratio: float | None = strawberry.field(
        description="Relative growth (0.5 = +50 %); null when it had no streams the week before."
    )
    baseline_growth_ratio: float | None = strawberry.field(
        description="The rest of the catalogue's relative growth."
    )
    reason: str = strawberry.field(description="Why, in one line built from the numbers.")


@strawberry.enum(description="Above or below what was expected.")
class AnomalyDirection(enum.Enum):
    SPIKE = strawberry.enum_value("SPIKE", description="More streams than usual.")
    DROP = strawberry.enum_value("DROP", description="Fewer streams than usual.")


@strawberry.type(
    description="A day far from what its weekday usually brings (robust z-score after weekly seasonality)."
)
class Anomaly:
    date: date = strawberry.field(description="The day.")
    value: float = strawberry.field(description="Its streams.")
    expected: float = strawberry.field(
        description="The usual streams of that weekday (median of the previous 8)."
    )
    z: float = strawberry.field(description="Robust z-score of the difference.")
    direction: AnomalyDirection = strawberry.field(description="Spike or drop.")
    reason: str = strawberry.field(description="Why, in one line built from the numbers.")


@strawberry.type(description="Where an artist's streams are going: growth, breakout tracks and unusual days.")
class ArtistTrends:
    artist: Artist = strawberry.field(description="The artist (joined by the router).")
    as_of: date = strawberry.field(description="The last day considered (yesterday, the last complete day).")
    week_over_week: PeriodGrowth = strawberry.field(description="The last 7 days against the 7 before.")
    growth_28_days: PeriodGrowth = strawberry.field(description="The last 28 days against the 28 before.")
    breakouts: list[Breakout] = strawberry.field(description="Breakout tracks, fastest growing first.")
    anomalies: list[Anomaly] = strawberry.field(
        description="Unusual days of the last three months, newest first."
    )

    @classmethod
    def of(cls, artist_id: str, as_of: date, found: trends.Trends) -> ArtistTrends:
        return cls(
            artist=Artist(id=strawberry.ID(artist_id)),
            as_of=as_of,
            week_over_week=PeriodGrowth.of(found.week_over_week),
            growth_28_days=PeriodGrowth.of(found.growth_28d),
            breakouts=[
                Breakout(
                    track=Track(id=strawberry.ID(item.track_id)),
                    streams_this_week=item.current,
                    streams_last_week=item.previous,
                    growth_ratio=item.growth_ratio,
                    baseline_growth_ratio=item.baseline_growth_ratio,
                    reason=item.reason,
                )
                for item in found.breakouts
            ],
            anomalies=[
                Anomaly(
                    date=item.day,
                    value=item.value,
                    expected=item.expected,
                    z=round(item.z, 2),
                    direction=AnomalyDirection(item.direction.value),
                    reason=item.reason,
                )
                for item in found.anomalies
            ],
        )


described_enum(
    insights.Metric,
    "What a forecast predicts.",
    {
        insights.Metric.STREAMS: "Streams a day.",
        insights.Metric.LISTENERS: "Distinct listeners a day.",
        insights.Metric.MONTHLY_LISTENERS: "Monthly listeners (28 days) on each day.",
    },
    name="ForecastMetric",
)
ForecastMetric = insights.Metric
described_enum(
    Section,
    "A part of a report.",
    {
        Section.TOTALS: "Streams, listeners and monthly listeners against the previous period.",
        Section.STREAMS: "Streams over time with the forecast band.",
        Section.LISTENERS: "Listeners and monthly listeners over time.",
        Section.TOP_TRACKS: "The most streamed tracks.",
        Section.COUNTRIES: "Streams by country.",
        Section.SOURCES: "Streams by source of stream.",
    },
    name="ReportSection",
)
ReportSection = Section
described_enum(
    ReportFormat,
    "What a report is rendered as (a PDF or PNG comes with a CSV of its series).",
    {
        ReportFormat.PDF: "A PDF document with charts, and a CSV of the daily series.",
        ReportFormat.PNG: "One image of the charts, and a CSV of the daily series.",
        ReportFormat.CSV: "The daily series (and forecast) as CSV.",
        ReportFormat.JSON: "The series, totals and rankings as JSON.",
    },
    name="ReportFormat",
)


@strawberry.type(
    description="One forecast day: the point forecast, its intervals, and the seasonal-naive baseline."
)
class ForecastPoint:
    date: date = strawberry.field(description="The day.")
    value: float = strawberry.field(description="Point forecast.")
    lower80: float = strawberry.field(description="Lower bound of the 80 % interval.")
    upper80: float = strawberry.field(description="Upper bound of the 80 % interval.")
    lower95: float = strawberry.field(description="Lower bound of the 95 % interval.")
    upper95: float = strawberry.field(description="Upper bound of the 95 % interval.")
    baseline: float = strawberry.field(description="Seasonal naive: the same weekday of the last week.")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@strawberry.type(description="How the model did on the artist's own past (rolling-origin backtest).")
class ForecastBacktest:
    origins: int = strawberry.field(description="How many forecast origins were tested.")
    horizon: int = strawberry.field(description="Days forecast from each origin.")
    mase: float | None = strawberry.field(
        description="The model's MASE (below 1 beats a one-week naive in-sample); null when the history "
        "has no weekly variation to scale by (all zeros)."
    )
    baseline_mase: float | None = strawberry.field(description="Seasonal naive's MASE on the same days.")
    coverage80: float = strawberry.field(description="Share of held-out days inside the 80 % interval.")
    coverage95: float = strawberry.field(description="Share of held-out days inside the 95 % interval.")


@strawberry.type(description="A forecast of a claimed artist's daily metric, with intervals and a baseline.")
class ArtistForecast:
    artist: Artist = strawberry.field(description="The artist (joined by the router).")
    metric: ForecastMetric = strawberry.field(description="What is forecast.")
    model: str | None = strawberry.field(description="The model that produced it; null without history.")
    history_from: date | None = strawberry.field(description="The first day fitted on; null: no plays yet.")
    history_to: date = strawberry.field(description="The last day fitted on (yesterday).")
    points: list[ForecastPoint] = strawberry.field(
        description="One per day after `historyTo`; empty without history."
    )
    backtest: ForecastBacktest | None = strawberry.field(
        description="Only when asked for (`backtest: true`)."
    )

    @classmethod
    def of(cls, artist_id: str, found: insights.ArtistForecast) -> ArtistForecast:
        predicted, tested = found.forecast, found.backtest
        points = []
        if predicted is not None:
            for n in range(len(predicted.point)):
                points.append(
                    ForecastPoint(
                        date=found.history_to + timedelta(days=n + 1),
                        value=float(predicted.point[n]),
                        lower80=float(predicted.lower80[n]),
                        upper80=float(predicted.upper80[n]),
                        lower95=float(predicted.lower95[n]),
                        upper95=float(predicted.upper95[n]),
                        baseline=float(predicted.baseline[n]),
                    )
                )
        return cls(
            artist=Artist(id=strawberry.ID(artist_id)),
            metric=found.metric,
            model=predicted.model if predicted else None,
            history_from=found.history_from,
            history_to=found.history_to,
            points=points,
            backtest=ForecastBacktest(
                origins=tested.origins,
                horizon=tested.horizon,
                mase=_finite(tested.mase),
                baseline_mase=_finite(tested.baseline_mase),
                coverage80=tested.coverage80,
                coverage95=tested.coverage95,
            )
            if tested
            else None,
        )


@strawberry.enum(description="Where a report stands.")
class ReportStatus(enum.Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Waiting for the worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="Being rendered and stored.")
    READY = strawberry.enum_value("READY", description="Its files are stored assets.")
    FAILED = strawberry.enum_value("FAILED", description="It could not be rendered or stored (see `error`).")


@strawberry.enum(description="How often a scheduled report is rendered.")
class ReportFrequency(enum.Enum):
    WEEKLY = strawberry.enum_value("WEEKLY", description="Mondays, for the week before.")
    MONTHLY = strawberry.enum_value("MONTHLY", description="On the 1st, for the month before.")


@strawberry.type(description="A file of a report, stored by the storage subgraph.")
class ReportFile:
    asset: Asset = strawberry.field(description="The asset (its download URL is joined by the router).")
    filename: str = strawberry.field(description="The file's name.")
    content_type: str = strawberry.field(description="Its MIME type.")
    bytes: int = strawberry.field(description="Its size.")


@strawberry.type(description="A rendered (or pending) analytics report.")
class Report:
    id: strawberry.ID = strawberry.field(description="Report id (opaque).")
    artist: Artist = strawberry.field(description="The artist reported on.")
    range: DateRange = strawberry.field(description="The days it covers.")
    format: ReportFormat = strawberry.field(description="What it is rendered as.")
    sections: list[ReportSection] = strawberry.field(description="Its parts.")
    status: ReportStatus = strawberry.field(description="Where it stands.")
    files: list[ReportFile] = strawberry.field(
        description="Its stored files, the main one first; empty until READY."
    )
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    scheduled: bool = strawberry.field(description="Rendered by a schedule rather than asked for.")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    completed_at: datetime | None = strawberry.field(description="When it became READY or FAILED.")

    @classmethod
    def of(cls, row: AnalyticsReport) -> Report:
        return cls(
            id=strawberry.ID(row.id),
            artist=Artist(id=strawberry.ID(row.artist_id)),
            range=DateRange.of(metrics.Window(row.start, row.end)),
            format=ReportFormat(row.format),
            sections=[Section(value) for value in row.sections],
            status=ReportStatus(row.status),
            files=[
                ReportFile(
                    asset=Asset(id=strawberry.ID(item["assetId"])),
                    filename=item["filename"],
                    content_type=item["contentType"],
                    bytes=item["bytes"],
                )
                for item in row.files
            ],
            error=row.error,
            scheduled=row.schedule_id is not None,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )


@strawberry.type(description="A report asked for: it renders in the background (`reports`, `report`).")
class CreateReportPayload:
    report: Report = strawberry.field(description="The report, QUEUED.")
    job_id: str = strawberry.field(description="The job rendering it.")


@strawberry.type(description="A report rendered every week or month.")
class ReportSchedule:
    id: strawberry.ID = strawberry.field(description="Schedule id (opaque).")
    artist: Artist = strawberry.field(description="The artist reported on.")
    frequency: ReportFrequency = strawberry.field(description="How often.")
    format: ReportFormat = strawberry.field(description="What it is rendered as.")
    sections: list[ReportSection] = strawberry.field(description="Its parts.")
    last_period_start: date | None = strawberry.field(description="The start of the last period rendered.")

    @classmethod
    def of(cls, row: AnalyticsReportSchedule) -> ReportSchedule:
        return cls(
            id=strawberry.ID(row.id),
            artist=Artist(id=strawberry.ID(row.artist_id)),
            frequency=ReportFrequency(row.frequency),
            format=ReportFormat(row.format),
            sections=[Section(value) for value in row.sections],
            last_period_start=row.last_period_start,
        )


@strawberry.type(description="The schedule after the change.")
class ReportSchedulePayload:
    schedule: ReportSchedule = strawberry.field(description="The schedule (as it was, when cancelled).")
