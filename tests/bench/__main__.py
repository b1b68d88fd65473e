"""`make bench`: prints figures and ratios; never asserts on time."""

from __future__ import annotations

import asyncio

from tests.bench import (
    bench_collaboration,
    bench_field_authorization,
    bench_registry,
    bench_router_usage,
    bench_spotify_lists,
    bench_subgraph_overhead,
)


def main() -> None:
    print("== field-level Casbin on a 1,000-row list ==", flush=True)
    asyncio.run(bench_field_authorization.run())
    print("\n== subgraph CPU per request: full platform stack vs bare Strawberry ==", flush=True)
    asyncio.run(bench_subgraph_overhead.run())
    print("\n== spotify subgraph: big lists ==", flush=True)
    asyncio.run(bench_spotify_lists.run())
    print("\n== collaboration: live fan-out through the router, edits per second ==", flush=True)
    asyncio.run(bench_collaboration.run())
    print("\n== schema registry: check latency ==", flush=True)
    asyncio.run(bench_registry.run())
    print("\n== router throughput with and without the usage-reporting plugin ==", flush=True)
    asyncio.run(bench_router_usage.run())


main()
