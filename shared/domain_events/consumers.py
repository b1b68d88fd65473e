"""Consumers of domain events: Redis Streams consumer groups, run by the worker.

At least once: an entry is acknowledged only after its handler's transaction committed, and
that transaction records (consumer, event id) in `event_processed`, so an event delivered
again (a crash between commit and ack, a reclaimed entry) is acknowledged and skipped.
A failed handler leaves the entry pending; it is retried with exponential backoff (the
failure count lives in Redis beside the group), and after `max_attempts` failures it goes to
the domain's dead-letter stream (`events:<domain>:dead`, with the group and the error) and is
acknowledged, so the events after it flow on. Entries of a consumer that died are claimed
by another after `claim_idle_ms`."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.domain_events.models import ProcessedEvent
from shared.domain_events.outbox import committed
from shared.domain_events.types import DomainEvent, dead_letter_stream, stream_of
from shared.events import REDIS_DOWN

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, DomainEvent], Awaitable[None]]
CONTEXT = "domain_events.context"


def consumer_context(session: AsyncSession) -> Mapping[str, Any]:
    """What the worker runs consumers with (its job context: `settings`, `subgraph_settings`),
    for a handler that needs more than the event; empty outside a worker."""
    context: Mapping[str, Any] = session.info.get(CONTEXT, {})
    return context


DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Consumer:
    """Declared by the consuming subgraph (`CONSUMERS = [...]` in its `tasks.py`).

    `name` is the consumer group (one per projection, e.g. `search.projects`); `events` are
    type names, or patterns such as `collaboration.project.*`; the streams follow from their
    domains. `handler(session, event)` runs in a transaction the runner commits. `start` is
    where a new group begins: `0` backfills from what the stream retains, `$` is from now."""

    name: str
    events: tuple[str, ...]
    handler: Handler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    start: str = "0"

    def __post_init__(self) -> None:
        if isinstance(self.events, str):
            raise TypeError("events is a sequence of type names or patterns")
        object.__setattr__(self, "events", tuple(self.events))
        if not self.events:
            raise ValueError(f"consumer {self.name} consumes no events")

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(sorted({stream_of(pattern) for pattern in self.events}))

    def wants(self, type_name: str) -> bool:
        return any(fnmatch.fnmatchcase(type_name, pattern) for pattern in self.events)


def failures_key(group: str) -> str:
    return f"events:failures:{group}"


class _AlreadyProcessed(Exception):
    pass


class ConsumerRunner:
    """Runs consumers against the platform's Redis and database. `run()` until cancelled
    (one task per consumer); `run_once()` does one bounded pass (tests, tools)."""

    def __init__(
        self,
        redis: Redis,
        db: Database,
        consumers: Sequence[Consumer],
        *,
        name: str | None = None,
        batch: int = 50,
        block_ms: int = 2_000,
        claim_idle_ms: int = 60_000,
        retry_base_ms: int = 1_000,
        retry_cap_ms: int = 5 * 60_000,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.context: Mapping[str, Any] = context or {}
        self.redis = redis
        self.db = db
        self.consumers = list(consumers)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.retry_base_ms = retry_base_ms
        self.retry_cap_ms = retry_cap_ms
        self._ready: set[str] = set()

    def backoff_ms(self, failures: int) -> int:
        return int(min(self.retry_cap_ms, self.retry_base_ms * 2 ** max(failures - 1, 0)))

    async def setup(self, consumer: Consumer) -> None:
        """Creates the group on each of its streams (and the stream if it is new)."""
        if consumer.name in self._ready:
            return
        for stream in consumer.streams:
            try:
                await self.redis.xgroup_create(stream, consumer.name, id=consumer.start, mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        self._ready.add(consumer.name)

    async def run_once(self, consumer: Consumer, *, block_ms: int | None = None) -> int:
        """Retries and reclaims what is due, then reads new entries (blocking up to
        `block_ms`). Returns how many entries it handled."""
        await self.setup(consumer)
        handled = 0
        for stream in consumer.streams:
            for entry_id, fields in await self._due(consumer, stream):
                await self._handle(consumer, stream, entry_id, fields)
                handled += 1
        block = self.block_ms if block_ms is None else block_ms
        response = await self.redis.xreadgroup(
            consumer.name,
            self.name,
            {stream: ">" for stream in consumer.streams},
            count=self.batch,
            block=block if block > 0 else None,
        )
        for stream, entries in response or []:
            for entry_id, fields in entries:
                await self._handle(consumer, _text(stream), _text(entry_id), fields)
                handled += 1
        return handled

    async def run(self) -> None:
        await asyncio.gather(*(self._run(consumer) for consumer in self.consumers))

    async def _run(self, consumer: Consumer) -> None:
        delay = 0.05
        while True:
            try:
                await self.run_once(consumer)
                delay = 0.05
            except REDIS_DOWN as error:
                log.warning(
                    "event consumer lost Redis, retrying",
                    extra={"consumer": consumer.name, "error": type(error).__name__},
                )
                self._ready.discard(consumer.name)  # a restarted Redis may have lost the group
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except ResponseError as error:
                if "NOGROUP" in str(error):  # the stream or group was deleted: create it again
                    self._ready.discard(consumer.name)
                    continue
                log.exception("event consumer pass failed", extra={"consumer": consumer.name})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                log.exception("event consumer pass failed", extra={"consumer": consumer.name})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _due(self, consumer: Consumer, stream: str) -> list[tuple[str, dict[str, Any]]]:
        """Pending entries to take now: failed ones whose backoff has passed, and those of
        consumers that went quiet for `claim_idle_ms`."""
        pending = await self.redis.xpending_range(stream, consumer.name, min="-", max="+", count=self.batch)
        if not pending:
            return []
        fields = [f"{stream}|{_text(item['message_id'])}" for item in pending]
        failures = await self.redis.hmget(failures_key(consumer.name), fields)  # type: ignore[misc]
        claimed: list[tuple[str, dict[str, Any]]] = []
        for item, failed in zip(pending, failures, strict=True):
            entry_id = _text(item["message_id"])
            idle = int(item["time_since_delivered"])
            wait = self.backoff_ms(int(failed)) if failed else self.claim_idle_ms
            if idle < wait:
                continue
            entries = await self.redis.xclaim(
                stream, consumer.name, self.name, min_idle_time=wait, message_ids=[entry_id]
            )
            for claimed_id, fields in entries:
                if claimed_id is None or fields is None:  # trimmed away while pending
                    await self._ack(consumer, stream, entry_id)
                else:
                    claimed.append((_text(claimed_id), fields))
        return claimed

    async def _apply(self, consumer: Consumer, event: DomainEvent) -> None:
        async with self.db.write() as session:
            if await session.get(ProcessedEvent, (consumer.name, event.id)) is not None:
                raise _AlreadyProcessed
            session.add(ProcessedEvent(consumer=consumer.name, event_id=event.id))
            try:
                await session.flush()  # a concurrent delivery elsewhere waits here, then fails
            except IntegrityError:
                raise _AlreadyProcessed from None
            session.info[CONTEXT] = self.context
            await consumer.handler(session, event)
        await committed(self.redis, self.db, session)

    async def _handle(self, consumer: Consumer, stream: str, entry_id: str, fields: dict[str, Any]) -> None:
        raw = {_text(key): _text(value) for key, value in fields.items()}
        try:
            event = DomainEvent.from_fields(raw)
        except (KeyError, ValueError) as error:
            await self._dead_letter(consumer, stream, entry_id, raw, error, attempts=1)
            return
        if consumer.wants(event.type):
            try:
                await self._apply(consumer, event)
            except _AlreadyProcessed:
                pass
            except Exception as error:
                key = failures_key(consumer.name)
                attempts = int(await self.redis.hincrby(key, f"{stream}|{entry_id}", 1))  # type: ignore[misc]
                log.warning(
                    "event handler failed",
                    extra={
                        "consumer": consumer.name,
                        "event_type": event.type,
                        "event_id": event.id,
                        "attempt": attempts,
                        "error": type(error).__name__,
                    },
                )
                if attempts >= consumer.max_attempts:
                    await self._dead_letter(consumer, stream, entry_id, raw, error, attempts=attempts)
                return
        await self._ack(consumer, stream, entry_id)

    async def _ack(self, consumer: Consumer, stream: str, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, consumer.name, entry_id)
            pipe.hdel(failures_key(consumer.name), f"{stream}|{entry_id}")
            await pipe.execute()

    async def _dead_letter(
        self,
        consumer: Consumer,
        stream: str,
        entry_id: str,
        fields: dict[str, str],
        error: BaseException,
        *,
        attempts: int,
    ) -> None:
        dead = {
            **fields,
            "group": consumer.name,
            "source_stream": stream,
            "source_id": entry_id,
            "attempts": str(attempts),
            "error": f"{type(error).__name__}: {error}"[:500],
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(dead_letter_stream(stream), dead, maxlen=10_000, approximate=True)  # type: ignore[arg-type]
            pipe.xack(stream, consumer.name, entry_id)
            pipe.hdel(failures_key(consumer.name), f"{stream}|{entry_id}")
            await pipe.execute()
        log.error(
            "event dead-lettered",
            extra={"consumer": consumer.name, "stream": stream, "entry": entry_id, "attempts": attempts},
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def consumers_by_name(consumers: Iterable[Consumer]) -> dict[str, Consumer]:
    found: dict[str, Consumer] = {}
    for consumer in consumers:
        if consumer.name in found:
            raise ValueError(f"two consumers are named {consumer.name}")
        found[consumer.name] = consumer
    return found
