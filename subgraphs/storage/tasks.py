"""Scheduled jobs of storage: abandoned uploads and long-deleted assets lose their bytes
and their rows. Each run handles a bounded batch; the next run takes the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from arq import cron

from shared.db import Database, utcnow
from shared.jobs import settings_of
from subgraphs.storage.backends import StorageBackend, create_backend
from subgraphs.storage.config import StorageSettings
from subgraphs.storage.repository import abandoned_uploads, deleted_before, remove_rows

BATCH = 500
UPLOAD_GRACE = timedelta(minutes=15)


async def _remove(db: Database, backend: StorageBackend, find: Any, before: Any) -> int:
    async with db.read() as session:
        assets = list(await find(session, before, BATCH))
    for asset in assets:
        await backend.delete(asset.object_key)  # bytes first: a row never outlives nothing
    async with db.write() as session:
        await remove_rows(session, [asset.id for asset in assets])
    return len(assets)


@asynccontextmanager
async def _backend(ctx: dict[str, Any]) -> AsyncIterator[StorageBackend]:
    """The worker's backend if it has one, else one for this run."""
    if "storage_backend" in ctx:
        yield ctx["storage_backend"]
        return
    backend = create_backend(ctx["settings"], settings_of(ctx, "storage", StorageSettings))
    try:
        yield backend
    finally:
        await backend.aclose()


async def clean_abandoned_uploads(ctx: dict[str, Any]) -> dict[str, int]:
    """Uploads never completed within their window (plus a grace period)."""
    async with _backend(ctx) as backend:
        return {"removed": await _remove(ctx["db"], backend, abandoned_uploads, utcnow() - UPLOAD_GRACE)}


async def purge_deleted_assets(ctx: dict[str, Any]) -> dict[str, int]:
    """Assets soft-deleted more than `storage_purge_after_days` ago."""
    config = settings_of(ctx, "storage", StorageSettings)
    cutoff = utcnow() - timedelta(days=config.storage_purge_after_days)
    async with _backend(ctx) as backend:
        return {"purged": await _remove(ctx["db"], backend, deleted_before, cutoff)}


FUNCTIONS = [clean_abandoned_uploads, purge_deleted_assets]
CRON_JOBS = [
    cron(clean_abandoned_uploads, minute=set(range(0, 60, 10)), run_at_startup=True),
    cron(purge_deleted_assets, hour={4}, minute={7}, run_at_startup=False),
]
