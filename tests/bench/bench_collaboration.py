"""The collaboration subgraph under load.

Fan-out: one `updateProject` through the router, delivered to N WebSocket subscribers of
`workspaceEvents` connected to the router; latency from sending the mutation to each
arrival (perf_counter, one clock), events lost, memory per subscriber in the subgraph host
and in the router. Edits: `updateProject` per second on SQLite and PostgreSQL, straight to
the subgraph host. Subgraph host, router, Redis and PostgreSQL each run in their own process."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.redis import create_redis
from tests.bench.collab_platform import (
    ProcessGauge,
    embedded_redis,
    migrated_sqlite,
    platform_settings,
    postgres_database,
    router,
    subgraph_host,
)
from tests.bench.collab_team import (
    Api,
    ApiError,
    Team,
    announce_presence,
    create_project,
    make_team,
    update_project,
)
from tests.bench.ws_fanout import Deliveries, Subscriber, close_subscribers, open_subscribers

TIERS = (100, 500, 1000)
ROUNDS = 5
# The router multiplexes all subscriptions of one token over one upstream socket: 12 members
# (a team, several devices each) make 12 upstream sockets of ~84 operations at N=1000.
MEMBERS = 12
P99_TARGET_MS = 250
DELIVERY_TIMEOUT_S = 15.0
EDIT_SECONDS = 3.0
EDITORS = 8


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    raise_open_file_limit(4 * max(TIERS) + 1024)  # the router inherits it
    directory = Path(tempfile.mkdtemp(prefix="bench-collab-"))
    try:
        async with embedded_redis(directory) as redis:
            await fan_out(directory / "fan-out", redis.url)
            await edits_per_second(directory, redis.url)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def raise_open_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the value below which q % of the samples lie."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# --- fan-out through the router ---------------------------------------------------------------


@dataclass
class FanOut:
    api: Api
    team: Team
    project_id: str
    ws_url: str
    version: int = 1
    deliveries: Deliveries = field(default_factory=Deliveries)
    subscribers: list[Subscriber] = field(default_factory=list)
    next_number: int = 0
    probes: int = 0


@dataclass(frozen=True)
class Gauges:
    subgraph: ProcessGauge
    router: ProcessGauge
    client: ProcessGauge
    subgraph_port: int
    redis_url: str

    def rss(self) -> tuple[int, int]:
        return self.subgraph.rss_bytes(), self.router.rss_bytes()

    def cpu(self) -> tuple[float, float, float]:
        return self.subgraph.cpu_seconds(), self.router.cpu_seconds(), self.client.cpu_seconds()

    def upstream_connections(self) -> int:
        return self.subgraph.connections_on(self.subgraph_port)

    async def stream_readers(self) -> int:
        """Connections blocked in XREAD now: StreamHub's design is one per stream per process.
        (`cmd` is a connection's last command, so an idle pooled one may show xread too.)"""
        redis = create_redis(self.redis_url)
        try:
            return sum(
                1
                for client in await redis.client_list()
                if client.get("cmd") == "xread" and "b" in client.get("flags", "")
            )
        finally:
            await redis.aclose()


@dataclass(frozen=True)
class Round:
    latencies: list[float]
    lost: int
    answered: float
    """Seconds until the mutation's own answer came back."""


@dataclass(frozen=True)
class Tier:
    size: int
    rounds: list[Round]
    rss_growth: tuple[int, int]
    """Bytes the subgraph host and the router grew by since 0 subscribers."""
    cpu_ms: list[float]
    """CPU per event of the subgraph host, the router and this process."""
    connect_seconds: float
    upstream_connections: int
    stream_readers: int


async def fan_out(directory: Path, redis_url: str) -> None:
    settings = platform_settings(directory, await migrated_sqlite(directory))
    async with (
        subgraph_host(settings, redis_url) as host,
        router(settings) as gateway,
        httpx.AsyncClient(base_url=gateway.url, timeout=60) as client,
    ):
        assert gateway.process is not None
        api = Api(client)
        team = await make_team(api, MEMBERS, "VIEWER")
        project_id = await create_project(api, team, team.owner)
        bench = FanOut(api, team, project_id, gateway.url.replace("http", "ws") + "/graphql")
        gauges = Gauges(
            ProcessGauge(host.pid),
            ProcessGauge(gateway.process.pid),
            ProcessGauge(os.getpid()),
            settings.subgraph_port,
            redis_url,
        )
        print(
            f"{MEMBERS} workspace members, subscribers take their tokens round-robin; {ROUNDS} "
            "mutations per N, sent by the owner through the router; subscribers stay open from one N to the next",
            flush=True,
        )
        try:
            await warm_up(bench)
            baseline = gauges.rss()
            for size in TIERS:
                print_tier(await measure_tier(bench, gauges, baseline, size), bench.deliveries)
        finally:
            await close_subscribers(bench.subscribers)


async def warm_up(bench: FanOut) -> None:
    """A few subscribers through one round, so that first-use costs are not charged to N."""
    await grow_to(bench, 10)
    await fan_out_round(bench)
    await close_subscribers(bench.subscribers)
    bench.subscribers.clear()
    await asyncio.sleep(1)


async def grow_to(bench: FanOut, count: int) -> None:
    """Opens subscribers until there are `count`, and waits until every new one is live."""
    numbers = range(bench.next_number, bench.next_number + count - len(bench.subscribers))
    bench.next_number = numbers.stop
    already = len(bench.subscribers)
    await open_subscribers(
        numbers,
        bench.ws_url,
        bench.team.members,
        bench.team.workspace_id,
        bench.deliveries,
        bench.subscribers,
    )
    await confirm_live(bench, {s.number for s in bench.subscribers[already:]})


async def confirm_live(bench: FanOut, waiting: set[int], timeout: float = 120) -> None:
    """A subscription without `after` starts at "now" once the subgraph attached it: announce
    presence until every waiting subscriber has seen an announcement."""
    deadline = time.perf_counter() + timeout
    while waiting:
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"{len(waiting)} subscriptions never became live: {bench.deliveries.failures[:3]}"
            )
        bench.probes += 1
        seen = f"presence:probe-{bench.probes}"
        await announce_presence(bench.api, bench.team, f"probe-{bench.probes}")
        await bench.deliveries.wait_for_all(seen, waiting, timeout=1)
        waiting -= bench.deliveries.received(seen).keys()


