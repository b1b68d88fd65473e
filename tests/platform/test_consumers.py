"""Consumer groups: at least once, applied once (idempotent by event id), reclaimed after a
crash, retried then dead-lettered, and able to backfill from the retained stream."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.domain_events import Consumer, ConsumerRunner, DomainEvent, dead_letter_stream, stream_status
from tests.support.domain_events import APPLIED, STREAM, applied_counts, applier, produce

EVENTS = ("platformtest.thing.changed",)


class Crash(BaseException):
    """The process dying: nothing after it runs."""


class CrashingRunner(ConsumerRunner):
    """Dies at the ack of its `crash_at`-th entry: after that entry's transaction committed."""

    def __init__(self, *args: Any, crash_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crash_at = crash_at
        self.acks = 0

    async def _ack(self, consumer: Consumer, stream: str, entry_id: str) -> None:
        self.acks += 1
        if self.acks == self.crash_at:
            raise Crash
        await super()._ack(consumer, stream, entry_id)


async def _drain(runner: ConsumerRunner, consumer: Consumer, done: Any, *, timeout: float = 20) -> None:
    """Passes until `done()` holds (each pass blocks briefly on the stream), bounded in time."""
    deadline = time.monotonic() + timeout
    while not await done():
        assert time.monotonic() < deadline, "the consumer did not get there in time"
        await runner.run_once(consumer, block_ms=20)


async def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    database, redis, applied_table
):
    events = await produce(database, redis, 10)
    consumer = Consumer("platformtest.projection", EVENTS, applier("platformtest.projection"))

    first = CrashingRunner(redis, database, [consumer], name="worker-1", batch=10, crash_at=4)
    with pytest.raises(Crash):
        await first.run_once(consumer, block_ms=0)
    # Three acknowledged, the fourth committed but not acknowledged, six delivered, untouched.
    assert len(await applied_counts(database, consumer.name)) == 4
    assert (await redis.xpending(STREAM, consumer.name))["pending"] == 7

    restarted = ConsumerRunner(redis, database, [consumer], name="worker-2", claim_idle_ms=0)
    assert await restarted.run_once(consumer, block_ms=0) == 7
    assert await applied_counts(database, consumer.name) == {event.id: 1 for event in events}
    assert (await redis.xpending(STREAM, consumer.name))["pending"] == 0
    [status] = await stream_status(redis)
    assert [(group.pending, group.lag) for group in status.groups] == [(0, 0)]


async def test_a_live_consumer_keeps_its_entries_until_they_idle_past_the_claim_time(
    database, redis, applied_table
):
    await produce(database, redis, 2)
    consumer = Consumer("platformtest.projection", EVENTS, applier("platformtest.projection"))
    first = CrashingRunner(redis, database, [consumer], name="worker-1", crash_at=1)
    with pytest.raises(Crash):
        await first.run_once(consumer, block_ms=0)
    patient = ConsumerRunner(redis, database, [consumer], name="worker-2", claim_idle_ms=60_000)
    assert await patient.run_once(consumer, block_ms=0) == 0
    assert (await redis.xpending(STREAM, consumer.name))["pending"] == 2


async def test_a_poison_event_is_dead_lettered_after_n_attempts_and_the_rest_flow_on(
    database, redis, applied_table
):
    attempts: list[str] = []

    async def handle(session: AsyncSession, event: DomainEvent) -> None:
        if event.payload["poison"]:
            attempts.append(event.id)
            raise ValueError("cannot project this one")
        await session.execute(insert(APPLIED).values(consumer="platformtest.poisoned", event_id=event.id))

    before = await produce(database, redis, 2)
    [poison] = await produce(database, redis, 1, poison=True)
    after = await produce(database, redis, 3)
    consumer = Consumer("platformtest.poisoned", EVENTS, handle, max_attempts=3)
    runner = ConsumerRunner(redis, database, [consumer], retry_base_ms=5, retry_cap_ms=20)

    dead_stream = dead_letter_stream(STREAM)

    async def dead_lettered() -> bool:
        return await redis.xlen(dead_stream) == 1 and len(await applied_counts(database, consumer.name)) == 5

    await _drain(runner, consumer, dead_lettered)
    assert attempts == [poison.id] * 3
    assert await applied_counts(database, consumer.name) == {event.id: 1 for event in before + after}
    [(_, dead)] = await redis.xrange(dead_stream)
    assert dead["group"] == consumer.name and dead["attempts"] == "3" and dead["id"] == poison.id
    assert dead["error"] == "ValueError: cannot project this one"
    assert DomainEvent.from_fields(dead) == poison  # the event itself, ready to replay
    assert (await redis.xpending(STREAM, consumer.name))["pending"] == 0
    assert await redis.hlen(f"events:failures:{consumer.name}") == 0
    [status] = await stream_status(redis)
    assert [(group.pending, group.lag, group.dead_lettered) for group in status.groups] == [(0, 0, 1)]


async def test_a_consumer_added_later_backfills_from_the_retained_stream(database, redis, applied_table):
    events = await produce(database, redis, 5)
    early = Consumer("platformtest.early", EVENTS, applier("platformtest.early"))
    assert await ConsumerRunner(redis, database, [early]).run_once(early, block_ms=0) == 5

    late = Consumer("platformtest.late", EVENTS, applier("platformtest.late"))
    from_now = Consumer("platformtest.from_now", EVENTS, applier("platformtest.from_now"), start="$")
    runner = ConsumerRunner(redis, database, [late, from_now])
    assert await runner.run_once(late, block_ms=0) == 5
    assert await runner.run_once(from_now, block_ms=0) == 0
    assert await applied_counts(database, "platformtest.late") == {event.id: 1 for event in events}


async def test_events_of_other_types_are_acknowledged_and_skipped(database, redis, applied_table):
    await produce(database, redis, 3)
    consumer = Consumer("platformtest.other", ("platformtest.other.*",), applier("platformtest.other"))
    runner = ConsumerRunner(redis, database, [consumer])
    assert await runner.run_once(consumer, block_ms=0) == 3
    assert await applied_counts(database, consumer.name) == {}
    assert (await redis.xpending(STREAM, consumer.name))["pending"] == 0
