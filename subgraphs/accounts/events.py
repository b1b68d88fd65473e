"""Per-user account events on a Redis stream (session revoked, consent changed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

MAXLEN = 1000


def stream_key(user_id: str) -> str:
    return f"accounts:events:{user_id}"


async def publish(redis: Redis, user_id: str, kind: str, **data: Any) -> str:
    fields = {"kind": kind, "data": json.dumps(data)}
    return str(await redis.xadd(stream_key(user_id), fields, maxlen=MAXLEN, approximate=True))  # type: ignore[arg-type]


async def follow(
    redis: Redis, user_id: str, after: str = "$", block_ms: int = 5000
) -> AsyncIterator[tuple[str, str, dict[str, Any]] | None]:
    """Yields (event id, kind, data) as they arrive, or None after each idle block."""
    key = stream_key(user_id)
    last = after
    if after == "$":
        # Pin "now" to a concrete id so nothing slips between two blocking reads.
        newest = await redis.xrevrange(key, count=1)
        last = newest[0][0] if newest else "0-0"
    while True:
        response = await redis.xread({key: last}, block=block_ms, count=100)
        if not response:
            yield None
            continue
        for _, entries in response:
            for event_id, fields in entries:
                last = event_id
                yield event_id, fields["kind"], json.loads(fields.get("data") or "{}")