async def fan_out_round(bench: FanOut) -> Round:
    expected = {s.number for s in bench.subscribers}
    sent = time.perf_counter()
    bench.version = await update_project(bench.api, bench.team.owner, bench.project_id, bench.version)
    answered = time.perf_counter() - sent
    event = f"version:{bench.version}"
    await bench.deliveries.wait_for_all(event, expected, DELIVERY_TIMEOUT_S)
    arrivals = bench.deliveries.received(event)
    latencies = [arrivals[number] - sent for number in expected if number in arrivals]
    return Round(latencies, len(expected - arrivals.keys()), answered)


async def measure_tier(bench: FanOut, gauges: Gauges, baseline: tuple[int, int], size: int) -> Tier:
    started = time.perf_counter()
    await grow_to(bench, size)
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1)  # let the router's and the host's allocations settle before reading RSS
    rss = gauges.rss()
    cpu_before = gauges.cpu()
    rounds = []
    for _ in range(ROUNDS):
        rounds.append(await fan_out_round(bench))
        await asyncio.sleep(0.25)
    cpu_ms = [
        (after - before) / ROUNDS * 1000 for before, after in zip(cpu_before, gauges.cpu(), strict=True)
    ]
    return Tier(
        size,
        rounds,
        (rss[0] - baseline[0], rss[1] - baseline[1]),
        cpu_ms,
        connect_seconds,
        gauges.upstream_connections(),
        await gauges.stream_readers(),
    )


def print_tier(tier: Tier, deliveries: Deliveries) -> None:
    latencies = [latency * 1000 for r in tier.rounds for latency in r.latencies] or [math.inf]
    p99 = percentile(latencies, 99)
    answered = statistics.median(r.answered for r in tier.rounds) * 1000
    print(
        f"N={tier.size:>4}: p50 {percentile(latencies, 50):.0f} ms, p99 {p99:.0f} ms "
        f"(target <= {P99_TARGET_MS} ms{'' if p99 <= P99_TARGET_MS else ', MISSED'}), max {max(latencies):.0f} ms; "
        f"lost {sum(r.lost for r in tier.rounds)} of {tier.size * ROUNDS} (target 0), "
        f"duplicates so far {deliveries.duplicates}; the mutation's own answer {answered:.0f} ms (median)",
        flush=True,
    )
    subgraph_growth, router_growth = tier.rss_growth
    print(
        f"        RSS growth since 0 subscribers: subgraph host {subgraph_growth / 2**20:.1f} MiB "
        f"= {subgraph_growth / tier.size / 1024:.1f} KiB per subscriber, router {router_growth / 2**20:.1f} MiB "
        f"= {router_growth / tier.size / 1024:.1f} KiB per subscriber (V8 heap: noisy at small N)",
        flush=True,
    )
    subgraph_cpu, router_cpu, client_cpu = tier.cpu_ms
    print(
        f"        CPU per event: subgraph host {subgraph_cpu:.0f} ms, router {router_cpu:.0f} ms, "
        f"bench client {client_cpu:.0f} ms; {tier.connect_seconds:.1f} s to connect and go live; "
        f"TCP connections into the subgraph host {tier.upstream_connections}; StreamHub readers "
        f"blocked in XREAD {tier.stream_readers} (design: 1); failures so far {deliveries.failures[:3]}",
        flush=True,
    )


