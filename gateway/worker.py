"""The arq worker: runs the jobs of every subgraph on the platform's Redis."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from arq.connections import RedisSettings
from arq.worker import Worker

from gateway.subgraphs import declarations
from shared.config import Settings
from shared.db import Database
from shared.redis import create_redis


def _tasks() -> tuple[list[Any], list[Any]]:
    """The jobs and cron jobs every subgraph declares."""
    functions: list[Any] = []
    cron_jobs: list[Any] = []
    for subgraph in declarations():
        functions.extend(subgraph.jobs)
        cron_jobs.extend(subgraph.cron)
    return functions, cron_jobs


def redis_settings(url: str) -> RedisSettings:
    parsed = urlparse(url)
    return RedisSettings(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 6379,
        database=int((parsed.path or "/0").lstrip("/") or 0),
        password=parsed.password,
    )


def create_worker(
    settings: Settings,
    redis_url: str,
    *,
    handle_signals: bool = False,
    subgraph_settings: dict[str, Any] | None = None,
    **overrides: Any,
) -> Worker:
    """Call it inside the loop that will run it. `handle_signals`: SIGINT/SIGTERM stop the worker
    gracefully (its own process); off when it shares a process whose server handles them.
    `subgraph_settings`: name -> that subgraph's own settings (default: from the environment)."""
    functions, cron_jobs = _tasks()
    database = Database(settings.resolved_database_url)
    configured = {subgraph.name: subgraph.settings() for subgraph in declarations()}
    configured |= subgraph_settings or {}

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["db"] = database
        ctx["settings"] = settings
        ctx["subgraph_settings"] = configured
        ctx["platform_redis"] = create_redis(redis_url)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["platform_redis"].aclose()
        await database.dispose()

    return Worker(
        functions=functions,
        cron_jobs=cron_jobs,
        redis_settings=redis_settings(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        max_tries=5,
        **overrides,
    )
