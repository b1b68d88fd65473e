"""The spotify subgraph, declared."""

from __future__ import annotations

from pathlib import Path

from shared.subgraph import Subgraph
from subgraphs.spotify import tasks
from subgraphs.spotify.config import SpotifyServices, SpotifySettings, build_services, connect_job_queue
from subgraphs.spotify.schema import create_schema

subgraph: Subgraph[SpotifySettings, SpotifyServices] = Subgraph(
    name="spotify",
    schema=create_schema,
    settings=SpotifySettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    on_startup=[connect_job_queue],
)
