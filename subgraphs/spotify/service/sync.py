"""The library sync: started by a mutation (sealed account details, one job per user),
run by the worker (tasks.py), which stores what it imports through these functions."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.auth.principal import acting_user
from shared.context import RequestContext
from shared.crypto import load_secret_box
from shared.db import new_id, utcnow
from shared.domain_events import emit
from shared.errors import BadUserInput, Forbidden, NotFound, Unavailable
from shared.mutations import UnitOfWork
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.catalogue.library import (
    Play,
)
from subgraphs.spotify.loaders import linked_account
from subgraphs.spotify.models import LibraryPlaylist
from subgraphs.spotify.repository import (
    LibraryPlaylistRepository,
    PlayRepository,
)

SYNC_JOB_KIND = "spotify.sync_library"
PAYLOAD_TTL_SECONDS = 3600


async def seal_sync_payload(context: RequestContext) -> str:
    """Stores the caller's linked account (with its Spotify token) encrypted in Redis for
    the sync job, and returns its key: arq logs job arguments, and they must hold no secret."""
    acting_user(context.principal)
    account = await linked_account(context)
    if account is None:
        raise BadUserInput("Link a Spotify account first", field="spotifyAccount")
    payload_key = f"spotify:sync-payload:{uuid.uuid4().hex}"
    sealed = load_secret_box(context.runtime.settings).encrypt(json.dumps(asdict(account)))
    await context.runtime.redis.set(payload_key, sealed, ex=PAYLOAD_TTL_SECONDS)
    return payload_key


async def start_library_sync(uow: UnitOfWork, context: RequestContext, payload_key: str) -> jobs.JobHandle:
    """Enqueues the sync (or finds the one of this user already running)."""
    tenant_id, user_id = acting_user(context.principal)
    queue = context.runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    handle = await jobs.enqueue_once(
        context.runtime.redis,
        queue,
        kind=SYNC_JOB_KIND,
        function="sync_spotify_library",
        owner_id=user_id,
        tenant_id=tenant_id,
        unique_key=f"spotify-sync:{user_id}",
        user_id=user_id,
        payload_key=payload_key,
    )
    uow.target_id = handle.id
    return handle


async def job_progress(
    context: RequestContext, job_id: str, after: str | None
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(event id, fields) of one of the caller's jobs, from its start or after an event id."""
    redis = context.runtime.redis
    owner = await jobs.owner_of(redis, job_id)
    if owner is None:
        raise NotFound("No such job", id=job_id)
    if owner != (context.principal.user_id, context.principal.tenant_id):
        raise Forbidden("Not your job")
    async for event_id, fields in jobs.follow(redis, job_id, after or "0-0"):
        yield event_id, fields


async def ingest_plays(
    session: AsyncSession, tenant_id: str, user_id: str, plays: Sequence[Play], country: str | None = None
) -> int:
    """Stores plays; ones already stored (same user, track, played_at) are skipped.
    Returns how many were new."""
    if not plays:
        return 0
    repo = PlayRepository(session, tenant_id)
    new = await repo.insert_new(user_id, plays, country)
    if new:
        emit(
            session,
            de.PlaysIngested(
                tenant_id=tenant_id,
                user_id=user_id,
                country=country,
                new=new,
                plays=[_entry(p) for p in plays],
            ),
        )
    return new


def _entry(play: Play) -> dict[str, Any]:
    """A play as `spotify.plays.ingested` carries it: what is known, nothing empty."""
    entry: dict[str, Any] = {"track_id": play.track_id, "played_at": play.played_at.isoformat()}
    details = {
        "context_uri": play.context_uri,
        "ms_played": play.ms_played,
        "device": play.device,
        "source": play.source,
        "country": play.country,
        "city": play.city,
    }
    entry.update({key: value for key, value in details.items() if value is not None})
    return entry


async def upsert_library_playlist(
    session: AsyncSession, tenant_id: str, user_id: str, playlist: dict[str, Any], track_count: int
) -> LibraryPlaylist:
    repo = LibraryPlaylistRepository(session, tenant_id)
    row = await repo.imported(user_id, playlist["id"]) or LibraryPlaylist(
        id=new_id("lpl"), tenant_id=tenant_id, user_id=user_id, spotify_playlist_id=playlist["id"], name=""
    )
    row.name = playlist["name"]
    row.snapshot_id = playlist.get("snapshot_id")
    row.track_count = track_count
    row.updated_at = utcnow()
    session.add(row)
    emit(
        session,
        de.LibraryPlaylistUpserted(
            tenant_id=tenant_id,
            library_playlist_id=row.id,
            spotify_playlist_id=row.spotify_playlist_id,
            user_id=user_id,
            name=row.name,
            snapshot_id=row.snapshot_id,
            track_count=track_count,
        ),
    )
    return row
