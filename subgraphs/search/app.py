"""The search subgraph, declared: its API, the event consumers that keep its documents and
memberships, and the indexer loop the worker runs."""

from __future__ import annotations

from pathlib import Path

from shared.subgraph import Subgraph
from subgraphs.search import tasks
from subgraphs.search.config import SearchServices, SearchSettings, build_services
from subgraphs.search.schema import create_schema

subgraph: Subgraph[SearchSettings, SearchServices] = Subgraph(
    name="search",
    schema=create_schema,
    settings=SearchSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    consumers=tasks.CONSUMERS,
    loops=tasks.LOOPS,
)
