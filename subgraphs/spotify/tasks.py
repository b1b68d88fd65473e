"""arq jobs of the spotify domain."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from arq import Retry

from shared import jobs
from shared.config import Settings
from shared.crypto import load_secret_box
from shared.db import Database
from shared.domain_events import EventPayload, emit, transaction
from shared.jobs import settings_of
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.catalogue.library import (
    LinkedAccount,
    LiveLibrary,
    OfflineLibrary,
    playlist_track_total,
)
from subgraphs.spotify.catalogue.live import SpotifyUnavailable
from subgraphs.spotify.config import SpotifySettings
from subgraphs.spotify.service.sync import ingest_plays, upsert_library_playlist

PAGE = 50
RECENT = 50
MAX_TRIES = 5
log = logging.getLogger(__name__)


async def _announce(ctx: dict[str, Any], event: EventPayload) -> None:
    """How the job ended, as a domain event; never in the way of the job's own outcome."""
    try:
        async with transaction(ctx["db"], ctx["platform_redis"]) as session:
            emit(session, event)
    except Exception as error:
        log.warning("sync job event not recorded", extra={"error": type(error).__name__})


def _failed(job_id: str, tenant_id: str, user_id: str, reason: str) -> de.LibrarySyncFailed:
    return de.LibrarySyncFailed(tenant_id=tenant_id, job_id=job_id, user_id=user_id, reason=reason)


async def sync_spotify_library(
    ctx: dict[str, Any], *, job_id: str, tenant_id: str, user_id: str, payload_key: str
) -> dict[str, int]:
    """Imports the linked account's playlists and recently played tracks."""
    settings: Settings = ctx["settings"]
    config = settings_of(ctx, "spotify", SpotifySettings)
    db: Database = ctx["db"]
    redis = ctx["platform_redis"]
    sealed = await redis.get(payload_key)
    if sealed is None:
        await jobs.report(redis, job_id, "FAILED", 1.0, "the job's account details expired")
        await _announce(ctx, _failed(job_id, tenant_id, user_id, "expired"))
        return {"playlists": 0, "plays": 0, "new_plays": 0}
    linked = LinkedAccount(**json.loads(load_secret_box(settings).decrypt(sealed)))
    library: Any = OfflineLibrary(db) if linked.offline else LiveLibrary(config.spotify_api_url)
    await jobs.report(redis, job_id, "RUNNING", 0.05, "reading playlists", attempt=ctx.get("job_try", 1))
    try:
        playlists: list[dict[str, Any]] = []
        while True:
            page = await library.playlists(linked, len(playlists), PAGE)
            playlists += page.items
            if len(playlists) >= page.total or not page.items:
                break
        for index, playlist in enumerate(playlists, start=1):
            async with transaction(db, redis) as session:
                await upsert_library_playlist(
                    session, tenant_id, user_id, playlist, playlist_track_total(playlist)
                )
            progress = 0.05 + 0.75 * index / len(playlists)
            await jobs.report(redis, job_id, "RUNNING", progress, f"playlist {index} of {len(playlists)}")
        imported = len(playlists)
        plays = await library.recently_played(linked, RECENT)
        async with transaction(db, redis) as session:
            new_plays = await ingest_plays(session, tenant_id, user_id, plays, linked.country)
    except (httpx.HTTPError, SpotifyUnavailable) as error:
        if ctx.get("job_try", 1) >= MAX_TRIES:
            await jobs.report(redis, job_id, "FAILED", 1.0, f"gave up: {type(error).__name__}")
            await _announce(ctx, _failed(job_id, tenant_id, user_id, type(error).__name__))
            raise
        await jobs.report(redis, job_id, "RETRYING", 0.0, f"will retry: {type(error).__name__}")
        raise Retry(defer=ctx.get("job_try", 1) * 5) from error
    except Exception as error:
        await jobs.report(redis, job_id, "FAILED", 1.0, f"failed: {type(error).__name__}")
        await _announce(ctx, _failed(job_id, tenant_id, user_id, type(error).__name__))
        raise
    await redis.delete(payload_key)
    result = {"playlists": imported, "plays": len(plays), "new_plays": new_plays}
    completed = de.LibrarySyncCompleted(
        tenant_id=tenant_id,
        job_id=job_id,
        user_id=user_id,
        playlists=imported,
        plays=len(plays),
        new_plays=new_plays,
    )
    await _announce(ctx, completed)
    await jobs.report(redis, job_id, "COMPLETED", 1.0, "library synced", **result)
    return result


FUNCTIONS = [sync_spotify_library]
CRON_JOBS: list[Any] = []
