"""The worker collects the consumers every subgraph declares and runs them beside its jobs."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest

from gateway import worker as worker_module
from shared.domain_events import Consumer
from tests.support.domain_events import applied_counts, applier, produce


def _declared(*consumers: Consumer) -> Any:
    """A subgraph declaration with consumers only."""
    return SimpleNamespace(
        name="platformtest", jobs=(), cron=(), consumers=consumers, loops=(), settings=lambda: None
    )


def test_consumers_are_collected_from_every_declaration_and_named_once(monkeypatch):
    one = Consumer("platformtest.one", ("platformtest.thing.changed",), applier("one"))
    two = Consumer("platformtest.two", ("platformtest.*",), applier("two"))
    monkeypatch.setattr(worker_module, "declarations", lambda: [_declared(one), _declared(two)])
    assert worker_module.consumers() == [one, two]
    monkeypatch.setattr(worker_module, "declarations", lambda: [_declared(one), _declared(one)])
    with pytest.raises(RuntimeError, match="declared twice"):
        worker_module.consumers()


async def test_the_worker_runs_the_declared_consumers(
    monkeypatch, settings, database, redis, redis_server, applied_table
):
    consumer = Consumer(
        "platformtest.in_worker", ("platformtest.thing.changed",), applier("platformtest.in_worker")
    )
    real = worker_module.declarations
    monkeypatch.setattr(worker_module, "declarations", lambda: [*real(), _declared(consumer)])
    events = await produce(database, redis, 3)
    worker = worker_module.create_worker(settings, redis_server.url, poll_delay=0.05)
    running = asyncio.create_task(worker.async_run())
    try:
        deadline = time.monotonic() + 30
        while await applied_counts(database, consumer.name) != {event.id: 1 for event in events}:
            assert not running.done(), running
            assert time.monotonic() < deadline, "the worker's consumer did not apply the events"
            await asyncio.sleep(0.05)
        # Let the jobs arq started with the worker (the outbox repair cron runs at start-up)
        # finish: closing a worker cancels its running jobs, and arq's close re-raises that.
        while any(not task.done() for task in worker.tasks.values()):
            assert time.monotonic() < deadline, "the worker's start-up jobs did not finish"
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
    assert (await redis.xpending("events:platformtest", consumer.name))["pending"] == 0
