"""What a tenant searches for: every first-page search counted per tenant and day in Redis
sorted sets (popular queries, and the queries that found nothing), kept 35 days. Counting is
one pipelined round trip and never fails a search."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEPT_DAYS = 35
MAX_QUERY_CHARS = 100
"""Longer queries are counted by their first characters (the sets stay small)."""


@dataclass(frozen=True)
class QueryCount:
    query: str
    count: int


@dataclass(frozen=True)
class Insights:
    days: int
    searches: int
    zero_result_searches: int
    popular: list[QueryCount]
    zero_result: list[QueryCount]


def normalised(query: str) -> str:
    return " ".join(query.lower().split())[:MAX_QUERY_CHARS]


def _key(tenant_id: str, day: date, kind: str) -> str:
    return f"search:insights:{tenant_id}:{day.isoformat()}:{kind}"


class SearchInsights:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(self, tenant_id: str, query: str, found: int) -> None:
        text = normalised(query)
        if not text:
            return
        today = datetime.now(UTC).date()
        kinds = ["queries"] + (["zero"] if found == 0 else [])
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for kind in kinds:
                    key = _key(tenant_id, today, kind)
                    pipe.zincrby(key, 1, text)
                    pipe.expire(key, timedelta(days=KEPT_DAYS))
                await pipe.execute()
        except RedisError:
            log.warning("search insights not recorded", exc_info=True)

    async def read(self, tenant_id: str, days: int, first: int) -> Insights:
        today = datetime.now(UTC).date()
        window = [today - timedelta(days=offset) for offset in range(days)]
        totals: dict[str, dict[str, float]] = {}
        for kind in ("queries", "zero"):
            counted: dict[str, float] = {}
            async with self._redis.pipeline(transaction=False) as pipe:
                for day in window:
                    pipe.zrange(_key(tenant_id, day, kind), 0, -1, withscores=True)
                for entries in await pipe.execute():
                    for member, score in entries:
                        text = member.decode() if isinstance(member, bytes) else str(member)
                        counted[text] = counted.get(text, 0.0) + score
            totals[kind] = counted
        return Insights(
            days=days,
            searches=int(sum(totals["queries"].values())),
            zero_result_searches=int(sum(totals["zero"].values())),
            popular=_top(totals["queries"], first),
            zero_result=_top(totals["zero"], first),
        )


def _top(counted: dict[str, float], first: int) -> list[QueryCount]:
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:first]
    return [QueryCount(query, int(count)) for query, count in ranked]
