"""A subgraph declared once: the shared layer builds its runtime, its ASGI app, its jobs and
its place in the host from this one object (`subgraph = Subgraph(...)` in its `app.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from shared.app import create_subgraph_app
from shared.auth.authenticate import ApiKeyResolver
from shared.config import Settings
from shared.db import Database
from shared.permissions.defaults import default_lines
from shared.runtime import ConfigT, ServicesT, SubgraphRuntime, build_runtime
from shared.schema import PlatformSchema


@dataclass(frozen=True, kw_only=True)
class Subgraph(Generic[ConfigT, ServicesT]):
    name: str
    """The subgraph's name: its URL path on the host, its table prefix, its migration branch."""
    schema: Callable[[Settings], PlatformSchema]
    settings: Callable[[], ConfigT]
    """Its own settings, read from the environment (a pydantic-settings class in `config.py`)."""
    services: Callable[[SubgraphRuntime[ConfigT, None]], ServicesT]
    """Builds the subgraph's typed services from its settings and the platform part of its runtime."""
    policy: Path
    """Its Casbin policy lines (`policy.csv` beside `app.py`)."""
    jobs: Sequence[Callable[..., Any]] = ()
    """arq functions the worker runs for it."""
    cron: Sequence[Any] = ()
    """arq cron jobs."""
    consumers: Sequence[Any] = ()
    """Domain-event consumers the worker runs for it."""
    loops: Sequence[Callable[[dict[str, Any]], Awaitable[None]]] = ()
    """Long-running tasks the worker runs beside its jobs until it stops, each given the
    worker's context (search's indexer)."""
    routes: Callable[[SubgraphRuntime[ConfigT, ServicesT]], Sequence[BaseRoute]] | None = None
    """HTTP routes beside /graphql (JWKS, signed file URLs, ...)."""
    on_startup: Sequence[Callable[[SubgraphRuntime[ConfigT, ServicesT]], Awaitable[None]]] = field(default=())
    """Run when the app starts, inside its event loop (e.g. connect a job queue)."""
    signs_tokens: bool = False
    """Loads the private signing keys (only accounts issues tokens)."""
    api_keys: Callable[[Database], ApiKeyResolver] | None = None
    """Resolves `sak_…` API keys to principals (only accounts stores them)."""

    @property
    def table_prefix(self) -> str:
        return f"{self.name}_"

    def runtime(
        self,
        settings: Settings,
        redis_url: str,
        database: Database | None = None,
        *,
        config: ConfigT | None = None,
    ) -> SubgraphRuntime[ConfigT, ServicesT]:
        """`config`: this subgraph's settings (default: read from the environment)."""
        database = database or Database(settings.resolved_database_url)
        schema = self.schema(settings)
        base = build_runtime(
            self.name,
            settings,
            policy_files=[self.policy],
            redis_url=redis_url,
            database=database,
            api_keys=self.api_keys(database) if self.api_keys else None,
            signs_tokens=self.signs_tokens,
            policy_defaults=default_lines(schema._schema),
        )
        configured: SubgraphRuntime[ConfigT, None] = replace(  # type: ignore[assignment]
            base,
            config=config if config is not None else self.settings(),  # type: ignore[arg-type]
            schema=schema,
        )
        runtime: SubgraphRuntime[ConfigT, ServicesT] = replace(  # type: ignore[assignment]
            configured,
            services=self.services(configured),  # type: ignore[arg-type]
        )
        return runtime

    def app(self, runtime: SubgraphRuntime[ConfigT, ServicesT], *, close_runtime: bool = True) -> Starlette:
        hooks = [_bound(hook, runtime) for hook in self.on_startup]
        return create_subgraph_app(
            runtime,
            runtime.schema or self.schema(runtime.settings),
            extra_routes=self.routes(runtime) if self.routes else (),
            on_startup=hooks,
            close_runtime=close_runtime,
        )


def _bound(
    hook: Callable[[SubgraphRuntime[ConfigT, ServicesT]], Awaitable[None]],
    runtime: SubgraphRuntime[ConfigT, ServicesT],
) -> Callable[[], Awaitable[None]]:
    return lambda: hook(runtime)
