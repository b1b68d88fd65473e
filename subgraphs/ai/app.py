"""The ai subgraph, declared: recommendations with their reasons, the model registry, the
event consumers that feed its tables, and the recommender's training jobs."""

from __future__ import annotations

from pathlib import Path

from shared.subgraph import Subgraph
from subgraphs.ai import tasks
from subgraphs.ai.config import AiServices, AiSettings, build_services, connect_job_queue
from subgraphs.ai.schema import create_schema

subgraph: Subgraph[AiSettings, AiServices] = Subgraph(
    name="ai",
    schema=create_schema,
    settings=AiSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    consumers=tasks.CONSUMERS,
    on_startup=[connect_job_queue],
)
