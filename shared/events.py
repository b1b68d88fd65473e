"""Events on Redis Streams: append once, read from any id, follow live.

The stream id is the event id a client resumes from. Redis is the only shared state: each
process runs one reader per stream it has subscribers for (a `StreamHub`) and fans entries
out to them; a subscriber first catches up with XRANGE from its own cursor, so nothing that
is still retained is missed whichever replica it lands on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.errors import ResyncRequired

log = logging.getLogger(__name__)

EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
Entry = tuple[str, dict[str, str]]
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

# Appends only if the marker key is new: an event re-sent by the repair job after a
# half-finished append is not added twice.
_APPEND_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
end
return false
"""


class PositionLost(Exception):
    """The client's position is older than what the stream retains (or the stream was lost)."""


class SubscriberTooSlow(Exception):
    pass


def parse_id(event_id: str) -> tuple[int, int]:
    milliseconds, sequence = event_id.split("-")
    return int(milliseconds), int(sequence)


def is_event_id(value: str) -> bool:
    return bool(EVENT_ID.match(value))


class EventStreams:
    def __init__(
        self, redis: Redis, *, maxlen: int = 10_000, dedupe_ttl_seconds: int = 7 * 24 * 3600
    ) -> None:
        self.redis = redis
        self.maxlen = maxlen
        self.dedupe_ttl_seconds = dedupe_ttl_seconds
        self._append_once = redis.register_script(_APPEND_ONCE)

    async def append(self, stream: str, fields: dict[str, str], *, once_key: str | None = None) -> str | None:
        """XADD with an approximate MAXLEN. With `once_key`, at most once per key: None
        when it was appended before."""
        if once_key is None:
            return _text(await self.redis.xadd(stream, fields, maxlen=self.maxlen, approximate=True))  # type: ignore[arg-type]
        flat = [item for pair in fields.items() for item in pair]
        added = await self._append_once(
            keys=[stream, once_key], args=[self.maxlen, self.dedupe_ttl_seconds, *flat]
        )
        return _text(added) if added else None

    async def first_id(self, stream: str) -> str | None:
        first = await self.redis.xrange(stream, count=1)
        return _text(first[0][0]) if first else None

    async def last_id(self, stream: str) -> str | None:
        last = await self.redis.xrevrange(stream, count=1)
        return _text(last[0][0]) if last else None

    async def check_position(self, stream: str, after: str) -> None:
        """A cursor older than the first retained entry may have missed trimmed ones."""
        first = await self.first_id(stream)
        if first is None or parse_id(after) < parse_id(first):
            raise PositionLost(f"events after {after} are no longer retained")

    async def range_after(self, stream: str, after: str, count: int = 500) -> list[Entry]:
        entries = await self.redis.xrange(stream, min=f"({after}", count=count)
        return [(_text(entry_id), _fields(fields)) for entry_id, fields in entries]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(fields: dict[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in fields.items()}


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[Entry | Exception] = field(default_factory=lambda: asyncio.Queue(maxsize=2_000))


class StreamHub:
    """One XREAD loop per stream per process, fanned out to local subscribers."""

    def __init__(self, streams: EventStreams, *, block_ms: int = 5_000) -> None:
        self.streams = streams
        self.block_ms = block_ms
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._starting = asyncio.Lock()  # subscribers arriving together share one reader

    async def _attach(self, stream: str) -> _Subscriber:
        subscriber = _Subscriber()
        self._subscribers.setdefault(stream, set()).add(subscriber)
        async with self._starting:
            if stream not in self._readers or self._readers[stream].done():
                start = await self.streams.last_id(stream) or "0-0"
                self._readers[stream] = asyncio.create_task(self._read(stream, start))
        return subscriber

    def _detach(self, stream: str, subscriber: _Subscriber) -> None:
        subscribers = self._subscribers.get(stream, set())
        subscribers.discard(subscriber)
        if not subscribers:
            self._subscribers.pop(stream, None)
            reader = self._readers.pop(stream, None)
            if reader is not None:
                reader.cancel()

    def _deliver(self, stream: str, item: Entry | Exception) -> None:
        for subscriber in list(self._subscribers.get(stream, ())):
            try:
                subscriber.queue.put_nowait(item)
            except asyncio.QueueFull:
                self._subscribers[stream].discard(subscriber)
                with contextlib.suppress(asyncio.QueueFull):
                    subscriber.queue.get_nowait()
                    subscriber.queue.put_nowait(SubscriberTooSlow())

    async def _read(self, stream: str, last: str) -> None:
        delay = 0.05
        redis = self.streams.redis
        while self._subscribers.get(stream):
            try:
                response = await redis.xread({stream: last}, block=self.block_ms, count=500)
                delay = 0.05
                for _, entries in response or []:
                    for entry_id, fields in entries:
                        last = _text(entry_id)
                        self._deliver(stream, (last, _fields(fields)))
                if not response:
                    newest = await self.streams.last_id(stream)
                    if newest is not None and parse_id(newest) < parse_id(last):
                        # Redis came back without the stream's history: positions are void.
                        self._deliver(stream, PositionLost("the event stream was reset"))
                        last = newest
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as error:
                log.warning(
                    "event stream read failed, retrying",
                    extra={"stream": stream, "error": type(error).__name__},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def follow(self, stream: str, after: str | None) -> AsyncIterator[Entry]:
        """Entries after `after` (None: from now on), then live ones, in order, once each.
        Survives a Redis restart (reconnects and resumes from its own cursor). A position
        older than what the stream retains ends it with RESYNC_REQUIRED (reload, resubscribe)."""
        cursor = after
        delay = 0.05
        while True:
            subscriber = await self._attach(stream)
            try:
                if cursor is None:
                    cursor = await self.streams.last_id(stream) or "0-0"
                else:
                    if cursor != "0-0":
                        await self.streams.check_position(stream, cursor)
                    while True:
                        batch = await self.streams.range_after(stream, cursor)
                        for entry in batch:
                            cursor = entry[0]
                            yield entry
                        if len(batch) < 500:
                            break
                while True:
                    item = await subscriber.queue.get()
                    if isinstance(item, SubscriberTooSlow):
                        break  # re-attach and catch up from the cursor with XRANGE
                    if isinstance(item, Exception):
                        raise item
                    if parse_id(item[0]) > parse_id(cursor):
                        cursor = item[0]
                        yield item
                delay = 0.05
            except REDIS_DOWN:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            except PositionLost as error:
                raise ResyncRequired(str(error)) from error
            finally:
                self._detach(stream, subscriber)

    async def aclose(self) -> None:
        for reader in self._readers.values():
            reader.cancel()
        for reader in self._readers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        self._readers.clear()
        self._subscribers.clear()
