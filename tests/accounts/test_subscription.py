"""accountEvents over graphql-transport-ws, authenticated by connection_init."""

from __future__ import annotations

import pytest
import websockets

from tests.support.graphql import gql, sign_up
from tests.support.hosting import runtime_of, served
from tests.support.ws import GraphQLWebSocket

EVENTS = "subscription { accountEvents { id kind sessionId } }"


@pytest.fixture
async def served_accounts(settings, redis_server, database):
    runtime = runtime_of("accounts", settings, redis_server.url, database)
    runtime.services.heartbeat_seconds = 0.2
    with served("accounts", settings, redis_server.url, database, runtime=runtime) as (_, server):
        yield server


@pytest.mark.realtime
async def test_heartbeat_and_session_revoked_end_the_subscription(served_accounts):
    import httpx

    async with httpx.AsyncClient(base_url=served_accounts.url) as client:
        account = await sign_up(client)
        ws_url = served_accounts.url.replace("http", "ws") + "/graphql"
        async with GraphQLWebSocket(ws_url, {"Authorization": f"Bearer {account['token']}"}) as ws:
            assert (await ws.ack())["type"] == "connection_ack"
            await ws.subscribe(EVENTS)
            heartbeat = await ws.next()
            assert heartbeat["type"] == "next"
            assert heartbeat["payload"]["data"]["accountEvents"]["kind"] == "HEARTBEAT"
            await gql(client, "mutation { logOut { sessionId } }", token=account["token"])
            while True:
                message = await ws.next()
                event = message["payload"]["data"]["accountEvents"] if message["type"] == "next" else None
                if event is None or event["kind"] != "HEARTBEAT":
                    break
            assert event is not None and event["kind"] == "SESSION_REVOKED"
            assert (await ws.next())["type"] == "complete"


@pytest.mark.realtime
@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_connection_init_without_valid_token_cannot_subscribe(served_accounts, payload):
    ws_url = served_accounts.url.replace("http", "ws") + "/graphql"
    async with GraphQLWebSocket(ws_url, payload) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.ack()
        assert closed.value.rcvd.code == 4403
