"""Read-through Redis cache of raw Web API objects: one MGET per batch, only the misses
go upstream (in chunks of the API's limit), and what came back is stored with a TTL in
one pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import orjson
from redis.asyncio import Redis

from shared.metrics import count_cache
from subgraphs.spotify.catalogue import SpotifyObject

DEFAULT_TTL_SECONDS = 6 * 3600
# Unknown ids are cached briefly too, so a bad id does not hit Spotify on every request.
MISSING = "__missing__"
MISSING_TTL_SECONDS = 300
MISSING_BYTES = MISSING.encode()

T = TypeVar("T")
Fetch = Callable[[list[str]], Awaitable[list[SpotifyObject | None]]]


class ObjectCache:
    """Give it a client with `decode_responses=False`: orjson parses the bytes directly."""

    def __init__(self, redis: Redis, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    async def aclose(self) -> None:
        await self.redis.aclose()

    @staticmethod
    def key(kind: str, id: str) -> str:
        return f"spotify:{kind}:{id}"

    async def read_through(
        self,
        kind: str,
        ids: Sequence[str],
        fetch: Fetch,
        build: Callable[[SpotifyObject], T],
        fetch_size: int,
    ) -> list[T | Exception | None]:
        """`build` turns each raw object into what callers keep as soon as it is parsed, so
        the raw dicts die young. An id whose upstream call failed gets that call's error."""
        if not ids:
            return []
        cached = await self.redis.mget([self.key(kind, id) for id in ids])
        found: dict[str, T | Exception | None] = {}
        misses: list[str] = []
        for id, raw in zip(ids, cached, strict=True):
            if raw is None:
                misses.append(id)
            else:
                found[id] = None if raw in (MISSING, MISSING_BYTES) else build(orjson.loads(raw))
        count_cache(f"spotify:{kind}", len(ids) - len(misses), len(misses))
        if misses:
            found.update(await self._fetch_and_store(kind, misses, fetch, build, fetch_size))
        return [found[id] for id in ids]

    async def _fetch_and_store(
        self,
        kind: str,
        ids: list[str],
        fetch: Fetch,
        build: Callable[[SpotifyObject], T],
        fetch_size: int,
    ) -> dict[str, T | Exception | None]:
        """One upstream call per `fetch_size` ids, concurrently; a failed call fails only its ids."""
        chunks = [ids[start : start + fetch_size] for start in range(0, len(ids), fetch_size)]
        results = await asyncio.gather(*(fetch(chunk) for chunk in chunks), return_exceptions=True)
        found: dict[str, T | Exception | None] = {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for chunk, items in zip(chunks, results, strict=True):
                if isinstance(items, Exception):
                    found.update(dict.fromkeys(chunk, items))
                    continue
                if isinstance(items, BaseException):
                    raise items
                for id, item in zip(chunk, items, strict=True):
                    if item is None:
                        found[id] = None
                        pipe.set(self.key(kind, id), MISSING, ex=MISSING_TTL_SECONDS)
                    else:
                        found[id] = build(item)
                        pipe.set(self.key(kind, id), orjson.dumps(item), ex=self.ttl)
            await pipe.execute()
        return found
