"""The arq worker: runs the jobs of every subgraph on the platform's Redis, the platform's
domain-event outbox repair, and every subgraph's domain-event consumers."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Function, Worker, func

from gateway.subgraphs import declarations
from shared import jobs
from shared.config import Settings
from shared.db import Database
from shared.domain_events import Consumer, ConsumerRunner, repair_outbox
from shared.metrics import measured_job
from shared.redis import create_redis

REPAIR_OUTBOX = func(repair_outbox, name="repair_domain_event_outbox")


def _tasks() -> tuple[list[Function], list[CronJob]]:
    """The jobs and cron jobs every subgraph declares, and the platform's outbox repair, each
    timed into `job_duration_seconds`."""
    functions: list[Function] = [REPAIR_OUTBOX]
    cron_jobs: list[CronJob] = [
        cron(repair_outbox, name="repair_domain_event_outbox", second={10, 25, 40, 55}, run_at_startup=True)
    ]
    for subgraph in declarations():
        functions.extend(func(job) for job in subgraph.jobs)
        cron_jobs.extend(subgraph.cron)
    return (
        [replace(job, coroutine=measured_job(job.name, job.coroutine)) for job in functions],
        [replace(job, coroutine=measured_job(job.name, job.coroutine)) for job in cron_jobs],
    )


def consumers() -> list[Consumer]:
    """Every subgraph's declared domain-event consumers."""
    found: list[Consumer] = [consumer for subgraph in declarations() for consumer in subgraph.consumers]
    names = [consumer.name for consumer in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuntimeError(f"consumer groups declared twice: {', '.join(duplicates)}")
    return found


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
    event_consumers = consumers()
    database = Database(settings.resolved_database_url)
    configured = {subgraph.name: subgraph.settings() for subgraph in declarations()}
    configured |= subgraph_settings or {}

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["db"] = database
        ctx["settings"] = settings
        ctx["subgraph_settings"] = configured
        ctx["platform_redis"] = create_redis(redis_url)
        background: list[asyncio.Task[None]] = []
        if event_consumers:
            runner = ConsumerRunner(ctx["platform_redis"], database, event_consumers, context=ctx)
            background.append(asyncio.create_task(runner.run(), name="domain-event-consumers"))
        for subgraph in declarations():
            for loop in subgraph.loops:
                running = asyncio.ensure_future(loop(ctx))
                running.set_name(f"{subgraph.name}.{getattr(loop, '__name__', 'loop')}")
                background.append(running)
        ctx["background"] = background

    async def shutdown(ctx: dict[str, Any]) -> None:
        # Unacknowledged event entries stay pending (another worker reclaims them); a loop's
        # unfinished round is redone from what it left pending.
        for task in ctx.pop("background", []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await ctx["platform_redis"].aclose()
        await database.dispose()

    return Worker(
        functions=functions,
        cron_jobs=cron_jobs,
        redis_settings=redis_settings(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        max_tries=jobs.MAX_TRIES,
        **overrides,
    )
