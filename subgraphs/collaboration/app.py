"""The collaboration subgraph, declared."""

from __future__ import annotations

from pathlib import Path

from shared.runtime import NoSettings
from shared.subgraph import Subgraph
from subgraphs.collaboration import tasks
from subgraphs.collaboration.config import CollaborationServices, build_services
from subgraphs.collaboration.schema import create_schema

subgraph: Subgraph[NoSettings, CollaborationServices] = Subgraph(
    name="collaboration",
    schema=create_schema,
    settings=NoSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
)
