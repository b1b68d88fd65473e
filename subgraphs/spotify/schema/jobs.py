"""The library sync as a job: a mutation that returns a handle, a subscription for progress."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from subgraphs.spotify.service import sync
from subgraphs.spotify.types import Job, JobProgress, SpotifyInfo


@strawberry.type(description="The sync job just started (or the one already running).")
class SyncLibraryPayload:
    job: Job = strawberry.field(description="Handle of the job; follow it with `jobProgress`.")


@strawberry.type
class JobMutation:
    @strawberry.mutation(
        description="Import the linked account's playlists and recently played tracks (a job)."
    )
    async def sync_my_spotify_library(self, info: SpotifyInfo) -> SyncLibraryPayload:
        payload_key = await sync.seal_sync_payload(info.context)
        async with unit_of_work(info) as uow:
            handle = await sync.start_library_sync(uow, info.context, payload_key)
        return SyncLibraryPayload(job=Job.of(handle))


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
        async for event_id, fields in sync.job_progress(info.context, str(job_id), after):
            yield JobProgress.of(event_id, fields)
