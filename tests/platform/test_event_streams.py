"""The stream hub: one reader per stream however many subscribers arrive at once, and
every entry delivered once, in order, to each."""

from __future__ import annotations

import asyncio

from shared.events import EventStreams, StreamHub
from shared.redis import create_redis


def _readers() -> int:
    return sum(1 for task in asyncio.all_tasks() if getattr(task.get_coro(), "__name__", "") == "_read")


async def test_subscribers_arriving_together_share_one_reader(redis_server):
    redis = create_redis(redis_server.url)
    streams = EventStreams(redis)
    hub = StreamHub(streams, block_ms=200)
    stream = "test:hub:together"
    await redis.delete(stream)
    first = await streams.append(stream, {"n": "0"})
    assert first is not None

    async def take(count: int) -> list[str]:
        got = []
        async for _, fields in hub.follow(stream, first):
            got.append(fields["n"])
            if len(got) == count:
                return got
        return got

    followers = [asyncio.create_task(take(3)) for _ in range(10)]
    await asyncio.sleep(0)  # let them all start attaching at once
    for n in (1, 2, 3):
        await streams.append(stream, {"n": str(n)})
    results = await asyncio.wait_for(asyncio.gather(*followers), timeout=10)
    assert results == [["1", "2", "3"]] * 10
    assert _readers() <= 1
    await hub.aclose()
    assert _readers() == 0
    await redis.aclose()
