"""What the analytics subgraph runs with beyond the platform: range and list limits, and the
streams its subscribers follow."""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis

from shared.config import SubgraphSettings
from shared.events import EventStreams, StreamHub
from shared.runtime import SubgraphRuntime


class AnalyticsSettings(SubgraphSettings):
    analytics_max_range_days: int = 1_096
    """The longest range a query may ask for (three years; BAD_USER_INPUT beyond)."""
    analytics_max_top: int = 50
    """The most values a breakdown (`top`) may list."""
    analytics_verify_claims: bool = True
    """A tenant admin's claim waits for a platform admin (`verifyArtistClaim`); off, a claim is
    verified when made (single-tenant installations)."""


@dataclass
class AnalyticsServices:
    event_streams: EventStreams
    stream_hub: StreamHub
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""


def build_services(runtime: SubgraphRuntime[AnalyticsSettings, None]) -> AnalyticsServices:
    streams = EventStreams(runtime.redis)
    return AnalyticsServices(event_streams=streams, stream_hub=StreamHub(streams))


async def connect_job_queue(runtime: SubgraphRuntime[AnalyticsSettings, AnalyticsServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)