# --- edits per second -------------------------------------------------------------------------


@dataclass
class EditTally:
    commits: int = 0
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds per committed edit."""
    wall: float = 0.0
    host_cpu: float = 0.0
    """CPU seconds the subgraph host spent meanwhile."""


@dataclass
class Editing:
    api: Api
    versions: dict[str, int]
    """The last version seen of every project."""


async def edits_per_second(directory: Path, redis_url: str) -> None:
    print(
        f"\nupdateProject straight to the subgraph host (no router), {EDIT_SECONDS:.0f} s per line; "
        "each edit replaces the description (constant content size)",
        flush=True,
    )
    sqlite_directory = directory / "sqlite"
    await measure_edits("SQLite", sqlite_directory, await migrated_sqlite(sqlite_directory), redis_url)
    async with postgres_database() as postgres_url:
        await measure_edits("PostgreSQL 15", directory / "postgres", postgres_url, redis_url)


async def measure_edits(label: str, directory: Path, database_url: str, redis_url: str) -> None:
    settings = platform_settings(directory, database_url)
    async with (
        subgraph_host(settings, redis_url) as host,
        httpx.AsyncClient(base_url=host.url, timeout=60) as client,
    ):
        api = Api(client, "/accounts/graphql", "/collaboration/graphql")
        team = await make_team(api, EDITORS, "EDITOR")
        own = [await create_project(api, team, token) for token in team.members]
        shared = await create_project(api, team, team.owner)
        editing = Editing(api, dict.fromkeys([*own, shared], 1))
        await edit_for(editing, [(team.owner, own[0])], seconds=1)  # warm-up
        host_gauge = ProcessGauge(host.pid)
        for description, editors in edit_modes(team, own, shared).items():
            cpu_before = host_gauge.cpu_seconds()
            tally = await edit_for(editing, editors, EDIT_SECONDS)
            tally.host_cpu = host_gauge.cpu_seconds() - cpu_before
            print_edits(label, description, tally)


def edit_modes(team: Team, own: list[str], shared: str) -> dict[str, list[tuple[str, str]]]:
    """Description -> the (token, project) pairs that edit at the same time."""
    return {
        "sequential, 1 client": [(team.owner, own[0])],
        f"{EDITORS} concurrent clients, each on its own project (commit throughput, no conflicts)": list(
            zip(team.members, own, strict=True)
        ),
        f"{EDITORS} concurrent clients on one project, each retrying with currentVersion on CONFLICT "
        "(contention)": [(token, shared) for token in team.members],
    }


async def edit_for(editing: Editing, editors: list[tuple[str, str]], seconds: float) -> EditTally:
    """Each (token, project) edits in a loop until time is up."""
    tally = EditTally()
    started = time.perf_counter()
    await asyncio.gather(
        *(edit_loop(editing, token, project, started + seconds, tally) for token, project in editors)
    )
    tally.wall = time.perf_counter() - started
    return tally


async def edit_loop(editing: Editing, token: str, project_id: str, until: float, tally: EditTally) -> None:
    """A client that knows only what its own answers told it: its commits and, on CONFLICT,
    the current version."""
    version = editing.versions[project_id]
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            version = await update_project(editing.api, token, project_id, version)
        except ApiError as error:
            if error.codes != ["CONFLICT"]:
                tally.errors[",".join(map(str, error.codes))] += 1
                continue
            tally.conflicts += 1
            version = int(error.extensions["currentVersion"])
        else:
            tally.commits += 1
            tally.latencies.append(time.perf_counter() - started)
    editing.versions[project_id] = max(editing.versions[project_id], version)


def print_edits(label: str, description: str, tally: EditTally) -> None:
    latencies = tally.latencies
    p50 = statistics.median(latencies) * 1000 if latencies else math.nan
    p99 = percentile(latencies, 99) * 1000 if latencies else math.nan
    extra = f", {tally.conflicts} CONFLICT answers" if tally.conflicts else ""
    extra += f", errors {dict(tally.errors)}" if tally.errors else ""
    print(
        f"{label:>13}, {description}: {tally.commits / tally.wall:.0f} edits/s "
        f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms per committed edit{extra}; "
        f"subgraph host CPU {tally.host_cpu / max(tally.commits, 1) * 1000:.1f} ms per commit)",
        flush=True,
    )
