"""The library sync as a job: a mutation that returns a handle, a subscription for progress."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator
from dataclasses import asdict
from typing import Annotated

import strawberry
from arq.connections import ArqRedis

from shared import jobs
from shared.context import RequestContext
from shared.crypto import load_secret_box
from shared.errors import BadUserInput, Forbidden, NotFound, Unavailable
from shared.mutations import unit_of_work
from subgraphs.spotify.config import SpotifyServices, SpotifySettings
from subgraphs.spotify.library import linked_account
from subgraphs.spotify.types import SpotifyInfo


def _job_queue(context: RequestContext[SpotifySettings, SpotifyServices]) -> ArqRedis:
    queue = context.runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    return queue


PAYLOAD_TTL_SECONDS = 3600


@strawberry.type(description="A background job.")
class Job:
    id: strawberry.ID = strawberry.field(
        description="Job id (opaque); subscribe to `jobProgress(jobId:)` with it."
    )
    kind: str = strawberry.field(description="What the job does, e.g. `spotify.sync_library`.")
    status: str = strawberry.field(description="`QUEUED`, `RUNNING`, `RETRYING`, `COMPLETED` or `FAILED`.")
    already_running: bool = strawberry.field(
        description="True when an equal job was running: this is that job."
    )


@strawberry.type(description="The sync job just started (or the one already running).")
class SyncLibraryPayload:
    job: Job = strawberry.field(description="Handle of the job; follow it with `jobProgress`.")


@strawberry.type(description="One step of a job's progress.")
class JobProgress:
    event_id: str = strawberry.field(
        description="Id of this progress event; pass it as `after` to resume from here."
    )
    status: str = strawberry.field(
        description="`QUEUED`, `RUNNING`, `RETRYING`, `COMPLETED` or `FAILED`; the last two end the stream."
    )
    progress: float = strawberry.field(description="Fraction done, 0.0 to 1.0.")
    message: str = strawberry.field(description="Human-readable step, e.g. `playlist 3 of 12`.")
    result: strawberry.scalars.JSON | None = strawberry.field(
        description="Job-specific details (e.g. counts when completed); null when none."
    )


@strawberry.type
class JobMutation:
    @strawberry.mutation(
        description="Import the linked account's playlists and recently played tracks (a job)."
    )
    async def sync_my_spotify_library(self, info: SpotifyInfo) -> SyncLibraryPayload:
        context = info.context
        principal = context.principal
        assert principal.user_id and principal.tenant_id
        account = await linked_account(context)
        if account is None:
            raise BadUserInput("Link a Spotify account first", field="spotifyAccount")
        # The account (with its Spotify token) reaches the worker encrypted and by
        # reference: arq logs job arguments, and they must hold no secret.
        payload_key = f"spotify:sync-payload:{uuid.uuid4().hex}"
        sealed = load_secret_box(context.runtime.settings).encrypt(json.dumps(asdict(account)))
        await context.runtime.redis.set(payload_key, sealed, ex=PAYLOAD_TTL_SECONDS)
        async with unit_of_work(info) as uow:
            handle = await jobs.enqueue_once(
                context.runtime.redis,
                _job_queue(context),
                kind="spotify.sync_library",
                function="sync_spotify_library",
                owner_id=principal.user_id,
                tenant_id=principal.tenant_id,
                unique_key=f"spotify-sync:{principal.user_id}",
                user_id=principal.user_id,
                payload_key=payload_key,
            )
            uow.target_id = handle.id
        job = Job(
            id=strawberry.ID(handle.id),
            kind=handle.kind,
            status=handle.status,
            already_running=handle.already_running,
        )
        return SyncLibraryPayload(job=job)


@strawberry.type
class JobSubscription:
    @strawberry.subscription(
        description="Progress of one of your jobs, from its start (or after an event id)."
    )
    async def job_progress(
        self,
        info: SpotifyInfo,
        job_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Id of a job you started (`Job.id`); others' jobs are FORBIDDEN."
            ),
        ],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this progress event id; null replays from the start."
            ),
        ] = None,
    ) -> AsyncGenerator[JobProgress, None]:
        redis = info.context.runtime.redis
        owner = await jobs.owner_of(redis, str(job_id))
        if owner is None:
            raise NotFound("No such job", id=str(job_id))
        if owner != (info.context.principal.user_id, info.context.principal.tenant_id):
            raise Forbidden("Not your job")
        async for event_id, fields in jobs.follow(redis, str(job_id), after or "0-0"):
            data = json.loads(fields.get("data") or "{}")
            yield JobProgress(
                event_id=event_id,
                status=fields["status"],
                progress=float(fields["progress"]),
                message=fields["message"],
                result=data or None,
            )
