"""The analytics subgraph, declared: an artist's audience from the platform's plays (facts
from spotify's events, rolled up by the worker), claims, and live updates."""

from __future__ import annotations

from pathlib import Path

from shared.subgraph import Subgraph
from subgraphs.analytics import tasks
from subgraphs.analytics.config import (
    AnalyticsServices,
    AnalyticsSettings,
    build_services,
    connect_job_queue,
    warm_forecasts,
)
from subgraphs.analytics.schema import create_schema

subgraph: Subgraph[AnalyticsSettings, AnalyticsServices] = Subgraph(
    name="analytics",
    schema=create_schema,
    settings=AnalyticsSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    consumers=tasks.CONSUMERS,
    on_startup=[connect_job_queue, warm_forecasts],
)
