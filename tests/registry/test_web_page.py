"""The registry's page in headless Chromium, offline: it renders, and a publish the test
makes appears on it (subgraph and owner, versions with a diff, checks, supergraph, usage)."""

from __future__ import annotations

import pytest

from gateway.registry.app import create_registry_app
from gateway.subgraphs import SUBGRAPHS
from tests.registry.conftest import CHECK, MERCH_URL, PUBLISH
from tests.router.test_graphiql import CHROMIUM, CHROMIUM_ARGS
from tests.support.partner import CONFLICTING, MERCH_SDL, WITHOUT_SKU
from tests.support.servers import ServerThread

pytestmark = pytest.mark.browser


async def test_page_shows_what_was_published(registry):
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium")
    from playwright.async_api import Route, async_playwright

    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    for sdl in (MERCH_SDL, WITHOUT_SKU):
        published = await registry.gql(
            PUBLISH, {"i": {"subgraph": "merch", "schema": sdl, "url": MERCH_URL}}, key
        )
        assert published["data"]["publishSchema"]["passed"], published
    await registry.gql(CHECK, {"i": {"subgraph": "merch", "schema": CONFLICTING}}, key)

    server = ServerThread(create_registry_app(registry.settings)).start()
    outside: list[str] = []

    async def loopback_only(route: Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(http_credentials={"username": "merch", "password": key})
                await page.route("**/*", loopback_only)
                await page.goto(f"{server.url}/")
                assert await page.title() == "Schema registry"
                merch_row = page.locator("#subgraphs tr.subgraph", has_text="merch")
                assert "Merch Co" in await merch_row.inner_text()
                assert (
                    await page.locator("#subgraphs tr.subgraph").count() == len(SUBGRAPHS) + 1
                )  # ours, theirs
                await page.locator("#versions-merch + ul details summary").first.click()
                assert (
                    "sku: String!"
                    in await page.locator("#versions-merch + ul details pre").first.inner_text()
                )
                failed = page.locator("#checks tr.check", has_text="failed").first
                assert "composition" in await failed.inner_text()
                assert "MerchItem" in await page.locator("#supergraph").inner_text()
                assert await page.locator("#usage").count() == 1
            finally:
                await browser.close()
    finally:
        server.stop()
    assert outside == []
