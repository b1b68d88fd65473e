"""The accounts flows as a client sees them: through the real router, over HTTP, WS and SSE."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support.graphql import PASSWORD, codes, gql, sign_up
from tests.support.secrets import remember_secret
from tests.support.ws import GraphQLWebSocket

pytestmark = pytest.mark.e2e


@pytest.fixture
async def router(platform):
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as client:
        yield client


async def test_sign_up_log_in_and_me_through_the_router(router):
    account = await sign_up(router)
    body = await gql(
        router,
        "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken } }",
        {"i": {"email": account["email"], "password": PASSWORD}},
    )
    session = body["data"]["logIn"]
    remember_secret(session["accessToken"], session["refreshToken"])
    me = await gql(
        router, "{ me { id displayName email role tenant { name } } }", token=session["accessToken"]
    )
    assert "errors" not in me, me
    assert me["data"]["me"]["id"] == account["user"]["id"]
    assert me["data"]["me"]["email"] == account["email"]


async def test_field_level_denial_keeps_the_rest_of_the_response(router):
    owner = await sign_up(router)
    invite = await gql(
        router, "mutation { createInvitation(input: {role: MEMBER}) { code } }", token=owner["token"]
    )
    code = invite["data"]["createInvitation"]["code"]
    remember_secret(code)
    member = await sign_up(router, invitation_code=code, display_name="Member")
    body = await gql(
        router,
        "query($id: ID!) { user(id: $id) { id displayName email } }",
        {"id": owner["user"]["id"]},
        token=member["token"],
    )
    assert body["data"]["user"]["displayName"] == "Ada Lovelace"
    assert body["data"]["user"]["email"] is None
    assert codes(body) == ["FORBIDDEN"]


async def test_concurrent_identical_queries_of_different_users_are_never_merged(router):
    alice, bob = await sign_up(router), await sign_up(router)
    calls = [gql(router, "{ me { id } }", token=user["token"]) for _ in range(10) for user in (alice, bob)]
    results = await asyncio.gather(*calls)
    assert [r["data"]["me"]["id"] for r in results] == [alice["user"]["id"], bob["user"]["id"]] * 10
    anonymous = await gql(router, "{ me { id } }")
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_bad_token_through_the_router(router):
    body = await gql(router, "{ me { id } }", token="forged.token.value")
    assert body.get("data") in (None, {"me": None})
    assert "UNAUTHENTICATED" in codes(body)


@pytest.mark.realtime
async def test_subscription_over_websocket_with_token_in_connection_init(platform, router):
    account = await sign_up(router)
    url = platform.router_url.replace("http", "ws") + "/graphql"
    async with GraphQLWebSocket(url, {"Authorization": f"Bearer {account['token']}"}) as ws:
        assert (await ws.ack())["type"] == "connection_ack"
        await ws.subscribe("subscription { accountEvents { kind sessionId } }")
        first = await ws.next(timeout=30)
        assert first["type"] == "next", first
        assert first["payload"]["data"]["accountEvents"]["kind"] == "HEARTBEAT"
        await gql(router, "mutation { logOut { sessionId } }", token=account["token"])
        kinds = []
        while True:
            message = await ws.next(timeout=30)
            if message["type"] != "next":
                break
            kinds.append(message["payload"]["data"]["accountEvents"]["kind"])
        assert kinds[-1] == "SESSION_REVOKED"


@pytest.mark.realtime
async def test_subscription_over_sse(platform, router):
    account = await sign_up(router)
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {account['token']}"}
    query = {"query": "subscription { accountEvents { kind } }"}
    async with router.stream("POST", "/graphql", json=query, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data:") and line[5:].strip():
                event = json.loads(line[5:])
                assert event["data"]["accountEvents"]["kind"] == "HEARTBEAT", event
                break
