"""Query, mutations and subscription of the analytics subgraph: thin, the rules are in
`service/`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.config import Settings
from shared.mutations import unit_of_work
from shared.schema import PlatformSchema, build_schema
from subgraphs.analytics.service import claims, insights, metrics, reports, updates
from subgraphs.analytics.types import (
    AnalyticsInfo,
    AnalyticsUpdate,
    ArtistAnalytics,
    ArtistClaim,
    ArtistClaimPayload,
    ArtistForecast,
    ArtistTrends,
    CreateReportPayload,
    DateRangeInput,
    ForecastMetric,
    Granularity,
    Last,
    PlaylistAnalytics,
    Report,
    ReportFormat,
    ReportFrequency,
    ReportSchedule,
    ReportSchedulePayload,
    ReportSection,
    TrackAnalytics,
)

RangeArgument = Annotated[
    DateRangeInput | None,
    strawberry.argument(
        description="Days from `from` to `to` (inclusive). Give this or `last`; neither: the last 28 days."
    ),
]
LastArgument = Annotated[
    Last | None, strawberry.argument(description="The last 7 days, 28 days or 12 months, ending yesterday.")
]
GranularityArgument = Annotated[Granularity, strawberry.argument(description="How the series are bucketed.")]
TopArgument = Annotated[
    int, strawberry.argument(description="How many values each breakdown lists (1 to 50).")
]


def _window(info: AnalyticsInfo, range: DateRangeInput | None, last: Last | None) -> metrics.Window:
    return metrics.window(
        range.from_ if range else None,
        range.to if range else None,
        last,
        info.context.runtime.config.analytics_max_range_days,
    )


@strawberry.input(description="The artist to claim.")
class ClaimArtistInput:
    artist_id: strawberry.ID = strawberry.field(description="Spotify artist id.")


@strawberry.input(description="The claim to verify.")
class VerifyArtistClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="Claim id.")


@strawberry.input(description="A report to render.")
class CreateReportInput:
    artist_id: strawberry.ID = strawberry.field(description="Spotify artist id (claimed by your tenant).")
    range: DateRangeInput | None = strawberry.field(
        default=None, description="The days it covers; give this or `last` (neither: the last 28 days)."
    )
    last: Last | None = strawberry.field(default=None, description="The last 7 days, 28 days or 12 months.")
    sections: list[ReportSection] = strawberry.field(
        default_factory=lambda: list(ReportSection), description="Its parts (all of them by default)."
    )
    format: ReportFormat = strawberry.field(default=ReportFormat.PDF, description="What it is rendered as.")


@strawberry.input(description="A report to render every week or month.")
class ScheduleReportInput:
    artist_id: strawberry.ID = strawberry.field(description="Spotify artist id (claimed by your tenant).")
    frequency: ReportFrequency = strawberry.field(description="How often.")
    sections: list[ReportSection] = strawberry.field(
        default_factory=lambda: list(ReportSection), description="Its parts (all of them by default)."
    )
    format: ReportFormat = strawberry.field(default=ReportFormat.PDF, description="What it is rendered as.")


@strawberry.type
class Query:
    @strawberry.field(
        description="An artist's streams, listeners and monthly listeners over a range, with the previous "
        "period's, series to chart and breakdowns (tracks, countries, cities, sources of stream, devices). "
        "FORBIDDEN unless your tenant has a verified claim on the artist."
    )
    async def artist_analytics(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
        range: RangeArgument = None,
        last: LastArgument = None,
        granularity: GranularityArgument = Granularity.DAY,
        top: TopArgument = 10,
    ) -> ArtistAnalytics:
        found = await metrics.artist_analytics(
            info.context,
            str(artist_id),
            _window(info, range, last),
            granularity,
            top,
        )
        return ArtistAnalytics.of(found)

    @strawberry.field(
        description="A track's streams and listeners over a range, with breakdowns; FORBIDDEN unless it "
        "credits an artist your tenant has claimed."
    )
    async def track_analytics(
        self,
        info: AnalyticsInfo,
        track_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify track id.")],
        range: RangeArgument = None,
        last: LastArgument = None,
        granularity: GranularityArgument = Granularity.DAY,
        top: TopArgument = 10,
    ) -> TrackAnalytics:
        found = await metrics.track_analytics(
            info.context,
            str(track_id),
            _window(info, range, last),
            granularity,
            top,
        )
        return TrackAnalytics.of(found)

    @strawberry.field(
        description="Streams of your claimed artists' tracks played from a playlist, over a range."
    )
    async def playlist_analytics(
        self,
        info: AnalyticsInfo,
        playlist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify playlist id.")],
        range: RangeArgument = None,
        last: LastArgument = None,
        granularity: GranularityArgument = Granularity.DAY,
    ) -> PlaylistAnalytics:
        found = await metrics.playlist_analytics(
            info.context,
            str(playlist_id),
            _window(info, range, last),
            granularity,
        )
        return PlaylistAnalytics.of(found)

    @strawberry.field(
        description="Week-over-week and 28-day growth, breakout tracks and unusual days of a claimed artist, "
        "each with a one-line reason built from the data."
    )
    async def trends(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
    ) -> ArtistTrends:
        as_of, found = await insights.artist_trends(info.context, str(artist_id))
        return ArtistTrends.of(str(artist_id), as_of, found)

    @strawberry.field(
        description="A forecast of a claimed artist's daily streams, listeners or monthly listeners: point, "
        "80 % and 95 % intervals, and the seasonal-naive baseline, fitted on up to two years of days."
    )
    async def forecast(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
        metric: Annotated[ForecastMetric, strawberry.argument(description="What to forecast.")],
        horizon: Annotated[int, strawberry.argument(description="Days ahead, 1 to 90.")],
        backtest: Annotated[
            bool, strawberry.argument(description="Also backtest the model on the artist's past (slower).")
        ] = False,
    ) -> ArtistForecast:
        found = await insights.artist_forecast(info.context, str(artist_id), metric, horizon, backtest)
        return ArtistForecast.of(str(artist_id), found)

    @strawberry.field(description="A claimed artist's reports, newest first.")
    async def reports(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
        first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 20,
    ) -> list[Report]:
        return [Report.of(row) for row in await reports.reports(info.context, str(artist_id), first)]

    @strawberry.field(description="One report of your tenant.")
    async def report(
        self, info: AnalyticsInfo, id: Annotated[strawberry.ID, strawberry.argument(description="Report id.")]
    ) -> Report:
        return Report.of(await reports.report(info.context, str(id)))

    @strawberry.field(description="A claimed artist's report schedules.")
    async def report_schedules(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
    ) -> list[ReportSchedule]:
        return [ReportSchedule.of(row) for row in await reports.schedules(info.context, str(artist_id))]

    @strawberry.field(description="Your tenant's artist claims, pending and verified, oldest first.")
    async def artist_claims(self, info: AnalyticsInfo) -> list[ArtistClaim]:
        return [ArtistClaim.of(row) for row in await claims.claims(info.context)]

    @strawberry.field(
        description="Every tenant's claims waiting for verification, oldest first (admins of a platform "
        "tenant)."
    )
    async def pending_artist_claims(
        self,
        info: AnalyticsInfo,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 200.")] = 50,
    ) -> list[ArtistClaim]:
        return [ArtistClaim.of(row) for row in await claims.pending_claims(info.context, first)]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Claim an artist for your tenant (tenant admins): pending until a platform admin "
        "verifies it."
    )
    async def claim_artist(
        self,
        info: AnalyticsInfo,
        input: Annotated[ClaimArtistInput, strawberry.argument(description="The artist.")],
    ) -> ArtistClaimPayload:
        async with unit_of_work(info, {"artistId": str(input.artist_id)}) as uow:
            row = await claims.claim_artist(uow, info.context, str(input.artist_id))
        return ArtistClaimPayload(claim=ArtistClaim.of(row))

    @strawberry.mutation(description="Verify a tenant's claim (admins of a platform tenant).")
    async def verify_artist_claim(
        self,
        info: AnalyticsInfo,
        input: Annotated[VerifyArtistClaimInput, strawberry.argument(description="The claim.")],
    ) -> ArtistClaimPayload:
        async with unit_of_work(info, {"claimId": str(input.claim_id)}) as uow:
            row = await claims.verify_claim(uow, info.context, str(input.claim_id))
        return ArtistClaimPayload(claim=ArtistClaim.of(row))

    @strawberry.mutation(description="Give up your tenant's claim on an artist (tenant admins).")
    async def release_artist_claim(
        self,
        info: AnalyticsInfo,
        input: Annotated[ClaimArtistInput, strawberry.argument(description="The artist.")],
    ) -> ArtistClaimPayload:
        async with unit_of_work(info, {"artistId": str(input.artist_id)}) as uow:
            row = await claims.release_claim(uow, info.context, str(input.artist_id))
        return ArtistClaimPayload(claim=ArtistClaim.of(row))

    @strawberry.mutation(
        description="Render a report of a claimed artist in the background: charts (with the forecast "
        "band), a PDF or PNG and a CSV of the series, stored as assets (members)."
    )
    async def create_report(
        self,
        info: AnalyticsInfo,
        input: Annotated[CreateReportInput, strawberry.argument(description="What to report.")],
    ) -> CreateReportPayload:
        audit = {"artistId": str(input.artist_id), "format": input.format.value}
        span = _window(info, input.range, input.last)
        async with unit_of_work(info, audit) as uow:
            row, handle = await reports.create_report(
                uow, info.context, str(input.artist_id), span, input.format, input.sections
            )
        return CreateReportPayload(report=Report.of(row), job_id=handle.id)

    @strawberry.mutation(description="Render a report of a claimed artist every week or month (admins).")
    async def schedule_report(
        self,
        info: AnalyticsInfo,
        input: Annotated[ScheduleReportInput, strawberry.argument(description="What and how often.")],
    ) -> ReportSchedulePayload:
        audit = {"artistId": str(input.artist_id), "frequency": input.frequency.name}
        async with unit_of_work(info, audit) as uow:
            row = await reports.schedule_report(
                uow, info.context, str(input.artist_id), input.frequency.name, input.format, input.sections
            )
        return ReportSchedulePayload(schedule=ReportSchedule.of(row))

    @strawberry.mutation(description="Stop a scheduled report (admins).")
    async def cancel_report_schedule(
        self,
        info: AnalyticsInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Schedule id.")],
    ) -> ReportSchedulePayload:
        async with unit_of_work(info, {"id": str(id)}) as uow:
            row = await reports.cancel_schedule(uow, info.context, str(id))
        return ReportSchedulePayload(schedule=ReportSchedule.of(row))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each time a rollup lands for the artist: the days that changed and what they hold now. "
        "Resume after an update's id with `after`. FORBIDDEN unless your tenant has claimed the artist."
    )
    async def analytics_updated(
        self,
        info: AnalyticsInfo,
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="Spotify artist id.")],
        after: Annotated[str | None, strawberry.argument(description="Resume after this update id.")] = None,
    ) -> AsyncGenerator[AnalyticsUpdate, None]:
        async for update in updates.follow_claimed(info.context, str(artist_id), after):
            yield AnalyticsUpdate.of(update)


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(settings, query=Query, mutation=Mutation, subscription=Subscription)
