"""Router behaviour a developer relies on: hot reload, composition errors, offline GraphiQL."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import strawberry
from graphql import get_introspection_query
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.composition import CompositionError, SubgraphDefinition, compose_supergraph, write_supergraph
from gateway.host import definitions
from gateway.subgraphs import SUBGRAPHS
from tests.support.servers import ServerThread

pytestmark = pytest.mark.e2e


def _partner_subgraph() -> tuple[str, object]:
    @strawberry.type
    class Query:
        @strawberry.field(description="Says hello.")
        def hello(self) -> str:
            return "hello from a new subgraph"

    schema = strawberry.federation.Schema(query=Query, federation_version="2.9")
    return schema.as_str(), Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])])


async def test_recomposed_supergraph_is_served_without_restart(platform):
    sdl, app = _partner_subgraph()
    partner = ServerThread(app).start()
    original = platform.supergraph.read_text()
    try:
        subgraphs = [
            *definitions(platform.settings, SUBGRAPHS),
            SubgraphDefinition("hello", f"{partner.url}/graphql", sdl),
        ]
        write_supergraph(subgraphs, platform.supergraph)

        served: dict = {}

        async def probe() -> bool:
            async with httpx.AsyncClient(base_url=platform.router_url) as client:
                served.update((await client.post("/graphql", json={"query": "{ hello }"})).json())
            return served.get("data") == {"hello": "hello from a new subgraph"}

        deadline = asyncio.get_running_loop().time() + 30
        while not await probe() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert served.get("data") == {"hello": "hello from a new subgraph"}, served
    finally:
        platform.supergraph.write_text(original)
        partner.stop()


def test_composition_errors_name_the_problem():
    one = SubgraphDefinition(
        "one",
        "http://127.0.0.1:1/graphql",
        'type Query { track(id: ID!): Track }\ntype Track @key(fields: "id") { id: ID! length: Int }',
    )
    two = SubgraphDefinition(
        "two",
        "http://127.0.0.1:2/graphql",
        'type Query { other: Track }\ntype Track @key(fields: "id") { id: ID! length: String }',
    )
    with pytest.raises(CompositionError) as failure:
        compose_supergraph([one, two])
    assert any("Track.length" in error for error in failure.value.errors)


async def test_graphiql_page_needs_no_internet(platform):
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    external = re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?://", page.text)
    assert external == []
    for cdn in ("cdn.jsdelivr", "unpkg.com", "esm.sh", "cdnjs"):
        assert cdn not in page.text


@pytest.mark.browser
def test_graphiql_runs_a_query_in_headless_chromium_offline(platform):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()

            def only_loopback(route):  # the machine has no internet: prove the page needs none
                if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            page.route("**/*", only_loopback)
            page.goto(f"{platform.router_url}/graphql", wait_until="load", timeout=60_000)
            page.wait_for_selector(".graphiql-container", timeout=60_000)
            page.locator(".graphiql-query-editor .monaco-editor").first.click()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
            page.keyboard.insert_text("{ __typename }")
            # Monaco may auto-close the brace: drop whatever follows the cursor.
            page.keyboard.press("Control+Shift+End")
            page.keyboard.press("Delete")
            page.locator(".graphiql-execute-button").click()
            page.wait_for_function(
                "() => /__typename\"\\s*:\\s*\"Query/.test(document.querySelector('.graphiql-response')?.innerText || '')",
                timeout=60_000,
            )
            page.screenshot(path="/tmp/spotify-agent-graphiql.png")
        finally:
            browser.close()
    assert outside == [], "GraphiQL tried to fetch from outside this machine"


async def test_the_router_refuses_deep_or_huge_documents_before_calling_a_subgraph(platform):
    levels = 14
    deep = "{ me { " + "tenant { members { edges { node { " * 3 + "id" + " } } } }" * 3 + " } }"
    assert deep.count("{") == levels
    huge = "{ " + " ".join(f"a{n}: __typename" for n in range(1500)) + " }"
    before = sum(platform.fetches.values())
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as client:
        too_deep = (await client.post("/graphql", json={"query": deep})).json()
        too_big = (await client.post("/graphql", json={"query": huge})).json()
        introspection = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
    assert [e["extensions"]["code"] for e in too_deep["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert f"found {levels}" in too_deep["errors"][0]["message"]
    assert [e["extensions"]["code"] for e in too_big["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    assert sum(platform.fetches.values()) == before
    assert "errors" not in introspection and introspection["data"]["__schema"]["types"]  # exempt from depth


INTROSPECTION = get_introspection_query()
