"""The per-user live account stream, on Redis: `publish` (a revoked session, a changed
consent) and `account_events`, behind the `accountEvents` subscription. Not `domain_events`:
those are what other subgraphs learn of accounts, through the outbox."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from shared.errors import Unauthenticated

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


HEARTBEAT = "HEARTBEAT"
SESSION_REVOKED = "SESSION_REVOKED"


async def account_events(context: Any, after: str | None) -> AsyncIterator[tuple[str, str, str | None]]:
    """The signed-in user's account events as (event id, kind, session id), with a heartbeat
    after each quiet interval; ends after their own session is revoked."""
    principal = context.principal
    if not principal.user_id:
        raise Unauthenticated("Authentication required")
    block_ms = max(int(context.runtime.services.heartbeat_seconds * 1000), 10)
    async for item in follow(context.runtime.redis, principal.user_id, after or "$", block_ms=block_ms):
        if item is None:
            yield f"{int(time.time() * 1000)}-hb", HEARTBEAT, None
            continue
        event_id, kind, data = item
        session_id = str(data["sessionId"]) if data.get("sessionId") else None
        yield str(event_id), kind, session_id
        if kind == SESSION_REVOKED and session_id == principal.session_id:
            return
