"""The router refuses request bodies above ROUTER_MAX_BODY_BYTES (1 MiB by default) with 413
before parsing them, whether Content-Length announces the size or the body is chunked; a body
under the limit is served as before."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.router.conftest import Stack

pytestmark = pytest.mark.e2e

LIMIT = 1024 * 1024


def _document(size: int) -> bytes:
    padding = "x" * max(0, size - 60)
    return f'{{"query": "{{ tracks {{ id }} }}", "variables": {{"pad": "{padding}"}}}}'.encode()


async def test_a_body_over_the_limit_is_refused_with_413(stack: Stack):
    async with httpx.AsyncClient(base_url=stack.router_url, timeout=30) as client:
        served = await client.post(
            "/graphql", content=_document(LIMIT - 1024), headers={"content-type": "application/json"}
        )
        assert served.status_code == 200 and served.json()["data"]["tracks"]

        refused = await client.post(
            "/graphql", content=_document(20 * LIMIT), headers={"content-type": "application/json"}
        )
        assert refused.status_code == 413
        assert refused.json()["errors"][0]["extensions"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


async def test_a_chunked_body_over_the_limit_is_refused_with_413(stack: Stack):
    body = _document(3 * LIMIT)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async with httpx.AsyncClient(base_url=stack.router_url, timeout=30) as client:
        refused = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"]["code"] == "REQUEST_ENTITY_TOO_LARGE"
