"""Scheduled jobs of collaboration: append events whose append after commit did not happen
(the database is the source of truth), and announce presence entries that expired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import cron

from shared.db import Database, utcnow
from shared.events import EventStreams
from subgraphs.collaboration.repository import unpublished_events
from subgraphs.collaboration.service import activity as events
from subgraphs.collaboration.service import presence
from subgraphs.collaboration.service.activity import EventKind

REPAIR_AFTER = timedelta(seconds=5)
BATCH = 500


def _streams(ctx: dict[str, Any]) -> EventStreams:
    if "collab_streams" not in ctx:
        ctx["collab_streams"] = EventStreams(ctx["platform_redis"])
    streams: EventStreams = ctx["collab_streams"]
    return streams


async def repair_event_stream(ctx: dict[str, Any], *, older_than: timedelta = REPAIR_AFTER) -> dict[str, int]:
    db: Database = ctx["db"]
    async with db.read() as session:
        missing = list(await unpublished_events(session, utcnow() - older_than, BATCH))
    if missing:
        await events.publish(_streams(ctx), db, missing)
    return {"repaired": len(missing)}


async def sweep_presence(ctx: dict[str, Any]) -> dict[str, int]:
    redis = ctx["platform_redis"]
    gone = 0
    for workspace_id in await presence.active_workspaces(redis):
        for user_id in await presence.sweep(redis, workspace_id):
            payload = {"userId": user_id, "state": "gone", "viewing": None}
            await events.publish_ephemeral(
                _streams(ctx), workspace_id, EventKind.PRESENCE_CHANGED, user_id, payload
            )
            gone += 1
    return {"gone": gone}


FUNCTIONS = [repair_event_stream, sweep_presence]
CRON_JOBS = [
    cron(repair_event_stream, second={5, 20, 35, 50}, run_at_startup=True),
    cron(sweep_presence, second={0, 15, 30, 45}, run_at_startup=False),
]
