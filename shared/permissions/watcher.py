"""Every process reloads tenant policies when any process changes them (Redis pub/sub)."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.permissions.enforcer import PolicyEngine

CHANNEL = "casbin:policy-changed"
log = logging.getLogger("shared.permissions")


async def announce_policy_change(redis: Redis) -> None:
    await redis.publish(CHANNEL, "changed")


async def watch_policies(engine: PolicyEngine, redis: Redis, database: AsyncEngine) -> None:
    """Runs until cancelled; reconnects when Redis goes away."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await engine.load_tenant_policies(database)
                        log.info("tenant policies reloaded", extra={"revision": engine.revision})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis restarts must not kill the watcher
            log.warning("policy watcher reconnecting", extra={"error": type(exc).__name__})
            await asyncio.sleep(1)
