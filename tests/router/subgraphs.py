"""Tiny Strawberry federation subgraphs that echo what the router sends them.

All are served by one app under path prefixes (/echo/graphql, /catalog/graphql, /hello/graphql),
like the platform's subgraph host, so the router's upstream URLs (HTTP and WS) keep a prefix."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any, Final

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

FEDERATION: Final = "2.9"  # @theguild/federation-composition rejects later versions
TITLES = {"1": "Hey Jude", "2": "Let It Be"}


class Recorder:
    """What the subgraphs saw; calls of `meet` rendezvous so a test can count concurrent arrivals."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.arrived: dict[str, asyncio.Event] = {}


RECORDER = Recorder()


def _headers(info: strawberry.Info) -> Any:
    return info.context["request"].headers


@strawberry.federation.type(keys=["id"])
class Track:
    id: strawberry.ID
    title: str


@strawberry.federation.type(keys=["id"], name="Track")
class TrackPlays:
    id: strawberry.ID

    @strawberry.field
    def plays(self) -> int:
        return 1000 + int(self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> TrackPlays:
        return cls(id=id)


@strawberry.type
class Tick:
    n: int
    connection_init: str = strawberry.field(description="The connection_init payload, as JSON.")
    forwarded_for: str | None


@strawberry.type
class EchoQuery:
    @strawberry.field
    def authorization(self, info: strawberry.Info) -> str | None:
        return _headers(info).get("authorization")

    @strawberry.field
    def header(self, info: strawberry.Info, name: str) -> str | None:
        return _headers(info).get(name)

    @strawberry.field
    async def meet(self, key: str, expected: int = 2) -> int:
        """Counts calls under `key` and waits (up to 3 s) until `expected` have arrived."""
        RECORDER.calls[key] += 1
        arrived = RECORDER.arrived.setdefault(key, asyncio.Event())
        if RECORDER.calls[key] >= expected:
            arrived.set()
        try:
            await asyncio.wait_for(arrived.wait(), timeout=3)
        except TimeoutError:
            pass
        return RECORDER.calls[key]


@strawberry.type(name="Subscription")
class EchoSubscription:
    @strawberry.subscription
    async def ticks(self, info: strawberry.Info, count: int = 3) -> AsyncGenerator[Tick, None]:
        params = info.context.get("connection_params")
        for n in range(count):
            yield Tick(
                n=n,
                connection_init=json.dumps(params, sort_keys=True),
                forwarded_for=_headers(info).get("x-forwarded-for"),
            )


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def tracks(self) -> list[Track]:
        return [Track(id=strawberry.ID(key), title=title) for key, title in TITLES.items()]


@strawberry.type
class HelloQuery:
    @strawberry.field
    def hello(self) -> str:
        return "hello from a subgraph added later"


SCHEMAS = {
    "echo": strawberry.federation.Schema(
        query=EchoQuery, subscription=EchoSubscription, types=[TrackPlays], federation_version=FEDERATION
    ),
    "catalog": strawberry.federation.Schema(query=CatalogQuery, types=[Track], federation_version=FEDERATION),
    "hello": strawberry.federation.Schema(query=HelloQuery, federation_version=FEDERATION),
}


def create_app() -> Starlette:
    routes: list[Any] = []
    for name, schema in SCHEMAS.items():
        graphql = GraphQL(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], graphql_ide=None)
        routes += [
            Route(f"/{name}/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute(f"/{name}/graphql", graphql),
        ]
    return Starlette(routes=routes)


# Two subgraphs disagreeing on a field's type: composition must fail and say so.
CONFLICT_ONE = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { album(id: ID!): Album }
type Album @key(fields: "id") { id: ID! year: Int }
"""
CONFLICT_TWO = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { albums: [Album!]! }
type Album @key(fields: "id") { id: ID! year: String }
"""
