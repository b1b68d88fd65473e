"""The request path end to end (issue 11's targets), every figure measured side by side in one
run and printed with its target; nothing is asserted on time.

Honest baselines: the bare side is the cheapest thing doing the same work — a Strawberry
subgraph answering `me { id displayName }` from memory (uvicorn + uvloop + httptools, parser
and validation caches) behind the same router build, and a plain Hive Gateway (no plugins) on
the platform's own supergraph. Load comes from `wrk` (one thread) at c=32; CPU per request is
read from each process's CPU time over the load, which stays meaningful when the generator
shares the two cores."""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from gateway.composition import SubgraphDefinition, write_supergraph
from gateway.host_process import HostProcess
from gateway.router_process import ROUTER_DIR, RouterProcess
from gateway.seed import seed_catalogue
from gateway.serving import KEEP_ALIVE_SECONDS
from shared.redis import free_port
from subgraphs.spotify.catalogue.offline import load_sample
from tests.bench.bench_router_usage import wait_for_subgraph
from tests.bench.collab_platform import embedded_redis, migrated_sqlite, platform_settings, postgres_database
from tests.bench.loadgen import Load, post_load

REPO = Path(__file__).resolve().parents[2]
NAMES = ("accounts", "collaboration", "spotify")
CONCURRENCY = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = 4

ME = "query Me { me { id displayName } }"
WORKSPACE_TRACKS = """query WorkspaceTracks {
  me { workspaces { edges { node { projects { edges { node {
    title tracks { name album { name } }
  } } } } } } }
}"""
UPDATE_PROJECT = """mutation Edit($i: UpdateProjectInput!) {
  updateProject(input: $i) { project { id version } }
}"""


# The bare subgraph ---------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    display_name: str


BARE_USER = User(id=strawberry.ID("usr_bare"), display_name="Ada Lovelace")


@strawberry.type
class Query:
    @strawberry.field
    def me(self) -> User:
        return BARE_USER


BARE_SCHEMA = strawberry.federation.Schema(
    query=Query, federation_version="2.9", extensions=[lambda: ParserCache(), lambda: ValidationCache()]
)


def bare_app() -> Starlette:
    """`uvicorn --factory` entry of the bare subgraph."""
    return Starlette(routes=[Route("/graphql", GraphQL(BARE_SCHEMA, graphql_ide=None), methods=["POST"])])


