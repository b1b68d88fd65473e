"""Serves subgraphs from one process: each mounted at /<name>/graphql, or one alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from gateway.composition import SubgraphDefinition
from gateway.subgraphs import declaration
from shared.config import Settings
from shared.db import Database
from shared.metrics import metrics_endpoint, platform_gauges
from shared.runtime import SubgraphRuntime


def build_runtimes(
    settings: Settings, redis_url: str, names: Iterable[str], configs: dict[str, Any] | None = None
) -> dict[str, SubgraphRuntime[Any, Any]]:
    """One runtime per subgraph, sharing one database engine. `configs`: name -> that
    subgraph's own settings (default: read from the environment)."""
    database = Database(settings.resolved_database_url)
    configs = configs or {}
    return {
        name: declaration(name).runtime(settings, redis_url, database, config=configs.get(name))
        for name in names
    }


def subgraph_url(settings: Settings, name: str) -> str:
    return settings.routing_url(name)


def definitions(settings: Settings, names: Iterable[str]) -> list[SubgraphDefinition]:
    return [
        SubgraphDefinition(
            name=name,
            url=subgraph_url(settings, name),
            sdl=declaration(name).schema(settings).as_str(),
        )
        for name in names
    ]


def create_host_app(runtimes: dict[str, SubgraphRuntime[Any, Any]]) -> Starlette:
    apps = {name: declaration(name).app(runtime, close_runtime=False) for name, runtime in runtimes.items()}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Starlette does not run the lifespans of mounted apps: run them here.
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield
            closed: set[int] = set()
            for runtime in runtimes.values():
                await runtime.close_services()
                await runtime.redis.aclose()
                if id(runtime.db) not in closed:
                    closed.add(id(runtime.db))
                    await runtime.db.dispose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "subgraphs": sorted(apps)})

    any_runtime = next(iter(runtimes.values()))
    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint(platform_gauges(any_runtime.redis))),
        *(Mount(f"/{name}", app=app) for name, app in apps.items()),
    ]
    # The request spans are made by each mounted subgraph app (shared/app.py).
    return Starlette(routes=routes, lifespan=lifespan)
