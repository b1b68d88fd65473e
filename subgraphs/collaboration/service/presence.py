"""Who is in a workspace and what they are looking at, in Redis only: a sorted set of user
ids scored by when their entry expires, and what each views. A client that vanishes stops
sending heartbeats and its entry expires; the sweep announces it as gone."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis.asyncio import Redis

TTL_SECONDS = 30
ACTIVE_WORKSPACES = "collab:presence:workspaces"


def _entries_key(workspace_id: str) -> str:
    return f"collab:presence:{workspace_id}"


def _viewing_key(workspace_id: str) -> str:
    return f"collab:presence-viewing:{workspace_id}"


@dataclass(frozen=True)
class PresenceEntry:
    user_id: str
    viewing: str | None
    expires_at: float


async def touch(redis: Redis, workspace_id: str, user_id: str, viewing: str | None) -> bool:
    """Join or heartbeat. True when this changes what others see (new, or viewing moved)."""
    entries, views = _entries_key(workspace_id), _viewing_key(workspace_id)
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zscore(entries, user_id)
        pipe.hget(views, user_id)
        pipe.zadd(entries, {user_id: now + TTL_SECONDS})
        pipe.hset(views, user_id, json.dumps(viewing))
        pipe.sadd(ACTIVE_WORKSPACES, workspace_id)
        score, previous, *_ = await pipe.execute()
    was_present = score is not None and float(score) > now
    return not was_present or previous is None or json.loads(previous) != viewing


async def leave(redis: Redis, workspace_id: str, user_id: str) -> bool:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(_entries_key(workspace_id), user_id)
        pipe.hdel(_viewing_key(workspace_id), user_id)
        removed, _ = await pipe.execute()
    return bool(removed)


async def present(redis: Redis, workspace_id: str) -> list[PresenceEntry]:
    now = time.time()
    entries = await redis.zrangebyscore(_entries_key(workspace_id), now, "+inf", withscores=True)
    if not entries:
        return []
    users = [user.decode() if isinstance(user, bytes) else str(user) for user, _ in entries]
    viewing = await redis.hmget(_viewing_key(workspace_id), users)  # type: ignore[misc]
    return [
        PresenceEntry(user, json.loads(view) if view else None, float(score))
        for user, (_, score), view in zip(users, entries, viewing, strict=True)
    ]


async def sweep(redis: Redis, workspace_id: str) -> list[str]:
    """Removes expired entries; returns the users who were removed (gone without leaving)."""
    entries = _entries_key(workspace_id)
    expired = await redis.zrangebyscore(entries, "-inf", time.time())
    gone = []
    for user in expired:
        if await redis.zrem(entries, user):  # another sweeper may have taken it
            name = user.decode() if isinstance(user, bytes) else str(user)
            await redis.hdel(_viewing_key(workspace_id), name)  # type: ignore[misc]
            gone.append(name)
    if not await redis.zcard(entries):
        await redis.srem(ACTIVE_WORKSPACES, workspace_id)  # type: ignore[misc]
    return gone


async def active_workspaces(redis: Redis) -> list[str]:
    return [w.decode() if isinstance(w, bytes) else str(w) for w in await redis.smembers(ACTIVE_WORKSPACES)]  # type: ignore[misc]
