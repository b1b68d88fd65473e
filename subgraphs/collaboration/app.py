"""Builds the collaboration subgraph's ASGI app."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.config import Settings
from shared.db import Database
from shared.events import EventStreams, StreamHub
from shared.runtime import SubgraphRuntime, build_runtime
from subgraphs.collaboration.schema import create_schema

NAME = "collaboration"
POLICY_FILE = Path(__file__).with_name("policy.csv")

__all__ = ["create_app", "create_runtime", "create_schema"]


def create_runtime(settings: Settings, redis_url: str, database: Database | None = None) -> SubgraphRuntime:
    runtime = build_runtime(
        NAME,
        settings,
        policy_files=[POLICY_FILE],
        redis_url=redis_url,
        database=database,
    )
    streams = EventStreams(runtime.redis)
    runtime.services["event_streams"] = streams
    runtime.services["stream_hub"] = StreamHub(streams)
    return runtime


def create_app(runtime: SubgraphRuntime, *, close_runtime: bool = True) -> Starlette:
    return create_subgraph_app(runtime, create_schema(runtime.settings), close_runtime=close_runtime)
