"""Usage reporting (gateway/router/usage-reporting.mjs): what the router posts to the schema registry,
and that a registry that is down or stuck never slows clients down nor makes the router lose count."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.composition import SubgraphDefinition, write_supergraph
from gateway.router_process import RouterProcess
from tests.router.conftest import free_port
from tests.router.subgraphs import FEDERATION
from tests.support.servers import ServerThread
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TOKEN = "usage-test-token-7f3a"
STUCK_SECONDS = 10  # how long a stuck registry holds a post: far above the plugin's post timeout


# --- A subgraph with input objects, enums, an interface and a subscription ---------------------------


@strawberry.enum
class Genre(Enum):
    ROCK = "ROCK"
    POP = "POP"
    JAZZ = "JAZZ"


@strawberry.input
class YearRange:
    min: int | None = None
    max: int | None = None


@strawberry.input
class SongFilter:
    genre: Genre | None = None
    title: str | None = None
    year: YearRange | None = None


@strawberry.interface
class Item:
    id: strawberry.ID
    name: str


@strawberry.type
class Song(Item):
    genre: Genre


@strawberry.type
class Playlist(Item):
    size: int


SONGS = [Song(id=strawberry.ID("1"), name="Hey Jude", genre=Genre.ROCK)]


@strawberry.type
class Query:
    @strawberry.field
    def songs(self, filter: SongFilter | None = None, genres: list[Genre] | None = None) -> list[Song]:
        return SONGS

    @strawberry.field
    def items(self) -> list[Item]:
        return [*SONGS, Playlist(id=strawberry.ID("p1"), name="Mix", size=1)]

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("broken on purpose")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def countdown(self, start: int = 3) -> AsyncGenerator[int, None]:
        for n in range(start, 0, -1):
            yield n


SCHEMA = strawberry.federation.Schema(
    query=Query, subscription=Subscription, types=[Song, Playlist], federation_version=FEDERATION
)


def subgraph_app() -> Starlette:
    graphql = GraphQL(SCHEMA, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], graphql_ide=None)
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), WebSocketRoute("/graphql", graphql)]
    )


# --- The registry's receiving end -----------------------------------------------------------------------


@dataclass
class Post:
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """Records accepted posts. `stuck`: holds each post up to STUCK_SECONDS (until `release()`),
    then answers 503 without recording it."""

    posts: list[Post] = field(default_factory=list)
    stuck: bool = False
    stuck_attempts: int = 0
    released: bool = False

    async def receive(self, request: Request) -> Response:
        if self.stuck:
            self.stuck_attempts += 1
            deadline = time.monotonic() + STUCK_SECONDS
            while not self.released and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            return Response(status_code=503)
        self.posts.append(Post(dict(request.headers), await request.json()))
        return Response(status_code=204)

    def release(self) -> None:
        self.stuck, self.released = False, True

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/usage", self.receive, methods=["POST"])])

    def reports(self, client: str | None = None) -> list[dict[str, Any]]:
        every = [report for post in self.posts for report in post.body["reports"]]
        return [report for report in every if client is None or report["client"]["name"] == client]

    def accounted_executions(self) -> int:
        """Executions reported (counts) plus those reported lost (dropped), over all accepted posts."""
        return sum(report["count"] for report in self.reports()) + sum(
            post.body["dropped"] for post in self.posts
        )


@dataclass
class ReportingStack:
    router: RouterProcess
    receiver: Receiver
    receiver_server: ServerThread

    @property
    def url(self) -> str:
        return self.router.url


@pytest.fixture(scope="module")
def supergraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    server = ServerThread(subgraph_app()).start()
    sdl = SCHEMA.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]  # type: ignore[index]
    path = tmp_path_factory.mktemp("usage") / "supergraph.graphql"
    write_supergraph([SubgraphDefinition("usage", f"{server.url}/graphql", sdl)], path)
    yield path
    server.stop()


@asynccontextmanager
async def reporting_router(supergraph: Path, log_path: Path, **env: str) -> AsyncIterator[ReportingStack]:
    """A receiver, and a router reporting to it with `env` (USAGE_REPORT_* without the prefix)."""
    receiver = Receiver()
    server = ServerThread(receiver.app()).start()
    settings = {
        "USAGE_REPORT_URL": f"{server.url}/usage",
        "USAGE_REPORT_TOKEN": TOKEN,
        **{f"USAGE_REPORT_{name}": value for name, value in env.items()},
    }
    running = ReportingStack(
        RouterProcess(supergraph, port=free_port(), log_path=log_path, env=settings), receiver, server
    )
    try:
        async with running.router:
            yield running
    finally:
        receiver.release()
        running.receiver_server.stop()  # the test may have replaced it
    assert TOKEN not in await asyncio.to_thread(log_path.read_text)


@pytest.fixture(scope="module")
async def reporting(
    supergraph: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ReportingStack]:
    log_path = tmp_path_factory.mktemp("usage-router") / "router.log"
    # A second between posts: requests sent together share a post, or two at most.
    async with reporting_router(supergraph, log_path, INTERVAL_MS="1000") as running:
        yield running


async def query(
    url: str, document: str, client: str | None = None, version: str | None = None, **body: Any
) -> dict[str, Any]:
    headers = {"graphql-client-name": client or "", "graphql-client-version": version or ""}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        response = await http.post("/graphql", json={"query": document, **body}, headers=headers)
    return response.json()


async def reports_of(receiver: Receiver, client: str, executions: int) -> list[dict[str, Any]]:
    """The reports for `client` once they account for `executions` executions."""
    await wait_until(
        lambda: sum(report["count"] for report in receiver.reports(client)) >= executions,
        timeout=15,
        message=f"{executions} executions reported for {client}",
    )
    return receiver.reports(client)


def by_operation(reports: list[dict[str, Any]]) -> dict[str | None, list[str]]:
    return {report["operationName"]: report["coordinates"] for report in reports}


# --- What is reported ---------------------------------------------------------------------------------


async def test_reports_fields_arguments_input_fields_and_enum_values(reporting):
    literal = """query Literal { songs(filter: {genre: ROCK, year: {min: 1960}}, genres: [POP, JAZZ]) {
        id name genre __typename } }"""
    variables = "query Variables($filter: SongFilter) { songs(filter: $filter) { name } }"
    through_interface = """query Interface { items { id ...Named ... on Song { genre } ... on Playlist { size } } }
        fragment Named on Item { name }"""
    two_operations = "query Unused { broken } query Mixed { __typename items { id } }"
    await query(reporting.url, literal, "coords")
    await query(
        reporting.url, variables, "coords", variables={"filter": {"title": "Jude", "year": {"max": 1970}}}
    )
    await query(reporting.url, through_interface, "coords")
    await query(reporting.url, two_operations, "coords", operationName="Mixed")

    assert by_operation(await reports_of(reporting.receiver, "coords", 4)) == {
        "Literal": [
            "Genre.JAZZ",
            "Genre.POP",
            "Genre.ROCK",
            "Query.songs",
            "Query.songs(filter:)",
            "Query.songs(genres:)",
            "Song.genre",
            "Song.id",
            "Song.name",
            "SongFilter.genre",
            "SongFilter.year",
            "YearRange.min",
        ],
        "Variables": [
            "Query.songs",
            "Query.songs(filter:)",
            "Song.name",
            "SongFilter.title",
            "SongFilter.year",
            "YearRange.max",
        ],
        "Interface": ["Item.id", "Item.name", "Playlist.size", "Query.items", "Song.genre"],
        # Only the executed operation of the document counts (`Unused` is not in it).
        "Mixed": ["Item.id", "Query.items"],
    }


async def test_counts_aggregate_per_operation_client_and_version(reporting):
    songs = "query Songs { songs { id } }"
    await asyncio.gather(*(query(reporting.url, songs, "aggregate", "1.0") for _ in range(5)))
    await asyncio.gather(*(query(reporting.url, songs, "aggregate", "2.0") for _ in range(2)))
    await asyncio.gather(
        *(query(reporting.url, "query Broken { broken }", "aggregate", "1.0") for _ in range(3))
    )

    reports = await reports_of(reporting.receiver, "aggregate", 10)
    totals: dict[tuple[str | None, str], list[int]] = {}
    for report in reports:
        key = (report["operationName"], report["client"]["version"])
        count, errors = totals.get(key, [0, 0])
        totals[key] = [count + report["count"], errors + report["errors"]]
    assert totals == {("Songs", "1.0"): [5, 0], ("Songs", "2.0"): [2, 0], ("Broken", "1.0"): [3, 3]}
    # Sent together, within one flush interval: at most split by one flush, never one report each.
    assert len([r for r in reports if r["operationName"] == "Songs" and r["client"]["version"] == "1.0"]) <= 2
    assert len({r["operationHash"] for r in reports if r["operationName"] == "Songs"}) == 1
    for report in reports:
        assert len(report["operationHash"]) == 64 and int(report["operationHash"], 16) >= 0
        bucket = datetime.strptime(report["bucket"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert bucket.second == 0 and 0 <= (datetime.now(UTC) - bucket).total_seconds() < 180


async def test_every_post_carries_the_token_and_json_content_type(reporting):
    await query(reporting.url, "{ items { id } }", "headers")
    await reports_of(reporting.receiver, "headers", 1)
    assert {
        (post.headers["authorization"], post.headers["content-type"]) for post in reporting.receiver.posts
    } == {(f"Bearer {TOKEN}", "application/json")}


async def test_client_from_apollo_headers_anonymous_and_overlong_clients(reporting):
    apollo_headers = {"apollographql-client-name": "apollo-app", "apollographql-client-version": "3.1"}
    async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as http:
        await http.post("/graphql", json={"query": "query Apollo { items { id } }"}, headers=apollo_headers)
        await http.post("/graphql", json={"query": "query Anonymous { items { name } }"})
        await http.post(
            "/graphql",
            json={"query": "query Long { items { id } }"},
            headers={"graphql-client-name": "x" * 1000},
        )
    [apollo] = await reports_of(reporting.receiver, "apollo-app", 1)
    assert apollo["client"] == {"name": "apollo-app", "version": "3.1"}
    # Client names are report keys held in memory: capped.
    [overlong] = await reports_of(reporting.receiver, "x" * 128, 1)
    assert overlong["operationName"] == "Long"
    await wait_until(lambda: any(r["operationName"] == "Anonymous" for r in reporting.receiver.reports()))
    assert {
        json.dumps(r["client"]) for r in reporting.receiver.reports() if r["operationName"] == "Anonymous"
    } == {json.dumps({"name": None, "version": None})}


async def test_introspection_only_operations_are_not_reported(reporting):
    for document in (
        "query Schema { __schema { queryType { name } } }",
        'query TypeOf { __type(name: "Song") { fields { name } } }',
        "query Typename { __typename }",
        "query Fragment { __schema { types { ...T } } } fragment T on __Type { name }",
        "query Marker { items { id } }",  # sent last: once it is reported, the others were seen
    ):
        await query(reporting.url, document, "introspection")
    reports = await reports_of(reporting.receiver, "introspection", 1)
    assert [report["operationName"] for report in reports] == ["Marker"]


async def test_a_subscription_counts_once_when_started(reporting):
    events = []
    headers = {"accept": "text/event-stream", "graphql-client-name": "subscriber"}
    body = {"query": "subscription Countdown { countdown(start: 3) }"}
    async with (
        httpx.AsyncClient(base_url=reporting.url, timeout=20) as http,
        http.stream("POST", "/graphql", json=body, headers=headers) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data:") and "countdown" in line:
                events.append(json.loads(line.removeprefix("data:"))["data"]["countdown"])
            if line.startswith("event: complete"):
                break
    assert events == [3, 2, 1]
    await query(reporting.url, "query Marker { items { id } }", "subscriber")
    reports = await reports_of(reporting.receiver, "subscriber", 2)
    assert {r["operationName"]: (r["count"], r["coordinates"]) for r in reports} == {
        "Countdown": (1, ["Subscription.countdown", "Subscription.countdown(start:)"]),
        "Marker": (1, ["Item.id", "Query.items"]),
    }


# --- A registry that is stuck or down -------------------------------------------------------------------


async def latencies(url: str, count: int) -> list[float]:
    """Seconds per request, one after another on one connection. The subgraph serves from this
    (pytest) process, whose heap is large late in a session: a full collection during the
    window stalled one request 1.4 s once, which is not the router's doing, so the collector
    waits until the window is over (as `timeit` does)."""
    seconds = []
    gc.collect()
    gc.disable()
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for _ in range(count):
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": "query Timed { items { id } }"})
                seconds.append(time.perf_counter() - started)
                assert response.json() == {"data": {"items": [{"id": "1"}, {"id": "p1"}]}}
    finally:
        gc.enable()
    return seconds


def assert_not_delayed(seconds: list[float], baseline: list[float]) -> None:
    # Generous: a request waiting on the registry would take the post timeout (1.5 s) or more.
    assert statistics.median(seconds) < 3 * statistics.median(baseline) + 0.05, (seconds, baseline)
    assert max(seconds) < 1.0, seconds


async def test_a_stuck_or_down_registry_delays_no_request_and_the_drops_are_reported_later(
    supergraph, tmp_path
):
    env = {"INTERVAL_MS": "100", "TIMEOUT_MS": "1500", "MAX_PENDING": "20"}
    async with reporting_router(supergraph, tmp_path / "router.log", **env) as running:
        receiver = running.receiver
        baseline = await latencies(running.url, 20)
        sent = len(baseline)

        receiver.stuck = True
        stuck = await latencies(running.url, 40)  # twice the queue: some must be dropped
        sent += len(stuck)
        # A second attempt while the first is still held: the post timed out, the reporter went on.
        await wait_until(
            lambda: receiver.stuck_attempts >= 2, timeout=STUCK_SECONDS - 2, message="a 2nd post"
        )
        assert_not_delayed(stuck, baseline)

        receiver.release()
        port = running.receiver_server.port
        running.receiver_server.stop()  # down: connections refused
        down = await latencies(running.url, 40)
        sent += len(down)
        assert_not_delayed(down, baseline)

        running.receiver_server = ServerThread(receiver.app(), port=port).start()
        await wait_until(
            lambda: receiver.accounted_executions() == sent,
            timeout=15,
            message=f"{sent} executions reported or counted as dropped",
        )
        assert any(post.body["dropped"] > 0 for post in receiver.posts)
        assert receiver.accounted_executions() == sent


async def test_a_full_batch_is_posted_before_the_interval_and_the_rest_on_shutdown(supergraph, tmp_path):
    env = {"INTERVAL_MS": "600000", "MAX_BATCH": "3"}
    async with reporting_router(supergraph, tmp_path / "router.log", **env) as running:
        for name in ("One", "Two", "Three"):
            await query(running.url, f"query {name} {{ items {{ id }} }}", "batch")
        await wait_until(lambda: len(running.receiver.posts) == 1, message="the full batch")
        assert sorted(r["operationName"] for r in running.receiver.reports()) == ["One", "Three", "Two"]
        await query(running.url, "query Last { items { id } }", "batch")
        await asyncio.to_thread(running.router.stop)  # SIGTERM: the gateway disposes its plugins
        assert [r["operationName"] for r in running.receiver.posts[-1].body["reports"]] == ["Last"]
