"""A subgraph refuses GraphQL request bodies above MAX_BODY_BYTES with 413 before parsing,
announced (Content-Length) or chunked, and changes nothing; its storage file routes, which
take uploads far larger, are not limited by it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from tests.support.graphql import SIGN_UP


def _sign_up(padding: int) -> bytes:
    variables = {
        "input": {
            "email": "big@example.com",
            "password": "correct-horse-battery",
            "displayName": "x" * padding,
            "tenantName": "Big Label",
            "consents": {"terms": True, "dataProcessing": True, "marketing": False},
        }
    }
    return json.dumps({"query": SIGN_UP, "variables": variables}).encode()


async def _users(database) -> int:
    from sqlalchemy import func, select

    from subgraphs.accounts.models import User

    async with database.read() as session:
        return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def test_a_body_over_the_limit_is_refused_with_413_and_changes_nothing(accounts, database):
    runtime, client = accounts
    limit = runtime.settings.max_body_bytes
    headers = {"content-type": "application/json"}
    refused = await client.post("/graphql", content=_sign_up(limit + 1), headers=headers)
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"]["code"] == "REQUEST_ENTITY_TOO_LARGE"

    body = _sign_up(2 * limit)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 32 * 1024):
            yield body[start : start + 32 * 1024]

    chunked = await client.post("/graphql", content=chunks(), headers=headers)
    assert chunked.status_code == 413
    assert await _users(database) == 0

    served = await client.post("/graphql", content=_sign_up(100), headers=headers)
    assert served.status_code == 200 and "errors" not in served.json()
    assert await _users(database) == 1