@contextmanager
def bare_subgraph() -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.bench.bench_request_path:bare_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        wait_for_subgraph(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


# Processes and their CPU ---------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (a host with worker processes)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


@dataclass
class Measured:
    load: Load
    cpu_ms: dict[str, float]
    """CPU milliseconds per request, per process label."""

    def line(self) -> str:
        cpu = "  ".join(f"{label} {ms:.2f} ms CPU/req" for label, ms in self.cpu_ms.items())
        failed = f"  FAILED {self.load.failed}" if self.load.failed else ""
        return f"{self.load.line()}  {cpu}{failed}"


async def measure(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    pids: dict[str, int],
    seconds: float = SECONDS,
) -> Measured:
    before = {label: cpu_seconds(pid) for label, pid in pids.items()}
    load = await post_load(
        url, document, variables, authorization=f"Bearer {token}" if token else None,
        concurrency=CONCURRENCY, seconds=seconds,
    )  # fmt: skip
    after = {label: cpu_seconds(pid) for label, pid in pids.items()}
    requests = max(load.requests, 1)
    return Measured(load, {label: (after[label] - before[label]) * 1000 / requests for label in pids})


async def warm(
    url: str, document: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> None:
    await post_load(
        url, document, variables, authorization=f"Bearer {token}" if token else None,
        concurrency=CONCURRENCY, seconds=WARMUP_SECONDS,
    )  # fmt: skip


# Routers -------------------------------------------------------------------------------------

PLAIN_CONFIG = """// A plain Hive Gateway: no plugins, default planner (the bench's baseline router).
import { defineConfig } from '@graphql-hive/gateway';
export const gatewayConfig = defineConfig({
  supergraph: process.env.SUPERGRAPH,
  readinessCheckEndpoint: '/readyz',
  // Upstream work equal to ours: our router never merges identical in-flight subgraph calls.
  transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      return { authorization: request.headers.get('authorization') ?? undefined };
    },
  },
});
"""


@asynccontextmanager
async def router_on(
    supergraph: Path, directory: Path, label: str, *, plain: bool = False
) -> AsyncIterator[RouterProcess]:
    """Our router build on `supergraph`, or (`plain`) Hive Gateway with no plugins."""
    env: dict[str, str] = {}
    if plain:
        config = ROUTER_DIR / f".bench-plain-{os.getpid()}.config.mjs"
        config.write_text(PLAIN_CONFIG)
        env["CONFIG_PATH"] = str(config)
    process = RouterProcess(supergraph, port=free_port(), log_path=directory / f"router-{label}.log", env=env)
    try:
        async with process:
            yield process
    finally:
        if plain:
            (ROUTER_DIR / f".bench-plain-{os.getpid()}.config.mjs").unlink(missing_ok=True)


# The platform's data -------------------------------------------------------------------------


@dataclass
class Seeded:
    token: str
    workspace_id: str


async def seed(router_url: str, accounts_url: str) -> Seeded:
    tracks = [track["id"] for track in load_sample()["tracks"][:10]]
    async with httpx.AsyncClient(timeout=30) as client:

        async def gql(url: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            body = (
                await client.post(url, json={"query": query, "variables": variables}, headers=headers)
            ).json()
            if body.get("errors"):
                raise RuntimeError(f"seeding failed: {body['errors']}")
            return body["data"]

        signed = await gql(
            accounts_url,
            """mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }""",
            {
                "i": {
                    "email": "bench@example.com",
                    "password": "bench-password-1",
                    "displayName": "Bench",
                    "tenantName": "Bench Label",
                    "consents": {"terms": True, "dataProcessing": True, "marketing": False},
                }
            },
        )
        token = signed["signUp"]["accessToken"]
        workspace = await gql(
            router_url,
            "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { workspace { id } } }",
            {"i": {"name": "Bench workspace"}},
            token,
        )
        workspace_id = workspace["createWorkspace"]["workspace"]["id"]
        for n in range(2):
            created = await gql(
                router_url,
                """mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id version } } }""",
                {
                    "i": {
                        "workspaceId": workspace_id,
                        "type": "PLAYLIST_DRAFT",
                        "title": f"Draft {n}",
                        "content": {"description": "", "trackIds": tracks[n * 5 : n * 5 + 5]},
                    }
                },
                token,
            )
            assert created["createProject"]["project"]["version"] == 1
        return Seeded(token, workspace_id)


async def edit_load(router_url: str, seeded: Seeded, seconds: float = SECONDS) -> Load:
    """updateProject at c=32: each of 32 clients edits a project of its own (as collaborators
    on different drafts do), sending the version its last answer gave. A Python client: the
    latencies count, its own CPU is not measured."""
    headers = {"authorization": f"Bearer {seeded.token}"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=router_url, headers=headers, limits=limits, timeout=30) as client:
        create = """mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }"""
        ids = []
        for n in range(CONCURRENCY):
            draft = {"workspaceId": seeded.workspace_id, "type": "DOCUMENT", "title": f"Notes {n}"}
            body = (await client.post("", json={"query": create, "variables": {"i": draft}})).json()
            ids.append(body["data"]["createProject"]["project"]["id"])
        latencies: list[float] = []
        failed = 0
        deadline = time.monotonic() + seconds

        async def editor(project_id: str) -> None:
            nonlocal failed
            version = 1
            while time.monotonic() < deadline:
                operations = [{"op": "replace", "path": "/body", "value": f"take {version}"}]
                variables = {"i": {"id": project_id, "version": version, "operations": operations}}
                started = time.perf_counter()
                answer = (
                    await client.post("", json={"query": UPDATE_PROJECT, "variables": variables})
                ).json()
                latencies.append(time.perf_counter() - started)
                if answer.get("errors"):
                    failed += 1
                    break
                version = answer["data"]["updateProject"]["project"]["version"]

        started = time.monotonic()
        await asyncio.gather(*(editor(id) for id in ids))
        elapsed = time.monotonic() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Load(len(latencies), elapsed, quantiles[49] * 1000, quantiles[98] * 1000, failed)


# Target 5: one tenant-scoped primary-key read --------------------------------------------------

READS = 3000


async def _cpu_per_call(call: Any, count: int = READS) -> float:
    for _ in range(100):
        await call()
    started = time.process_time()  # the process's CPU, worker threads included (aiosqlite's)
    for _ in range(count):
        await call()
    return (time.process_time() - started) * 1e6 / count


async def repository_reads(database_url: str) -> dict[str, float]:
    """CPU µs per read of one user by id in its tenant: the repository's keyed read, the
    ORM in a request session, and the raw drivers in this process."""
    from shared.db import Database
    from subgraphs.accounts.models import User
    from subgraphs.accounts.repository import UserRepository

    database = Database(database_url)
    async with database.write() as session:
        for n in range(100):
            session.add(
                User(id=f"usr_{n}", tenant_id="tnt_b", email=f"{n}@b.example", password_hash="x",
                     display_name=f"User {n}", role="member", consents="terms")
            )  # fmt: skip
    figures: dict[str, float] = {}
    figures["repository (keyed read)"] = await _cpu_per_call(
        lambda: UserRepository.load_many(database, "tnt_b", ["usr_7"])
    )

    async def orm() -> None:
        async with database.read() as session:
            await UserRepository(session, "tnt_b").get_many(["usr_7"])

    figures["ORM get_many, fresh session"] = await _cpu_per_call(orm)
    sql_sqlite = "SELECT * FROM accounts_user WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL"
    if database.is_sqlite:
        import sqlite3

        import aiosqlite

        path = database_url.split("///", 1)[1]
        raw = sqlite3.connect(path)

        async def in_thread() -> None:
            raw.execute(sql_sqlite, ("tnt_b", "usr_7")).fetchall()

        figures["sqlite3 (raw, calling thread)"] = await _cpu_per_call(in_thread)
        async with aiosqlite.connect(path) as connection:

            async def hop() -> None:
                await (await connection.execute(sql_sqlite, ("tnt_b", "usr_7"))).fetchall()

            figures["aiosqlite (raw)"] = await _cpu_per_call(hop)
        raw.close()
    else:
        import asyncpg
        from sqlalchemy.engine import make_url

        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        sql = "SELECT * FROM accounts_user WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        statement = await connection.prepare(sql)
        figures["asyncpg (raw, prepared)"] = await _cpu_per_call(lambda: statement.fetch("tnt_b", "usr_7"))
        await connection.close()
    await database.dispose()
    return figures


# The run -------------------------------------------------------------------------------------


def ratio_line(label: str, value: float, target: str, met: bool) -> str:
    return f"  {label:<62} {value:6.2f}   target {target:<7} {'met' if met else 'NOT MET'}"


async def platform_round(directory: Path, database_url: str, label: str) -> dict[str, Measured]:
    # INFO, as `make dev` runs: one log line per operation is part of the path measured.
    settings = platform_settings(directory, database_url).model_copy(update={"log_level": "INFO"})
    await seed_catalogue(settings)
    results: dict[str, Measured] = {}
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(embedded_redis(directory))
        host = await stack.enter_async_context(
            HostProcess(settings, redis.url, NAMES, log_path=directory / "subgraphs.log")
        )
        supergraph = directory / "supergraph.graphql"
        from gateway.host import definitions

        await asyncio.to_thread(write_supergraph, definitions(settings, NAMES), supergraph)
        ours = await stack.enter_async_context(router_on(supergraph, directory, "ours"))
        seeded = await seed(f"{ours.url}/graphql", f"{host.url}/accounts/graphql")
        pids = {"router": ours.process.pid, "subgraphs": host.pid}  # type: ignore[union-attr]
        print(f"  subgraph host: {host.workers} worker processes", flush=True)
        url = f"{ours.url}/graphql"
        for name, document in (("query 1 (me)", ME), ("query 2 (3 subgraphs)", WORKSPACE_TRACKS)):
            await warm(url, document, token=seeded.token)
            results[name] = await measure(url, document, token=seeded.token, pids=pids)
            print(f"  {label:<10} {name:<24} {results[name].line()}", flush=True)
        edits = await edit_load(url, seeded)
        results["updateProject"] = Measured(edits, {})
        print(
            f"  {label:<10} {'updateProject':<24} {edits.line()}"
            + (f"  FAILED {edits.failed}" if edits.failed else ""),
            flush=True,
        )
        if label == "SQLite":
            plain = await stack.enter_async_context(router_on(supergraph, directory, "plain", plain=True))
            plain_pids = {"router": plain.process.pid, "subgraphs": host.pid}  # type: ignore[union-attr]
            for name, document in (("query 1 (me)", ME), ("query 2 (3 subgraphs)", WORKSPACE_TRACKS)):
                await warm(f"{plain.url}/graphql", document, token=seeded.token)
                results[f"plain {name}"] = await measure(
                    f"{plain.url}/graphql", document, token=seeded.token, pids=plain_pids
                )
                print(f"  {'plain Hive':<10} {name:<24} {results[f'plain {name}'].line()}", flush=True)
        results["router rss"] = Measured(Load(0, 0, 0, 0, 0), {"router_mb": rss_mb(ours.process.pid)})  # type: ignore[union-attr]
    return results


class TraceSink:
    """An OTLP/HTTP endpoint that accepts span exports and counts them (the collector's place)."""

    def __init__(self) -> None:
        self.exports = 0

    async def receive(self, request: Any) -> Any:
        from starlette.responses import Response

        await request.body()
        self.exports += 1
        return Response(status_code=200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/traces", self.receive, methods=["POST"])])


async def observability_round(directory: Path, database_url: str) -> dict[str, float]:
    """Query 1 with metrics off (`METRICS=off`), with metrics (the default), and with metrics
    and tracing at 10 % sampling exported over OTLP: three hosts on one database, each behind
    its own router, measured in alternation. Returns the median req/s of each."""
    from tests.support.servers import ServerThread

    settings = platform_settings(directory, database_url).model_copy(update={"log_level": "INFO"})
    await seed_catalogue(settings)
    sink = TraceSink()
    sink_server = ServerThread(sink.app()).start()
    variants = {
        "off": {"METRICS": "off"},
        "metrics": {},
        "tracing": {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink_server.url,
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        },
    }
    rates: dict[str, list[float]] = {label: [] for label in variants}
    try:
        async with AsyncExitStack() as stack:
            redis = await stack.enter_async_context(embedded_redis(directory))
            urls: dict[str, str] = {}
            from gateway.host import definitions

            for label, env in variants.items():
                own = settings.model_copy(update={"subgraph_port": free_port()})
                log = directory / f"subgraphs-{label}.log"
                await stack.enter_async_context(HostProcess(own, redis.url, NAMES, log_path=log, env=env))
                supergraph = directory / f"supergraph-{label}.graphql"
                await asyncio.to_thread(write_supergraph, definitions(own, NAMES), supergraph)
                router = await stack.enter_async_context(router_on(supergraph, directory, f"obs-{label}"))
                urls[label] = f"{router.url}/graphql"
            seeded = await seed(urls["off"], urls["off"])  # signUp through the router works as well
            for url in urls.values():
                await warm(url, ME, token=seeded.token)
            for _ in range(2):
                for label, url in urls.items():
                    load = await post_load(url, ME, authorization=f"Bearer {seeded.token}", seconds=SECONDS)
                    rates[label].append(load.rate)
    finally:
        sink_server.stop()
    medians = {label: statistics.median(values) for label, values in rates.items()}
    medians["exports"] = float(sink.exports)
    return medians


SOAK_MINUTES = int(os.environ.get("BENCH_SOAK_MINUTES", "5"))


async def soak_round(directory: Path, database_url: str) -> list[tuple[float, float]]:
    """Query 1 at c=32 for SOAK_MINUTES minutes, one load per minute back to back: each
    minute's req/s and the router's RSS after it."""
    settings = platform_settings(directory, database_url).model_copy(update={"log_level": "INFO"})
    await seed_catalogue(settings)
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(embedded_redis(directory))
        host = await stack.enter_async_context(
            HostProcess(settings, redis.url, NAMES, log_path=directory / "subgraphs.log")
        )
        from gateway.host import definitions

        supergraph = directory / "supergraph.graphql"
        await asyncio.to_thread(write_supergraph, definitions(settings, NAMES), supergraph)
        router = await stack.enter_async_context(router_on(supergraph, directory, "soak"))
        seeded = await seed(f"{router.url}/graphql", f"{host.url}/accounts/graphql")
        return await soak(router, seeded.token, "soak")


async def soak(router: RouterProcess, token: str, label: str) -> list[tuple[float, float]]:
    """Query 1 for SOAK_MINUTES one-minute loads back to back: each one's req/s and the
    router's RSS after it."""
    minutes: list[tuple[float, float]] = []
    for _ in range(SOAK_MINUTES):
        load = await post_load(f"{router.url}/graphql", ME, authorization=f"Bearer {token}", seconds=60)
        minutes.append((load.rate, rss_mb(router.process.pid)))  # type: ignore[union-attr]
        print(
            f"  {label} minute {len(minutes)}: {load.line()}  router RSS {minutes[-1][1]:.0f} MB", flush=True
        )
    return minutes


async def bare_soak_round(directory: Path) -> list[tuple[float, float]]:
    """The same soak on the bare stack (the router in front of the from-memory subgraph): if its
    throughput drifts as much, the drift is the machine's, not the platform's."""
    with bare_subgraph() as (url, _):
        supergraph = directory / "bare-soak-supergraph.graphql"
        sdl = BARE_SCHEMA.as_str()
        await asyncio.to_thread(write_supergraph, [SubgraphDefinition("accounts", url, sdl)], supergraph)
        async with router_on(supergraph, directory, "bare-soak") as router:
            return await soak(router, "bare", "bare soak")


async def bare_round(directory: Path) -> Measured:
    with bare_subgraph() as (url, pid):
        supergraph = directory / "bare-supergraph.graphql"
        sdl = BARE_SCHEMA.as_str()
        await asyncio.to_thread(write_supergraph, [SubgraphDefinition("accounts", url, sdl)], supergraph)
        async with router_on(supergraph, directory, "bare") as process:
            router_url = f"{process.url}/graphql"
            await warm(router_url, ME, token="bare")
            measured = await measure(
                router_url,
                ME,
                token="bare",
                pids={"router": process.process.pid, "subgraphs": pid},  # type: ignore[union-attr]
            )
            print(f"  {'bare':<10} {'query 1 (me)':<24} {measured.line()}", flush=True)
            return measured


async def run() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="bench-path-"))
    bare = await bare_round(root / "bare")
    sqlite = await platform_round(root / "sqlite", await migrated_sqlite(root / "sqlite"), "SQLite")
    print()
    sqlite_reads = await repository_reads(await migrated_sqlite(root / "reads"))
    for label, value in sqlite_reads.items():
        print(f"  SQLite      {label:<34} {value:8.1f} µs CPU/read", flush=True)
    async with postgres_database() as postgres_url:
        pg_reads = await repository_reads(postgres_url)
        for label, value in pg_reads.items():
            print(f"  PostgreSQL  {label:<34} {value:8.1f} µs CPU/read", flush=True)
        print()
        await platform_round(root / "postgres", postgres_url, "PostgreSQL")
    observed = await observability_round(
        root / "observability", await migrated_sqlite(root / "observability")
    )
    print(
        f"\n  query 1: metrics off {observed['off']:.0f} req/s, metrics {observed['metrics']:.0f} req/s, "
        f"metrics + tracing at 10 % {observed['tracing']:.0f} req/s ({observed['exports']:.0f} OTLP exports); "
        "medians of 2 alternated rounds"
    )
    soak = await soak_round(root / "soak", await migrated_sqlite(root / "soak")) if SOAK_MINUTES >= 2 else []
    bare_soak = await bare_soak_round(root / "soak") if soak else []
    q1, q2 = sqlite["query 1 (me)"], sqlite["query 2 (3 subgraphs)"]
    plain1 = sqlite["plain query 1 (me)"]
    print()
    print(
        ratio_line(
            "1. query 1 full stack / router + bare subgraph (req/s)",
            q1.load.rate / bare.load.rate,
            ">= 0.6",
            q1.load.rate / bare.load.rate >= 0.6,
        )
    )
    print(
        ratio_line(
            "2. query 2 / query 1 (req/s)",
            q2.load.rate / q1.load.rate,
            ">= 0.5",
            q2.load.rate / q1.load.rate >= 0.5,
        )
    )
    router_ratio = q1.cpu_ms["router"] / plain1.cpu_ms["router"]
    print(
        ratio_line(
            "3. router CPU/req, ours / plain Hive Gateway (query 1)",
            router_ratio,
            "<= 1.0",
            router_ratio <= 1.0,
        )
    )
    subgraph_ratio = q1.cpu_ms["subgraphs"] / bare.cpu_ms["subgraphs"]
    print(
        ratio_line(
            "4. subgraph CPU/req query 1 / bare from memory", subgraph_ratio, "<= 3", subgraph_ratio <= 3
        )
    )
    pg_ratio = pg_reads["repository (keyed read)"] / pg_reads["asyncpg (raw, prepared)"]
    print(ratio_line("5. keyed read / asyncpg prepared (PostgreSQL)", pg_ratio, "<= 5", pg_ratio <= 5))
    sqlite_ratio = sqlite_reads["repository (keyed read)"] / sqlite_reads["sqlite3 (raw, calling thread)"]
    print(
        ratio_line(
            "5. keyed read / sqlite3 in the calling thread (SQLite)",
            sqlite_ratio,
            "<= 20",
            sqlite_ratio <= 20,
        )
    )
    aiosqlite_ratio = sqlite_reads["repository (keyed read)"] / sqlite_reads["aiosqlite (raw)"]
    print(f"     (SQLite: keyed read / aiosqlite {aiosqlite_ratio:.2f})")
    metrics_cost = 1 - observed["metrics"] / observed["off"]
    print(
        ratio_line(
            "metrics: query 1 throughput lost (1 - on/off)", metrics_cost, "<= 0.05", metrics_cost <= 0.05
        )
    )
    tracing_cost = 1 - observed["tracing"] / observed["metrics"]
    print(
        ratio_line("tracing at 10 %: query 1 throughput lost", tracing_cost, "<= 0.05", tracing_cost <= 0.05)
    )
    rss = sqlite["router rss"].cpu_ms["router_mb"]
    print(ratio_line("6. router RSS after the loads (MB)", rss, "<= 300", rss <= 300))  # fmt: skip
    if soak:
        growth = soak[-1][1] / soak[0][1] - 1
        print(
            ratio_line(
                f"6. soak {len(soak)} min: router RSS growth, first to last minute",
                growth,
                "<= 0.10",
                growth <= 0.10,
            )
        )
        drift = abs(soak[-1][0] / soak[0][0] - 1)
        print(
            ratio_line(
                "6. soak: last minute's req/s vs the first's (|change|)", drift, "<= 0.10", drift <= 0.10
            )
        )
        bare_drift = bare_soak[-1][0] / bare_soak[0][0] - 1
        print(
            f"     (the bare stack over the same soak: {bare_drift:+.0%} from its first minute to its last)"
        )


if __name__ == "__main__":
    asyncio.run(run())
