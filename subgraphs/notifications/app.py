"""The notifications subgraph, declared: in-app notifications and e-mail from the platform's
domain events, each person's preferences, and the routes mail links lead to."""

from __future__ import annotations

from pathlib import Path

from shared.subgraph import Subgraph
from subgraphs.notifications import tasks
from subgraphs.notifications.config import (
    NotificationsServices,
    NotificationsSettings,
    build_services,
    connect_job_queue,
)
from subgraphs.notifications.routes import routes
from subgraphs.notifications.schema import create_schema

subgraph: Subgraph[NotificationsSettings, NotificationsServices] = Subgraph(
    name="notifications",
    schema=create_schema,
    settings=NotificationsSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    consumers=tasks.CONSUMERS,
    routes=routes,
    on_startup=[connect_job_queue],
)
