"""The outbox: an emitted event commits with the mutation, reaches its domain's stream after
the commit, is lost with a rollback, and is appended later, once, when Redis was down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shared.db import Database
from shared.domain_events import DomainEvent, SecretInPayload, emit, repair
from shared.domain_events.models import OutboxEvent
from shared.mutations import unit_of_work
from shared.redis import create_redis, free_port
from tests.support.domain_events import STREAM, ThingChanged, request_context


async def _rows(database: Database) -> list[OutboxEvent]:
    async with database.read() as session:
        return list((await session.execute(select(OutboxEvent))).scalars())


async def _stream(redis) -> list[DomainEvent]:
    return [DomainEvent.from_fields(fields) for _, fields in await redis.xrange(STREAM)]


async def test_an_emitted_event_commits_with_the_mutation_and_is_appended_after(database, redis):
    context = request_context(database, redis)
    async with unit_of_work(context, {"id": "thing1"}, operation="changeThing") as uow:
        event = uow.emit(ThingChanged(tenant_id="ten_1", actor_id="usr_1", thing_id="thing1", n=3))
        assert await redis.xlen(STREAM) == 0  # nothing is visible before the commit

    [row] = await _rows(database)
    assert row.id == event.id and row.published_at is not None
    [appended] = await _stream(redis)
    assert appended == event
    assert appended.type == "platformtest.thing.changed" and appended.version == 1
    assert appended.tenant_id == "ten_1" and appended.actor_id == "usr_1"
    assert appended.payload == {"thing_id": "thing1", "n": 3, "poison": False}


async def test_a_rolled_back_mutation_emits_nothing(database, redis):
    context = request_context(database, redis)
    with pytest.raises(RuntimeError):
        async with unit_of_work(context, operation="changeThing") as uow:
            uow.emit(ThingChanged(tenant_id="ten_1", thing_id="thing1"))
            raise RuntimeError("refused")
    assert await _rows(database) == []
    assert await redis.exists(STREAM) == 0
    assert await repair(redis, database, older_than=timedelta(0)) == 0
    assert await redis.exists(STREAM) == 0


async def test_with_redis_down_at_commit_the_repair_job_appends_the_event_once(database, redis):
    dead_redis = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        context = request_context(database, dead_redis)
        async with unit_of_work(context, operation="changeThing") as uow:
            event = uow.emit(ThingChanged(tenant_id="ten_1", thing_id="thing1"))
    finally:
        await dead_redis.aclose()
    [row] = await _rows(database)
    assert row.published_at is None  # committed, not yet on the stream

    assert await repair(redis, database, older_than=timedelta(0)) == 1
    assert await _stream(redis) == [event]
    assert all(row.published_at is not None for row in await _rows(database))
    assert await repair(redis, database, older_than=timedelta(0)) == 0

    # An append whose "published" mark was lost is re-sent by the repair job: still once.
    async with database.write() as session:
        await session.execute(update(OutboxEvent).values(published_at=None))
    assert await repair(redis, database, older_than=timedelta(0)) == 1
    assert await _stream(redis) == [event]


async def test_the_repair_job_leaves_fresh_rows_to_the_committing_request(database, redis):
    async with database.write() as session:
        emit(session, ThingChanged(tenant_id="ten_1", thing_id="thing1"))
    assert await repair(redis, database) == 0  # younger than REPAIR_AFTER
    assert await repair(redis, database, older_than=timedelta(0)) == 1


async def test_events_never_carry_secrets(database, redis):
    event = DomainEvent(
        id="dom_1",
        type="platformtest.thing.changed",
        version=1,
        tenant_id="ten_1",
        occurred_at=ThingChanged(tenant_id=None, thing_id="x").envelope().occurred_at,
        payload={"thing_id": "x", "nested": {"refresh_token": "r"}},
    )
    async with database.write() as session:
        with pytest.raises(SecretInPayload):
            emit(session, event)
