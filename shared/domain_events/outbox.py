"""The outbox: `emit(session, event)` writes the event with the change (rolled back with it);
after commit `publish` appends it to its domain's stream and marks it published. An append
that did not happen (Redis down) is made later by `repair_outbox`, exactly once per event
(`EventStreams.append(once_key=...)`: a re-sent event is not added twice)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.db import Database, utcnow
from shared.domain_events.models import OutboxEvent
from shared.domain_events.types import DomainEvent, EventPayload, check_no_secrets
from shared.events import REDIS_DOWN, EventStreams

log = logging.getLogger(__name__)

STREAM_MAXLEN = 100_000
"""Approximate retention per domain stream: what a consumer added later can backfill from."""
APPEND_ONCE_TTL_SECONDS = 14 * 24 * 3600
REPAIR_AFTER = timedelta(seconds=5)
REPAIR_BATCH = 500
_PENDING = "domain_events.pending"
_AFTER_COMMIT = "domain_events.after_commit"

_streams: WeakKeyDictionary[Redis, EventStreams] = WeakKeyDictionary()


def domain_streams(redis: Redis) -> EventStreams:
    streams = _streams.get(redis)
    if streams is None:
        streams = _streams[redis] = EventStreams(
            redis, maxlen=STREAM_MAXLEN, dedupe_ttl_seconds=APPEND_ONCE_TTL_SECONDS
        )
    return streams


def _once_key(event_id: str) -> str:
    return f"events:appended:{event_id}"


def pending(session: AsyncSession) -> list[DomainEvent]:
    """The events emitted in this session's transaction (published after its commit)."""
    events: list[DomainEvent] = session.info.setdefault(_PENDING, [])
    return events


def after_commit(
    session: AsyncSession, hook: Callable[[], Awaitable[object]], *, key: str | None = None
) -> None:
    """Work for once the session's transaction has committed (a live push, a job to queue),
    once per `key` when given; nothing runs when it rolls back. Run by whoever commits the
    session (`unit_of_work`, `transaction`, the consumer runner) after its events are published."""
    hooks: dict[object, Callable[[], Awaitable[object]]] = session.info.setdefault(_AFTER_COMMIT, {})
    hooks.setdefault(key if key is not None else id(hook), hook)


async def committed(
    redis: Redis, db: Database, session: AsyncSession, *, raise_hook_errors: bool = False
) -> None:
    """After `session` committed: publish its events, then run its `after_commit` hooks. A hook
    that fails is logged and skipped (what committed stays committed), or, with
    `raise_hook_errors`, raised to a caller who can tell someone (a mutation's client)."""
    await publish_pending(redis, db, session)
    for hook in session.info.pop(_AFTER_COMMIT, {}).values():
        if raise_hook_errors:
            await hook()
            continue
        try:
            await hook()
        except Exception as error:
            log.warning("after-commit hook failed", extra={"error": type(error).__name__})


def emit(session: AsyncSession, event: EventPayload | DomainEvent) -> DomainEvent:
    """Writes the event to the outbox in the session's transaction. Whoever commits the
    session publishes it afterwards (`unit_of_work` does; jobs use `transaction`); if nobody
    does, the repair job will."""
    envelope = event.envelope() if isinstance(event, EventPayload) else event
    check_no_secrets(envelope.payload)
    session.add(
        OutboxEvent(
            id=envelope.id,
            type=envelope.type,
            version=envelope.version,
            tenant_id=envelope.tenant_id,
            actor_id=envelope.actor_id,
            occurred_at=envelope.occurred_at,
            payload=envelope.payload,
        )
    )
    pending(session).append(envelope)
    return envelope


async def publish(redis: Redis, db: Database, events: Sequence[DomainEvent]) -> list[str]:
    """After commit. Appends each event once and marks it published; with Redis down the
    rest stay unpublished for the repair job. Returns the stream ids appended now."""
    if not events:
        return []
    streams = domain_streams(redis)
    appended: list[str] = []
    done: list[str] = []
    try:
        for event in events:
            stream_id = await streams.append(event.stream, event.fields(), once_key=_once_key(event.id))
            done.append(event.id)
            if stream_id:
                appended.append(stream_id)
    except REDIS_DOWN as error:
        log.warning(
            "domain event append failed; the repair job will append",
            extra={"error": type(error).__name__, "pending": len(events) - len(done)},
        )
    if done:
        try:
            async with db.write() as session:
                await session.execute(
                    update(OutboxEvent).where(col(OutboxEvent.id).in_(done)).values(published_at=utcnow())
                )
        except Exception as error:  # the change has committed: the repair job re-sends, once
            log.warning("marking domain events published failed", extra={"error": type(error).__name__})
    return appended


async def publish_pending(redis: Redis, db: Database, session: AsyncSession) -> list[str]:
    """After `session` committed: publish what was emitted in it."""
    events = list(pending(session))
    pending(session).clear()
    return await publish(redis, db, events)


@asynccontextmanager
async def transaction(db: Database, redis: Redis) -> AsyncIterator[AsyncSession]:
    """`db.write()` for code outside a mutation (jobs, consumers): events emitted in the
    block are published once it has committed."""
    async with db.write() as session:
        yield session
    await committed(redis, db, session)


def _row_event(row: OutboxEvent) -> DomainEvent:
    return DomainEvent(
        id=row.id,
        type=row.type,
        version=row.version,
        tenant_id=row.tenant_id,
        actor_id=row.actor_id,
        occurred_at=row.occurred_at,
        payload=row.payload,
    )


async def unpublished(db: Database, older_than: datetime, limit: int = REPAIR_BATCH) -> list[DomainEvent]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None), col(OutboxEvent.created_at) < older_than)
                .order_by(col(OutboxEvent.created_at), col(OutboxEvent.id))
                .limit(limit)
            )
        ).scalars()
        return [_row_event(row) for row in rows]


async def repair(redis: Redis, db: Database, *, older_than: timedelta = REPAIR_AFTER) -> int:
    """Appends the events whose append after commit did not happen. Returns how many were
    found (each is appended at most once, whoever else appends it meanwhile)."""
    missing = await unpublished(db, utcnow() - older_than)
    await publish(redis, db, missing)
    return len(missing)


async def repair_outbox(ctx: dict[str, Any], *, older_than: timedelta = REPAIR_AFTER) -> dict[str, int]:
    """The worker's periodic job (arq cron)."""
    return {"repaired": await repair(ctx["platform_redis"], ctx["db"], older_than=older_than)}
