"""One way to host any subgraph in a test: from its declaration, in-process (httpx over
ASGI) or under a real uvicorn (`served`, for WebSockets and the router)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.host import build_runtimes, create_host_app
from gateway.subgraphs import declaration
from shared.config import Settings
from shared.db import Database
from shared.runtime import SubgraphRuntime
from tests.support.servers import ServerThread

CLIENT_ADDRESS = ("203.0.113.7", 5555)


@dataclass
class Hosted:
    runtime: SubgraphRuntime[Any, Any]
    app: Starlette
    client: httpx.AsyncClient


def runtime_of(
    name: str, settings: Settings, redis_url: str, database: Database | None = None, *, config: Any = None
) -> SubgraphRuntime[Any, Any]:
    """`config`: the subgraph's own settings (default: from the environment)."""
    return declaration(name).runtime(settings, redis_url, database, config=config)


@asynccontextmanager
async def hosted(
    name: str,
    settings: Settings,
    redis_url: str,
    database: Database | None = None,
    *,
    runtime: SubgraphRuntime[Any, Any] | None = None,
    config: Any = None,
    base_url: str | None = None,
    client_address: tuple[str, int] = CLIENT_ADDRESS,
    lifespan: bool = True,
) -> AsyncIterator[Hosted]:
    """The subgraph's app with its lifespan run and a client bound to it in-process. Pass
    `runtime` to host one a test has adjusted (a replay client in place of a live one)."""
    runtime = runtime or runtime_of(name, settings, redis_url, database, config=config)
    app = declaration(name).app(runtime, close_runtime=False)
    transport = httpx.ASGITransport(app=app, client=client_address)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=base_url or f"http://{name}.test"
        ) as client:
            if lifespan:
                async with app.router.lifespan_context(app):
                    yield Hosted(runtime, app, client)
            else:
                yield Hosted(runtime, app, client)
    finally:
        await runtime.close_services()
        await runtime.redis.aclose()
        if database is None:
            await runtime.db.dispose()


@contextmanager
def served(
    name: str,
    settings: Settings,
    redis_url: str,
    database: Database | None = None,
    *,
    runtime: SubgraphRuntime[Any, Any] | None = None,
    config: Any = None,
) -> Iterator[tuple[SubgraphRuntime[Any, Any], ServerThread]]:
    """The subgraph under uvicorn in a thread with its own event loop (and so its own
    database engine: do not share the test's)."""
    runtime = runtime or runtime_of(name, settings, redis_url, database, config=config)
    server = ServerThread(declaration(name).app(runtime, close_runtime=database is None)).start()
    try:
        yield runtime, server
    finally:
        server.stop()


@dataclass
class HostedPlatform:
    runtimes: dict[str, SubgraphRuntime[Any, Any]]
    app: Starlette
    client: httpx.AsyncClient


@asynccontextmanager
async def hosted_together(
    names: list[str] | tuple[str, ...],
    settings: Settings,
    redis_url: str,
    *,
    configs: dict[str, Any] | None = None,
    client_address: tuple[str, int] = CLIENT_ADDRESS,
) -> AsyncIterator[HostedPlatform]:
    """Several subgraphs mounted by the platform's host (as `make dev` serves them, each at
    /<name>/graphql), in-process."""
    runtimes = build_runtimes(settings, redis_url, names, configs)
    app = create_host_app(runtimes)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform.test") as client:
            yield HostedPlatform(runtimes, app, client)


@contextmanager
def served_together(
    names: list[str] | tuple[str, ...],
    settings: Settings,
    redis_url: str,
    *,
    configs: dict[str, Any] | None = None,
    port: int | None = None,
    wrap: Callable[[Starlette], Any] | None = None,
) -> Iterator[tuple[dict[str, SubgraphRuntime[Any, Any]], ServerThread]]:
    """The platform's host under uvicorn in a thread (WebSockets, the router). `wrap` puts a
    middleware around the host app (e.g. one that counts the router's fetches)."""
    runtimes = build_runtimes(settings, redis_url, names, configs)
    app = create_host_app(runtimes)
    server = ServerThread(wrap(app) if wrap else app, port=port).start()
    try:
        yield runtimes, server
    finally:
        server.stop()
