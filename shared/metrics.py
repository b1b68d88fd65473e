"""Prometheus metrics of a process, served at `/metrics` (text format 0.0.4).

The subgraph host's worker processes share one directory (`PROMETHEUS_MULTIPROC_DIR`, set by
`gateway.host_process`) and any worker's `/metrics` answers for all of them. Gauges that
describe shared state (event consumer lag, job queue depth) are read from Redis when scraped.

Operation names come from clients: a process labels at most `MAX_OPERATION_NAMES` distinct
ones, later ones count as `other`, so a client cannot grow the series without bound."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast
from weakref import WeakSet

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as multiprocess_mode
from starlette.requests import Request
from starlette.responses import Response

ENABLED = os.environ.get("METRICS", "on").lower() not in ("off", "0", "false")
"""`METRICS=off` turns the recording off (the bench measures what it costs)."""
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen_operations: set[str] = set()

OPERATIONS = Counter(
    "graphql_operations",
    "GraphQL operations served, by subgraph, operation name and outcome (ok, or the first error code).",
    ["subgraph", "operation", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "graphql_operation_duration_seconds",
    "Time to serve one GraphQL operation in a subgraph.",
    ["subgraph", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LOADER_BATCH = Histogram(
    "dataloader_batch_size",
    "Keys per DataLoader batch (one SQL statement or upstream call each).",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
AUTHORIZATION_DECISIONS = Counter(
    "casbin_decisions",
    "Casbin decisions computed (memoised repeats are not counted), by result.",
    ["decision"],
)
CACHE_REQUESTS = Counter(
    "cache_requests",
    "Lookups in the Redis object caches, by cache and result (hit or miss).",
    ["cache", "result"],
)
UPSTREAM_REQUESTS = Counter(
    "upstream_requests",
    "Calls to outside services (Spotify, S3), by service and HTTP status (429: rate limited;"
    " error: no HTTP answer).",
    ["service", "status"],
)
JOB_SECONDS = Histogram(
    "job_duration_seconds",
    "Time one run of an arq job or cron job took, by function and outcome (ok, retry, failed).",
    ["function", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
DB_CONNECTIONS = Gauge(
    "db_pool_connections",
    "Database connections of the process's pools, by pool and state (open, in_use).",
    ["pool", "state"],
    multiprocess_mode="livesum",
)


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _seen_operations:
        return name
    if not _NAME.match(name) or len(_seen_operations) >= MAX_OPERATION_NAMES:
        return "other"
    _seen_operations.add(name)
    return name


def observe_operation(
    subgraph: str, operation: str | None, error_codes: Sequence[str | None], seconds: float
) -> None:
    if not ENABLED:
        return
    label = operation_label(operation)
    outcome = next((code for code in error_codes if code), None) or "ok"
    OPERATIONS.labels(subgraph, label, outcome).inc()
    OPERATION_SECONDS.labels(subgraph, label).observe(seconds)


def measured_batches(name: str, load: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
    """A DataLoader's load function that records each batch's size."""
    if not ENABLED:
        return load
    histogram = LOADER_BATCH.labels(name)

    async def load_measured(keys: Any) -> Any:
        histogram.observe(len(keys))
        return await load(keys)

    return load_measured


def count_decision(decision: str) -> None:
    if ENABLED:
        AUTHORIZATION_DECISIONS.labels(decision).inc()


def count_cache(cache: str, hits: int, misses: int) -> None:
    if ENABLED:
        if hits:
            CACHE_REQUESTS.labels(cache, "hit").inc(hits)
        if misses:
            CACHE_REQUESTS.labels(cache, "miss").inc(misses)


def count_upstream(service: str, status: int | str) -> None:
    if ENABLED:
        UPSTREAM_REQUESTS.labels(service, str(status)).inc()


Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])


def measured_job(name: str, run: Job) -> Job:
    """An arq job's coroutine that records how long each run took and how it ended."""
    if not ENABLED:
        return run
    from arq.worker import Retry

    @functools.wraps(run)
    async def run_measured(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await run(ctx, *args, **kwargs)
            outcome = "ok"
            return result
        except Retry:
            outcome = "retry"
            raise
        finally:
            JOB_SECONDS.labels(name, outcome).observe(time.perf_counter() - started)

    return cast(Job, run_measured)


def watch_pool(engine: Any, pool: str) -> None:
    """Keeps `db_pool_connections` for a SQLAlchemy engine's pool from its pool events."""
    if not ENABLED:
        return
    from sqlalchemy import event

    opened, in_use = DB_CONNECTIONS.labels(pool, "open"), DB_CONNECTIONS.labels(pool, "in_use")

    checked_out: WeakSet[Any] = WeakSet()

    def on_checkout(_connection: Any, record: Any, _proxy: Any) -> None:
        # A checkout that a listener refuses is retried on the same record, and one that
        # fails for good (the pre-ping found the server gone) is checked in without having
        # been checked out: the record, not the event, says whether it is in use.
        if record not in checked_out:
            checked_out.add(record)
            in_use.inc()

    def on_checkin(_connection: Any, record: Any) -> None:
        if record in checked_out:
            checked_out.discard(record)
            in_use.dec()

    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "close_detached", lambda *_: opened.dec())
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)


def pool_gauges(pool: str) -> tuple[Gauge, Gauge]:
    """(open, in_use) gauges of a pool that is not SQLAlchemy's (the keyed reads')."""
    return DB_CONNECTIONS.labels(pool, "open"), DB_CONNECTIONS.labels(pool, "in_use")


SharedGauges = Callable[[], Awaitable[list[tuple[str, dict[str, str], int]]]]
"""Reads gauges of shared state when scraped: (metric, labels, value) samples."""


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess_mode.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


_HELP = {
    "domain_events_stream_length": "Events retained in a domain's stream.",
    "domain_events_lag": "Events of a domain stream a consumer group has not read yet.",
    "domain_events_pending": "Events a consumer group read and has not acknowledged.",
    "domain_events_dead_lettered": "Events a consumer group gave up on (its dead-letter stream).",
    "job_queue_depth": "Jobs waiting in the arq queue.",
}


async def _shared_text(read: SharedGauges | None) -> bytes:
    if read is None:
        return b""
    by_name: dict[str, list[tuple[dict[str, str], int]]] = {}
    for name, labels, value in await read():
        by_name.setdefault(name, []).append((labels, value))
    registry = CollectorRegistry()
    for name, samples in by_name.items():
        label_names = sorted({key for labels, _ in samples for key in labels})
        gauge = Gauge(name, _HELP.get(name, name), label_names, registry=registry)
        for labels, value in samples:
            (gauge.labels(**labels) if label_names else gauge).set(value)
    return generate_latest(registry)


def metrics_endpoint(read_shared: SharedGauges | None = None) -> Callable[[Request], Awaitable[Response]]:
    """`/metrics`: this process's (or host's) metrics, then the shared gauges read now."""

    async def metrics(_: Request) -> Response:
        body = generate_latest(_registry()) + await _shared_text(read_shared)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def platform_gauges(redis: Any) -> SharedGauges:
    """Event streams and consumer groups (`spotify-agent events status`'s numbers) and the
    arq queue's depth, read from Redis at each scrape."""

    async def read() -> list[tuple[str, dict[str, str], int]]:
        from arq.constants import default_queue_name

        from shared.domain_events.status import gauges

        samples = await gauges(redis)
        samples.append(
            ("job_queue_depth", {"queue": default_queue_name}, int(await redis.zcard(default_queue_name)))
        )
        return samples

    return read
