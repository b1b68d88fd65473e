"""`spotify-agent events ...`: how the domain-event streams and their consumers are doing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated

import typer

from shared.domain_events import StreamStatus, stream_of, stream_status

events_app = typer.Typer(help="Domain events: streams, consumer groups, dead letters.", no_args_is_help=True)


def known_streams() -> list[str]:
    """A stream per producing subgraph, and every stream a declared consumer reads."""
    from gateway.subgraphs import SUBGRAPHS
    from gateway.worker import consumers

    streams = {stream_of(f"{name}.any") for name in SUBGRAPHS}
    for consumer in consumers():
        streams.update(consumer.streams)
    return sorted(streams)


async def collect(redis_url: str) -> list[StreamStatus]:
    from shared.redis import create_redis

    redis = create_redis(redis_url)
    try:
        return await stream_status(redis, known_streams())
    finally:
        await redis.aclose()


def render(report: list[StreamStatus]) -> list[str]:
    lines: list[str] = []
    for status in report:
        lines.append(f"{status.stream}  length {status.length}")
        if not status.groups:
            lines.append("  (no consumer groups)")
        for group in status.groups:
            lines.append(
                f"  {group.name}  consumers {group.consumers}  pending {group.pending}"
                f"  lag {group.lag}  dead {group.dead_lettered}"
            )
    return lines


@events_app.command("status")
def status(
    redis_url: Annotated[
        str | None, typer.Option(help="Default: REDIS_URL, else the Redis of a running `make dev`")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per stream its length; per consumer group its pending, lag and dead-lettered counts."""
    if redis_url is not None:
        report = asyncio.run(collect(redis_url))
    else:
        from gateway.cli import _settings, redis_for

        with redis_for(_settings()) as url:
            report = asyncio.run(collect(url))
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(item) for item in report]))
    else:
        for line in render(report):
            typer.echo(line)
