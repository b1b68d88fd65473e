"""The workspace event stream: every change is an `ActivityEvent` row written with the
change (the feed, and the outbox), appended to the workspace's Redis stream after commit.
An append that did not happen is made by the repair job; `once_key` keeps it single."""

from __future__ import annotations

import enum
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Database, new_id, utcnow
from shared.events import REDIS_DOWN, EventStreams
from shared.mutations import UnitOfWork
from subgraphs.collaboration.models import ActivityEvent
from subgraphs.collaboration.repository import mark_published

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    PROJECT_CREATED = "project_created"
    PROJECT_CHANGED = "project_changed"
    PROJECT_DELETED = "project_deleted"
    PROJECT_RESTORED = "project_restored"
    COMMENT_ADDED = "comment_added"
    COMMENT_RESOLVED = "comment_resolved"
    COMMENT_UNRESOLVED = "comment_unresolved"
    MEMBER_JOINED = "member_joined"
    MEMBER_LEFT = "member_left"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    PRESENCE_CHANGED = "presence_changed"


MEMBERSHIP_KINDS = frozenset({EventKind.MEMBER_LEFT, EventKind.MEMBER_ROLE_CHANGED})


def stream_key(workspace_id: str) -> str:
    return f"collab:workspace:{workspace_id}"


def _once_key(event_id: str) -> str:
    return f"collab:appended:{event_id}"


@dataclass(frozen=True)
class StreamEvent:
    id: str
    kind: EventKind
    workspace_id: str
    project_id: str | None
    actor_id: str
    at: datetime
    payload: dict[str, Any]


RECORDED = "collaboration.activity"
"""Where a unit of work keeps the activity rows it recorded, to append them after commit."""


def record(
    uow: UnitOfWork,
    tenant_id: str,
    workspace_id: str,
    kind: EventKind,
    actor_id: str,
    payload: dict[str, Any],
    project_id: str | None = None,
) -> ActivityEvent:
    """An activity row (the feed, and the workspace stream's outbox) in the unit of work;
    appended to the workspace's stream once it has committed."""
    event = ActivityEvent(
        id=new_id("evt"),
        tenant_id=tenant_id,
        workspace_id=workspace_id,
        project_id=project_id,
        kind=kind.value,
        actor_id=actor_id,
        payload=payload,
    )
    uow.session.add(event)
    uow.extra.setdefault(RECORDED, []).append(event)
    uow.after_commit(RECORDED, lambda: _publish_recorded(uow))
    return event


async def _publish_recorded(uow: UnitOfWork) -> None:
    if uow.context is None:
        return  # not a request: the repair job appends them
    runtime = uow.context.runtime
    await publish(runtime.services.event_streams, runtime.db, uow.extra[RECORDED])


def encode(
    kind: str, workspace_id: str, project_id: str | None, actor_id: str, at: datetime, payload: dict[str, Any]
) -> dict[str, str]:
    return {
        "kind": kind,
        "workspace": workspace_id,
        "project": project_id or "",
        "actor": actor_id,
        "at": at.isoformat(),
        "payload": json.dumps(payload, separators=(",", ":")),
    }


_decoded: OrderedDict[tuple[str, str], StreamEvent] = OrderedDict()


def decode(event_id: str, fields: dict[str, str]) -> StreamEvent:
    """Once per event and process, not once per subscriber (a fan-out to 1,000 decodes once)."""
    key = (fields["workspace"], event_id)
    event = _decoded.get(key)
    if event is None:
        event = _decoded[key] = _parse(event_id, fields)
        if len(_decoded) > 2_048:
            _decoded.popitem(last=False)
    return event


def _parse(event_id: str, fields: dict[str, str]) -> StreamEvent:
    return StreamEvent(
        id=event_id,
        kind=EventKind(fields["kind"]),
        workspace_id=fields["workspace"],
        project_id=fields["project"] or None,
        actor_id=fields["actor"],
        at=datetime.fromisoformat(fields["at"]),
        payload=json.loads(fields["payload"]),
    )


async def publish(streams: EventStreams, db: Database, events: Sequence[ActivityEvent]) -> list[str]:
    """After commit. A failure here loses nothing: the rows stay unpublished for the
    repair job. Returns the stream ids of the events appended now."""
    appended: list[str] = []
    try:
        for event in events:
            fields = encode(
                event.kind,
                event.workspace_id,
                event.project_id,
                event.actor_id,
                event.created_at,
                event.payload,
            )
            stream_id = await streams.append(
                stream_key(event.workspace_id), fields, once_key=_once_key(event.id)
            )
            if stream_id:
                appended.append(stream_id)
    except REDIS_DOWN as error:
        log.warning("event append failed; the repair job will append", extra={"error": type(error).__name__})
        return appended
    async with db.write() as session:
        await mark_published(session, [event.id for event in events])
    return appended


async def publish_ephemeral(
    streams: EventStreams, workspace_id: str, kind: EventKind, actor_id: str, payload: dict[str, Any]
) -> str | None:
    """Presence: not stored, only streamed."""
    fields = encode(kind.value, workspace_id, None, actor_id, utcnow(), payload)
    return await streams.append(stream_key(workspace_id), fields)
