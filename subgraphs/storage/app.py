"""The storage subgraph, declared: GraphQL plus, on the local backend, the signed file routes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.routing import BaseRoute

from shared.runtime import SubgraphRuntime
from shared.subgraph import Subgraph
from subgraphs.storage import tasks
from subgraphs.storage.backends.local import LocalBackend
from subgraphs.storage.backends.routes import file_routes
from subgraphs.storage.config import StorageServices, StorageSettings, build_services
from subgraphs.storage.schema import create_schema


def _routes(runtime: SubgraphRuntime[StorageSettings, StorageServices]) -> Sequence[BaseRoute]:
    backend = runtime.services.backend
    return file_routes(backend) if isinstance(backend, LocalBackend) else []


subgraph: Subgraph[StorageSettings, StorageServices] = Subgraph(
    name="storage",
    schema=create_schema,
    settings=StorageSettings,
    services=build_services,
    policy=Path(__file__).with_name("policy.csv"),
    jobs=tasks.FUNCTIONS,
    cron=tasks.CRON_JOBS,
    routes=_routes,
)
