"""Read-through Redis cache of raw Web API objects: one MGET per batch, only the misses
go upstream, and what came back is stored with a TTL in one pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson
from redis.asyncio import Redis

from subgraphs.spotify.catalog import SpotifyObject

DEFAULT_TTL_SECONDS = 6 * 3600
# Unknown ids are cached briefly too, so a bad id does not hit Spotify on every request.
MISSING = "__missing__"
MISSING_TTL_SECONDS = 300
MISSING_BYTES = MISSING.encode()


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
        fetch: Callable[[list[str]], Awaitable[list[SpotifyObject | None]]],
    ) -> list[SpotifyObject | None]:
        if not ids:
            return []
        cached = await self.redis.mget([self.key(kind, id) for id in ids])
        found: dict[str, SpotifyObject | None] = {}
        misses: list[str] = []
        for id, raw in zip(ids, cached, strict=True):
            if raw is None:
                misses.append(id)
            else:
                found[id] = None if raw in (MISSING, MISSING_BYTES) else orjson.loads(raw)
        if misses:
            fetched = await fetch(misses)
            async with self.redis.pipeline(transaction=False) as pipe:
                for id, item in zip(misses, fetched, strict=True):
                    found[id] = item
                    if item is None:
                        pipe.set(self.key(kind, id), MISSING, ex=MISSING_TTL_SECONDS)
                    else:
                        pipe.set(self.key(kind, id), orjson.dumps(item), ex=self.ttl)
                await pipe.execute()
        return [found[id] for id in ids]
