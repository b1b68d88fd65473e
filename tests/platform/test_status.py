"""`spotify-agent events status` and its gauge source: length, pending, lag, dead letters."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from gateway.cli import app
from shared.domain_events import Consumer, ConsumerRunner, DomainEvent, gauges, stream_status
from shared.redis import EmbeddedRedis
from tests.support.domain_events import STREAM, applier, produce

EVENTS = ("platformtest.thing.changed",)


async def _refuse(session: AsyncSession, event: DomainEvent) -> None:
    raise ValueError("no")


async def _scenario(database, redis) -> None:
    """7 events. `caught_up` read all and dead-lettered one; `behind` holds 3 unacknowledged
    and has 4 to read; `new` has read nothing."""
    await produce(database, redis, 7)
    caught_up = Consumer("platformtest.caught_up", EVENTS, applier("platformtest.caught_up"))
    await ConsumerRunner(redis, database, [caught_up]).run_once(caught_up, block_ms=0)
    refusing = Consumer("platformtest.behind", EVENTS, _refuse, max_attempts=1)
    await ConsumerRunner(redis, database, [refusing], batch=1).run_once(refusing, block_ms=0)
    await redis.xreadgroup("platformtest.behind", "stuck", {STREAM: ">"}, count=3)  # never acked
    await redis.xgroup_create(STREAM, "platformtest.new", id="0")
    await redis.xadd("events:platformtest:dead", {"group": "platformtest.caught_up", "id": "x"})


async def test_status_reports_length_pending_lag_and_dead_letters(database, redis, applied_table):
    await _scenario(database, redis)
    report = {status.stream: status for status in await stream_status(redis, ["events:accounts"])}
    assert report["events:accounts"].length == 0 and report["events:accounts"].groups == []
    status = report[STREAM]
    assert status.length == 7
    numbers = {group.name: (group.pending, group.lag, group.dead_lettered) for group in status.groups}
    assert numbers == {
        "platformtest.behind": (3, 3, 1),
        "platformtest.caught_up": (0, 0, 1),
        "platformtest.new": (0, 7, 0),
    }
    samples = {(name, labels.get("group", "")): value for name, labels, value in await gauges(redis)}
    assert samples[("domain_events_stream_length", "")] == 7
    assert samples[("domain_events_lag", "platformtest.behind")] == 3
    assert samples[("domain_events_pending", "platformtest.behind")] == 3
    assert samples[("domain_events_dead_lettered", "platformtest.caught_up")] == 1


async def test_the_cli_prints_the_same_numbers(database, redis, redis_server: EmbeddedRedis, applied_table):
    await _scenario(database, redis)
    command = ["events", "status", "--redis-url", redis_server.url]
    result = await asyncio.to_thread(CliRunner().invoke, app, command)  # the CLI runs its own loop
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"{STREAM}  length 7" in lines
    assert "  platformtest.behind  consumers 2  pending 3  lag 3  dead 1" in lines
    assert "  platformtest.caught_up  consumers 1  pending 0  lag 0  dead 1" in lines
    assert "  platformtest.new  consumers 0  pending 0  lag 7  dead 0" in lines
    assert "events:collaboration  length 0" in lines
