"""`make bench`: prints figures and ratios; never asserts on time."""

from __future__ import annotations

import asyncio

from tests.bench import (
    bench_ai,
    bench_analytics,
    bench_collaboration,
    bench_field_authorization,
    bench_notifications,
    bench_registry,
    bench_request_path,
    bench_router_usage,
    bench_search,
    bench_spotify_lists,
)


def main() -> None:
    print("== the request path end to end (router, subgraphs, database) ==", flush=True)
    asyncio.run(bench_request_path.run())
    print()
    print("== field-level Casbin on a 1,000-row list ==", flush=True)
    asyncio.run(bench_field_authorization.run())
    print("\n== spotify subgraph: big lists ==", flush=True)
    asyncio.run(bench_spotify_lists.run())
    print("\n== collaboration: live fan-out through the router, edits per second ==", flush=True)
    asyncio.run(bench_collaboration.run())
    print("\n== schema registry: check latency ==", flush=True)
    asyncio.run(bench_registry.run())
    print("\n== router throughput with and without the usage-reporting plugin ==", flush=True)
    asyncio.run(bench_router_usage.run())
    print("\n== search subgraph: 100k-track index, latency per mode, relevance ==", flush=True)
    asyncio.run(bench_search.run())
    print("\n== ai subgraph: recommender evaluation and recommendations latency ==", flush=True)
    asyncio.run(bench_ai.run())
    print("\n== analytics subgraph: rollups at scale, artistAnalytics latency, forecasts ==", flush=True)
    asyncio.run(bench_analytics.run())
    print("\n== notifications: one event fanned out to 1,000 followers, in-app and e-mail ==", flush=True)
    asyncio.run(bench_notifications.run())


main()
