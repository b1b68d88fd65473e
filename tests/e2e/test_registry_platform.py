"""The registry with the real platform: the router polls the registry's supergraph and
reports usage to it. A partner publishes `merch` and the router serves it without a
restart; real traffic then decides which checks fail; the registry restarts losing nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.host import definitions
from gateway.registry.app import create_registry_app
from gateway.registry.bootstrap import publish_platform
from gateway.registry.service import Registry
from gateway.router_process import RouterProcess
from gateway.subgraphs import SUBGRAPHS
from shared.config import Settings
from shared.db import Database
from shared.redis import free_port
from subgraphs.spotify.catalogue.offline import load_sample
from tests.registry.conftest import CHECK, PUBLISH, TENANT, api_key
from tests.support.graphql import codes, gql, sign_up
from tests.support.hosting import served_together
from tests.support.partner import CONFLICTING, MERCH_SDL, WITHOUT_PRICE, WITHOUT_SKU, merch_app
from tests.support.servers import ServerThread

pytestmark = pytest.mark.e2e

SHOP_QUERY = "query ArtistShop($id: ID!) { artist(id: $id) { name merchItems { name price } } }"
ARTIST = str(load_sample()["artists"][0]["id"])
SHOP_CLIENT = {"graphql-client-name": "shop-web", "graphql-client-version": "1.4.2"}
ROUTER_TOKEN = "e2e-router-token"


@dataclass
class Stack:
    settings: Settings
    registry_url: str
    router: httpx.AsyncClient
    host: httpx.AsyncClient
    admin_key: str
    restart_registry: Callable[[], Awaitable[None]]


async def _eventually(probe: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


@pytest.fixture
async def stack(tmp_path, redis_server, sqlite_factory) -> AsyncIterator[Stack]:
    subgraph_port, registry_port = free_port(), free_port()
    base = Settings(
        env="dev",
        data_dir=tmp_path,
        database_url=sqlite_factory.new(),
        subgraph_port=subgraph_port,
        router_port=free_port(),
        registry_port=registry_port,
        registry_router_token=ROUTER_TOKEN,
    )
    exits = ExitStack()
    _, host = exits.enter_context(served_together(SUBGRAPHS, base, redis_server.url, port=subgraph_port))
    host_client = httpx.AsyncClient(base_url=host.url, timeout=60)
    admin = await sign_up(host_client, path="/accounts/graphql", tenant_name="Platform Ops")
    tenant = (await gql(host_client, TENANT, token=admin["token"], path="/accounts/graphql"))["data"]["me"][
        "tenant"
    ]["id"]
    admin_key = await api_key_at(host_client, admin["token"])
    settings = base.model_copy(update={"registry_admin_tenants": tenant})
    database = Database(settings.resolved_database_url)
    await publish_platform(Registry(database, settings), definitions(settings, SUBGRAPHS))
    registry = ServerThread(create_registry_app(settings), port=registry_port).start()
    router = RouterProcess(
        f"{registry.url}/supergraph.graphql",
        port=settings.router_port,
        log_path=tmp_path / "router.log",
        env={
            "SUPERGRAPH_TOKEN": ROUTER_TOKEN,
            "USAGE_REPORT_URL": f"{registry.url}/usage",
            "USAGE_REPORT_TOKEN": ROUTER_TOKEN,
            "USAGE_REPORT_INTERVAL_MS": "300",
        },
    )
    await router.astart()

    async def restart_registry() -> None:
        nonlocal registry
        registry.stop()
        registry = ServerThread(create_registry_app(settings), port=registry_port).start()

    try:
        async with httpx.AsyncClient(base_url=router.url, timeout=60) as router_client:
            yield Stack(settings, registry.url, router_client, host_client, admin_key, restart_registry)
    finally:
        await asyncio.to_thread(router.stop)
        registry.stop()
        await host_client.aclose()
        exits.close()
        await database.dispose()


async def api_key_at(host: httpx.AsyncClient, token: str) -> str:
    accounts = httpx.AsyncClient(base_url=f"{str(host.base_url).rstrip('/')}/accounts", timeout=30)
    try:
        return await api_key(accounts, token, ["registry:write"])
    finally:
        await accounts.aclose()


async def _registry(stack: Stack, query: str, variables: dict[str, Any] | None, key: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.registry_url, timeout=120) as client:
        return await gql(client, query, variables, token=key)


async def _partner(stack: Stack, name: str, pattern: str) -> str:
    owner = await sign_up(stack.host, path="/accounts/graphql", tenant_name=name)
    tenant = (await gql(stack.host, TENANT, token=owner["token"], path="/accounts/graphql"))["data"]["me"][
        "tenant"
    ]["id"]
    accounts = httpx.AsyncClient(base_url=f"{str(stack.host.base_url).rstrip('/')}/accounts", timeout=30)
    try:
        key = await api_key(accounts, owner["token"], ["registry:check", "registry:publish"])
    finally:
        await accounts.aclose()
    team = await _registry(
        stack,
        "mutation($n: String!, $t: String!) { createTeam(name: $n, tenantId: $t) { id } }",
        {"n": name, "t": tenant},
        stack.admin_key,
    )
    team_id = team["data"]["createTeam"]["id"]
    await _registry(
        stack,
        "mutation($t: ID!, $p: String!) { grantSubgraphName(teamId: $t, pattern: $p) { pattern } }",
        {"t": team_id, "p": pattern},
        stack.admin_key,
    )
    return key


async def test_a_partner_subgraph_goes_live_and_traffic_guards_it(stack):
    merch = ServerThread(merch_app()).start()
    try:
        key = await _partner(stack, "Merch Co", "merch")
        merch_input = {"subgraph": "merch", "schema": MERCH_SDL, "url": f"{merch.url}/graphql"}
        published = await _registry(stack, PUBLISH, {"i": merch_input}, key)
        assert published["data"]["publishSchema"]["passed"], published

        fan = await sign_up(stack.router)
        shop: dict[str, Any] = {}

        async def served() -> bool:
            body = await gql(
                stack.router, SHOP_QUERY, {"id": ARTIST}, token=fan["token"], headers=SHOP_CLIENT
            )
            shop.update(body)
            return "errors" not in body and body["data"]["artist"] is not None

        await _eventually(served, 45, "the router to serve merchItems (it polls the registry)")
        assert shop["data"]["artist"]["merchItems"][1] == {"name": "Vinyl", "price": 32.5}

        async def reported() -> bool:
            usage = await _registry(stack, "{ fieldUsage { coordinate count } }", None, key)
            return any(row["coordinate"] == "MerchItem.price" for row in usage["data"]["fieldUsage"])

        await _eventually(reported, 30, "the router's usage report of MerchItem.price")

        used = (await _registry(stack, CHECK, {"i": {**merch_input, "schema": WITHOUT_PRICE}}, key))["data"][
            "checkSchema"
        ]
        assert not used["passed"]
        finding = next(f for f in used["check"]["findings"] if f["coordinate"] == "MerchItem.price")
        assert finding["operations"][0]["name"] == "ArtistShop"
        assert {"name": "shop-web", "version": "1.4.2"}.items() <= finding["clients"][0].items()

        unused = (await _registry(stack, CHECK, {"i": {**merch_input, "schema": WITHOUT_SKU}}, key))["data"][
            "checkSchema"
        ]
        assert unused["passed"]
        assert any(
            f["coordinate"] == "MerchItem.sku" and f["severity"] == "warning"
            for f in unused["check"]["findings"]
        )

        conflict = (await _registry(stack, CHECK, {"i": {**merch_input, "schema": CONFLICTING}}, key))[
            "data"
        ]["checkSchema"]
        assert not conflict["passed"]
        assert any(
            f["kind"] == "composition" and "Artist.name" in f["message"]
            for f in conflict["check"]["findings"]
        )

        intruder = await _partner(stack, "Knockoffs", "knockoff-*")
        assert codes(await _registry(stack, PUBLISH, {"i": merch_input}, intruder)) == ["FORBIDDEN"]

        before = await _state(stack, key)
        await stack.restart_registry()
        assert await _state(stack, key) == before
        assert await served()  # the router kept serving through the restart
    finally:
        merch.stop()


async def _state(stack: Stack, key: str) -> tuple[Any, ...]:
    """What the registry knows: the supergraph it serves, versions, checks."""
    async with httpx.AsyncClient(base_url=stack.registry_url, timeout=60) as client:
        router = {"Authorization": f"Bearer {ROUTER_TOKEN}"}
        etag = (await client.get("/supergraph.graphql", headers=router)).headers["etag"]
    versions = await _registry(stack, '{ versions(subgraph: "merch") { id } }', None, key)
    checks = await _registry(stack, '{ checks(subgraph: "merch", first: 50) { id passed } }', None, key)
    return etag, versions["data"], checks["data"]
