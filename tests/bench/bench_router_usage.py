"""Router throughput with and without the usage-reporting plugin (gateway/router/usage-reporting.mjs).

Two routers on one supergraph and one subgraph process, identical but for USAGE_REPORT_URL; rounds
alternate between them so drift on a shared machine hits both alike. Also the router's CPU per
request, a steadier figure than req/s when the load generator shares the cores. Target: with the
plugin at most 5% fewer req/s."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from gateway.composition import SubgraphDefinition, write_supergraph
from gateway.router_process import RouterProcess
from gateway.serving import KEEP_ALIVE_SECONDS
from shared.redis import free_port
from tests.support.servers import ServerThread

QUERY = "query Tracks($first: Int!) { tracks(first: $first) { id title } }"
CONCURRENCY = 24
REQUESTS_PER_ROUND = 3000
ROUNDS = 6  # per router, alternating
WARMUP_REQUESTS = 3000  # the JIT keeps speeding the router up for the first few thousand
TARGET_RATIO = 0.95
REPO = Path(__file__).resolve().parents[2]


@strawberry.federation.type(keys=["id"])
class Track:
    id: strawberry.ID
    title: str


@strawberry.type
class Query:
    @strawberry.field
    def tracks(self, first: int) -> list[Track]:
        return [Track(id=strawberry.ID(str(n)), title=f"Track {n}") for n in range(first)]


SCHEMA = strawberry.federation.Schema(
    query=Query,
    federation_version="2.9",
    extensions=[lambda: ParserCache(), lambda: ValidationCache()],
)


def subgraph_app() -> Starlette:
    """The subgraph, for `uvicorn --factory` in its own process."""
    return Starlette(routes=[Route("/graphql", GraphQL(SCHEMA, graphql_ide=None), methods=["POST"])])


@contextmanager
def subgraph_process() -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.bench.bench_router_usage:subgraph_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        wait_for_subgraph(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def wait_for_subgraph(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.post(url, json={"query": "{ __typename }"}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("bench subgraph did not start")


class Registry:
    """The receiving end, counting what reaches it (executions reported plus those dropped)."""

    def __init__(self) -> None:
        self.posts = 0
        self.accounted = 0

    async def receive(self, request: Request) -> Response:
        body = await request.json()
        self.posts += 1
        self.accounted += sum(report["count"] for report in body["reports"]) + body["dropped"]
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/usage", self.receive, methods=["POST"])])


@dataclass
class Target:
    label: str
    router: RouterProcess
    rates: list[float]
    cpu_per_request: list[float]
    sent: int = 0

    def cpu_seconds(self) -> float:
        assert self.router.process is not None
        times = psutil.Process(self.router.process.pid).cpu_times()
        return float(times.user + times.system)


# The load generator: Node's http client with keep-alive, far cheaper per request than a Python
# client, so the router (not the generator) is what saturates the shared cores.
LOAD_SCRIPT = """
import http from 'node:http';
const [url, requests, concurrency, body] = process.argv.slice(1);
const target = new URL(url);
const payload = Buffer.from(body);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const options = {
  host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
  headers: { 'content-type': 'application/json', 'content-length': payload.length },
};
const once = () => new Promise((resolve, reject) => {
  const request = http.request(options, (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (response.statusCode === 200 && !text.includes('"errors"')) resolve();
      else reject(new Error(`bench query failed: ${text.slice(0, 200)}`));
    });
  });
  request.on('error', reject);
  request.end(payload);
});
let sent = 0;
const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (sent++ < Number(requests)) await once();
}));
console.log((performance.now() - started) / 1000);
agent.destroy();
"""


async def load(url: str, requests: int) -> float:
    """Sends `requests` POSTs over CONCURRENCY keep-alive connections; returns requests per second."""
    body = json.dumps({"query": QUERY, "variables": {"first": 5}})
    process = await asyncio.create_subprocess_exec(
        "node", "--input-type=module", "-e", LOAD_SCRIPT, f"{url}/graphql", str(requests), str(CONCURRENCY), body,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the load generator failed (its error is above)")
    return requests / float(stdout.decode().strip())


async def measure(target: Target, requests: int, record: bool = True) -> None:
    cpu_before = target.cpu_seconds()
    rate = await load(target.router.url, requests)
    target.sent += requests
    if record:
        target.rates.append(rate)
        target.cpu_per_request.append((target.cpu_seconds() - cpu_before) / requests)


def print_summary(without: Target, with_plugin: Target) -> None:
    for target in (without, with_plugin):
        rates = ", ".join(f"{rate:.0f}" for rate in target.rates)
        print(
            f"  {target.label:<22} median {statistics.median(target.rates):6.0f} req/s (rounds: {rates}); "
            f"router CPU {statistics.median(target.cpu_per_request) * 1000:.2f} ms/request",
            flush=True,
        )
    ratio = statistics.median(with_plugin.rates) / statistics.median(without.rates)
    paired = statistics.median(b / a for a, b in zip(without.rates, with_plugin.rates, strict=True))
    cpu_ratio = statistics.median(with_plugin.cpu_per_request) / statistics.median(without.cpu_per_request)
    verdict = "ok" if ratio >= TARGET_RATIO else "ABOVE TARGET"
    print(
        f"  with/without: throughput {ratio:.3f} (target >= {TARGET_RATIO}: {verdict}; "
        f"median of per-round ratios {paired:.3f}), router CPU per request {cpu_ratio:.3f}",
        flush=True,
    )


async def run() -> None:
    print(
        f"`{QUERY}` (5 tracks), concurrency {CONCURRENCY}, {ROUNDS} rounds x {REQUESTS_PER_ROUND} requests "
        "per router, alternating; default plugin settings (5 s interval)",
        flush=True,
    )
    registry = Registry()
    directory = Path(tempfile.mkdtemp(prefix="bench-router-usage-"))
    with subgraph_process() as subgraph_url:
        registry_server = ServerThread(registry.app()).start()
        try:
            await compare(subgraph_url, f"{registry_server.url}/usage", registry, directory)
        finally:
            registry_server.stop()


async def compare(subgraph_url: str, registry_url: str, registry: Registry, directory: Path) -> None:
    sdl: Any = SCHEMA.execute_sync("{ _service { sdl } }").data
    supergraph = directory / "supergraph.graphql"
    write_supergraph([SubgraphDefinition("bench", subgraph_url, sdl["_service"]["sdl"])], supergraph)
    reporting_env = {"USAGE_REPORT_URL": registry_url, "USAGE_REPORT_TOKEN": "bench-token"}
    async with AsyncExitStack() as stack:
        without, with_plugin = [
            Target(label, await stack.enter_async_context(router), [], [])
            for label, router in (
                ("without the plugin", RouterProcess(supergraph, free_port(), log_path=directory / "a.log")),
                ("with the plugin", RouterProcess(supergraph, free_port(), log_path=directory / "b.log", env=reporting_env)),
            )
        ]  # fmt: skip
        for target in (without, with_plugin):
            await measure(target, WARMUP_REQUESTS, record=False)
        for round_number in range(ROUNDS):
            # A-B then B-A: a steady drift in machine load favours neither.
            pair = (without, with_plugin) if round_number % 2 == 0 else (with_plugin, without)
            for target in pair:
                await measure(target, REQUESTS_PER_ROUND)
        print_summary(without, with_plugin)
        await asyncio.to_thread(with_plugin.router.stop)  # SIGTERM: the plugin's final flush
    print(
        f"  registry: {registry.posts} posts accounted for {registry.accounted} of {with_plugin.sent} executions",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(run())
