"""Long work runs as arq jobs. A mutation gets a handle back; progress goes to a Redis
stream per job that the `jobProgress` subscription reads (from the start, so a late or
reconnecting subscriber misses nothing)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from arq.connections import ArqRedis
from redis.asyncio import Redis

PROGRESS_TTL_SECONDS = 24 * 3600
MAX_TRIES = 5
"""How many times the worker runs a job that raises (arq's `max_tries`); a job can tell its last
try by `ctx["job_try"]` and leave nothing half-done."""
TERMINAL = frozenset({"COMPLETED", "FAILED"})


def _meta_key(job_id: str) -> str:
    return f"jobs:meta:{job_id}"


def _progress_key(job_id: str) -> str:
    return f"jobs:progress:{job_id}"


@dataclass(frozen=True)
class JobHandle:
    id: str
    kind: str
    status: str
    already_running: bool = False


async def enqueue_once(
    redis: Redis,
    arq: ArqRedis,
    *,
    kind: str,
    function: str,
    owner_id: str,
    tenant_id: str,
    unique_key: str,
    timeout_seconds: int = 3600,
    **kwargs: Any,
) -> JobHandle:
    """Enqueues `function` unless a job with `unique_key` is still running, in which case
    the running job's handle comes back instead."""
    job_id = f"job_{uuid.uuid4().hex}"
    running_key = f"jobs:running:{unique_key}"
    if not await redis.set(running_key, job_id, nx=True, ex=timeout_seconds):
        existing = await redis.get(running_key)
        if existing:
            return JobHandle(existing, kind, await status(redis, existing), already_running=True)
    meta = {"owner": owner_id, "tenant": tenant_id, "kind": kind, "running_key": running_key}
    await redis.set(_meta_key(job_id), json.dumps(meta), ex=PROGRESS_TTL_SECONDS)
    await report(redis, job_id, "QUEUED", 0.0, "queued")
    await arq.enqueue_job(function, _job_id=job_id, job_id=job_id, tenant_id=tenant_id, **kwargs)
    return JobHandle(job_id, kind, "QUEUED")


async def owner_of(redis: Redis, job_id: str) -> tuple[str, str] | None:
    raw = await redis.get(_meta_key(job_id))
    if raw is None:
        return None
    meta = json.loads(raw)
    return meta["owner"], meta["tenant"]


async def report(redis: Redis, job_id: str, status: str, progress: float, message: str, **data: Any) -> str:
    fields = {
        "status": status,
        "progress": f"{progress:.3f}",
        "message": message,
        "data": json.dumps(data),
        "at": f"{time.time():.3f}",
    }
    key = _progress_key(job_id)
    event_id = str(await redis.xadd(key, fields, maxlen=1000, approximate=True))  # type: ignore[arg-type]
    await redis.expire(key, PROGRESS_TTL_SECONDS)
    if status in TERMINAL:
        raw = await redis.get(_meta_key(job_id))
        if raw:
            await redis.delete(json.loads(raw)["running_key"])
    return event_id


async def status(redis: Redis, job_id: str) -> str:
    last = await redis.xrevrange(_progress_key(job_id), count=1)
    return str(last[0][1]["status"]) if last else "UNKNOWN"


async def follow(
    redis: Redis, job_id: str, after: str = "0-0", block_ms: int = 15000
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Progress events from `after` on; ends after the terminal event."""
    key, last = _progress_key(job_id), after
    while True:
        response = await redis.xread({key: last}, block=block_ms, count=100)
        for _, entries in response or []:
            for event_id, fields in entries:
                last = event_id
                yield event_id, fields
                if fields["status"] in TERMINAL:
                    return


SettingsT = TypeVar("SettingsT")


def settings_of(ctx: dict[str, Any], subgraph: str, kind: Callable[[], SettingsT]) -> SettingsT:
    """A job's view of its subgraph's own settings: what the worker was configured with
    (`ctx["subgraph_settings"]`), else read from the environment."""
    configured = ctx.get("subgraph_settings", {}).get(subgraph)
    return configured if configured is not None else kind()
