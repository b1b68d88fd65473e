"""Builds the storage subgraph's ASGI app: GraphQL plus, on the local backend, the signed
file routes."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from shared.app import create_subgraph_app
from shared.config import Settings
from shared.db import Database
from shared.runtime import SubgraphRuntime, build_runtime
from subgraphs.storage.backends import create_backend
from subgraphs.storage.backends.local import LocalBackend
from subgraphs.storage.files import file_routes
from subgraphs.storage.schema import create_schema

NAME = "storage"
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
    runtime.services["storage_backend"] = create_backend(settings)
    return runtime


def create_app(runtime: SubgraphRuntime, *, close_runtime: bool = True) -> Starlette:
    backend = runtime.services["storage_backend"]
    routes = file_routes(backend) if isinstance(backend, LocalBackend) else []
    return create_subgraph_app(
        runtime, create_schema(runtime.settings), extra_routes=routes, close_runtime=close_runtime
    )
