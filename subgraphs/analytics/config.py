"""What the analytics subgraph runs with beyond the platform: range and list limits, and the
streams its subscribers follow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from arq.connections import ArqRedis

from shared.config import Settings, SubgraphSettings
from shared.events import EventStreams, StreamHub
from shared.runtime import SubgraphRuntime


class AnalyticsSettings(SubgraphSettings):
    analytics_max_range_days: int = 1_096
    """The longest range a query may ask for (three years; BAD_USER_INPUT beyond)."""
    analytics_max_top: int = 50
    """The most values a breakdown (`top`) may list."""
    analytics_graph_url: str | None = None
    """Where the report job reaches the storage subgraph (GraphQL, with a service token);
    default: the router on this host."""
    analytics_rollup_quiet_seconds: float = 20.0
    """A day is rolled once no play has arrived for it for this long (a backfill lands first,
    then rolls once); a late play waits this long, plus up to the 15 s of the rollup's cron."""
    analytics_warm_forecasts: bool = True
    """Import the forecasting library (~3 s) in a thread when the app starts, not in the first
    `forecast` request."""
    analytics_verify_claims: bool = True
    """A tenant admin's claim waits for a platform admin (`verifyArtistClaim`); off, a claim is
    verified when made (single-tenant installations)."""

    def graph_url(self, platform: Settings) -> str:
        return self.analytics_graph_url or f"http://127.0.0.1:{platform.router_port}/graphql"


@dataclass
class AnalyticsServices:
    event_streams: EventStreams
    stream_hub: StreamHub
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""
    warming: asyncio.Task[None] | None = None


def build_services(runtime: SubgraphRuntime[AnalyticsSettings, None]) -> AnalyticsServices:
    streams = EventStreams(runtime.redis)
    return AnalyticsServices(event_streams=streams, stream_hub=StreamHub(streams))


async def connect_job_queue(runtime: SubgraphRuntime[AnalyticsSettings, AnalyticsServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)


async def warm_forecasts(runtime: SubgraphRuntime[AnalyticsSettings, AnalyticsServices]) -> None:
    if runtime.config.analytics_warm_forecasts:
        from subgraphs.analytics import forecasting

        runtime.services.warming = asyncio.create_task(asyncio.to_thread(forecasting.warm_up))
