"""GraphiQL at GET /graphql must work on a machine with no internet."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CDNS = ("cdn.jsdelivr", "jsdelivr.net", "unpkg.com", "esm.sh", "cdnjs", "googleapis", "skypack", "gstatic")


async def test_graphiql_page_references_nothing_outside(stack):
    async with httpx.AsyncClient(base_url=stack.router_url, timeout=30) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Spotify Agent API</title>" in page.text
    assert (
        re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page.text)
        == []
    )
    assert [cdn for cdn in CDNS if cdn in page.text] == []


@pytest.mark.browser
def test_graphiql_renders_and_runs_a_query_in_headless_chromium_offline(stack, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium")
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []

    def loopback_only(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", loopback_only)
            page.goto(f"{stack.router_url}/graphql", wait_until="load", timeout=60_000)
            page.wait_for_selector(".graphiql-container", timeout=60_000)
            assert page.title() == "Spotify Agent API"

            editor = page.locator(".graphiql-query-editor .monaco-editor").first
            editor.wait_for(timeout=60_000)
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
            page.keyboard.insert_text("{ tracks { title plays } }")
            page.keyboard.press("Control+Shift+End")  # drop a brace the editor may have auto-closed
            page.keyboard.press("Delete")
            page.locator(".graphiql-execute-button").click()
            # Monaco renders spaces as U+00A0.
            page.wait_for_function(
                "() => (document.querySelector('.graphiql-response')?.innerText || '')"
                ".replace(/\\u00a0/g, ' ').includes('\"Let It Be\"')",
                timeout=60_000,
            )
            response = page.locator(".graphiql-response").inner_text().replace("\u00a0", " ")
            page.screenshot(path=str(tmp_path / "graphiql.png"))
        finally:
            browser.close()
    assert '"plays": 1002' in response
    assert outside == [], f"GraphiQL reached outside this machine: {outside}"
