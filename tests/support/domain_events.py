"""Domain-event test helpers: a test event type, a table consumers apply to, producers and readers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, ClassVar

from redis.asyncio import Redis
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import ANONYMOUS
from shared.context import RequestContext
from shared.db import Database
from shared.domain_events import DomainEvent, EventPayload, emit, transaction
from shared.domain_events.consumers import CONTEXT
from shared.domain_events.types import check_no_secrets

APPLIED = Table(
    "platform_test_applied",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(128), nullable=False),
    Column("event_id", String(64), nullable=False),
)


@dataclass(frozen=True, kw_only=True)
class ThingChanged(EventPayload):
    TYPE: ClassVar[str] = "platformtest.thing.changed"
    VERSION: ClassVar[int] = 1

    thing_id: str
    n: int = 0
    poison: bool = False


STREAM = "events:platformtest"


def request_context(database: Database, redis: Redis, name: str = "platformtest") -> RequestContext:
    runtime: Any = SimpleNamespace(name=name, db=database, redis=redis)
    return RequestContext(runtime=runtime, principal=ANONYMOUS)


async def produce(database: Database, redis: Redis, count: int, **extra: Any) -> list[DomainEvent]:
    events = []
    for n in range(count):
        async with transaction(database, redis) as session:
            events.append(emit(session, ThingChanged(tenant_id="ten_1", thing_id=f"thing{n}", n=n, **extra)))
    return events


def applier(name: str) -> Any:
    async def handle(session: AsyncSession, event: DomainEvent) -> None:
        await session.execute(insert(APPLIED).values(consumer=name, event_id=event.id))

    return handle


async def applied_counts(database: Database, consumer: str) -> dict[str, int]:
    async with database.read() as session:
        rows = await session.execute(
            select(APPLIED.c.event_id, func.count())
            .where(APPLIED.c.consumer == consumer)
            .group_by(APPLIED.c.event_id)
        )
        return {event_id: int(count) for event_id, count in rows}


async def domain_stream(redis: Redis, domain: str) -> list[DomainEvent]:
    return [DomainEvent.from_fields(fields) for _, fields in await redis.xrange(f"events:{domain}")]


async def assert_no_secrets(redis: Redis, domain: str, secrets: list[str]) -> None:
    """No stream entry contains any of the secrets, whole, anywhere in its fields."""
    for _, fields in await redis.xrange(f"events:{domain}"):
        text = " ".join(f"{key}={value}" for key, value in fields.items())
        for secret in secrets:
            assert secret not in text, f"a secret reached events:{domain}"
        check_no_secrets(json.loads(fields["payload"]))  # no key that names a secret


def event(type: str, payload: dict[str, Any], tenant_id: str | None = None, number: int = 0) -> DomainEvent:
    """A domain event as a consumer receives it (for calling a projection's handler directly)."""
    return DomainEvent(
        id=f"evt_{type}_{number}",
        type=type,
        version=1,
        tenant_id=tenant_id,
        occurred_at=datetime.now(UTC),
        payload=payload,
    )


async def apply(
    database: Database, handler: Any, domain_event: DomainEvent, context: dict[str, Any] | None = None
) -> None:
    """`handler(session, event)` in a transaction, as the consumer runner calls it (with the
    worker's `context`)."""
    async with database.write() as session:
        session.info[CONTEXT] = context or {}
        await handler(session, domain_event)
