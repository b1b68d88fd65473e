"""The real Hive Gateway in front of the test subgraphs: queries, headers, subscriptions, reloads."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from gateway.composition import write_supergraph
from gateway.router_process import ROUTER_DIR
from tests.router.conftest import INITIAL, Stack, eventually

pytestmark = pytest.mark.e2e

TICKS = "subscription { ticks(count: 3) { n connectionInit forwardedFor } }"


async def post(stack: Stack, query: str, **headers: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.router_url, timeout=10) as client:
        response = await client.post("/graphql", json={"query": query}, headers=headers)
    return response.json()


async def test_health_and_readiness(stack):
    async with httpx.AsyncClient(base_url=stack.router_url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200


async def test_federated_query_spans_both_subgraphs(stack):
    result = await post(stack, "{ tracks { id title plays } }")
    assert result == {
        "data": {
            "tracks": [
                {"id": "1", "title": "Hey Jude", "plays": 1001},
                {"id": "2", "title": "Let It Be", "plays": 1002},
            ]
        }
    }


async def test_authorization_tracing_and_client_address_reach_the_subgraph(stack):
    query = """{ authorization
        requestId: header(name: "x-request-id") traceparent: header(name: "traceparent")
        forwardedFor: header(name: "x-forwarded-for") }"""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    result = await post(
        stack,
        query,
        authorization="Bearer http-token",
        **{"x-request-id": "req-42", "traceparent": traceparent, "x-forwarded-for": "203.0.113.66"},
    )
    assert result["data"] == {
        "authorization": "Bearer http-token",
        "requestId": "req-42",
        "traceparent": traceparent,
        # The socket peer: a client-sent X-Forwarded-For is not believed (no trusted proxy configured).
        "forwardedFor": "127.0.0.1",
    }
    anonymous = await post(stack, "{ authorization }")
    assert anonymous["data"] == {"authorization": None}


def test_client_address_behind_a_trusted_proxy():
    """The config's address rule, run in Node on fake contexts (a second router would cost seconds)."""
    script = """
    const { gatewayConfig } = await import('./gateway.config.mjs');
    const [plugin] = gatewayConfig.plugins();
    const seen = (peer, forwarded) => {
      let out;
      const headers = new Headers(forwarded ? { 'x-forwarded-for': forwarded } : {});
      plugin.onContextBuilding({
        context: { req: { socket: { remoteAddress: peer } }, request: { headers } },
        extendContext: (extension) => { out = extension.clientAddress; },
      });
      return out;
    };
    console.log(JSON.stringify([
      seen('::ffff:10.0.0.2', '198.51.100.7, 10.0.0.3'),
      seen('10.0.0.2', '203.0.113.1, 198.51.100.7'),
      seen('192.0.2.50', '203.0.113.1'),
      seen('10.0.0.2', undefined),
    ]));
    process.exit(0);
    """
    env = {**os.environ, "ROUTER_TRUSTED_PROXIES": "10.0.0.2, 10.0.0.3"}
    env.pop("SUPERGRAPH", None)
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=ROUTER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        "198.51.100.7",  # right-most entry that is not a trusted proxy
        "198.51.100.7",  # entries left of it are the client's own claims
        "192.0.2.50",  # an untrusted peer's header is ignored
        "10.0.0.2",  # a trusted proxy that sent no header is the client
    ]


async def test_identical_concurrent_authorized_queries_each_reach_the_subgraph(stack):
    query = '{ meet(key: "dedupe", expected: 2) }'
    first, second = await asyncio.gather(
        post(stack, query, authorization="Bearer same"), post(stack, query, authorization="Bearer same")
    )
    # Both arrived (each waited for the other): the gateway did not merge them into one upstream call.
    assert first["data"]["meet"] == second["data"]["meet"] == 2


async def ws_init(socket: ClientConnection, payload: dict[str, str]) -> None:
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(await socket.recv())
    assert ack["type"] == "connection_ack", ack


async def ws_run(socket: ClientConnection, query: str, operation_id: str = "1") -> list[dict[str, Any]]:
    """Runs one operation to completion and returns its `next` payloads."""
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}}))
    payloads: list[dict[str, Any]] = []
    async with asyncio.timeout(20):
        while True:
            message = json.loads(await socket.recv())
            assert message.get("id") == operation_id and message["type"] in ("next", "complete"), message
            if message["type"] == "complete":
                return payloads
            payloads.append(message["payload"])


def ws_connect(stack: Stack) -> connect:
    url = stack.router_url.replace("http://", "ws://") + "/graphql"
    return connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])


def tokens(events: list[dict[str, Any]]) -> set[str]:
    """The Authorization values the subgraph saw in its connection_init, over all events."""
    return {json.loads(event["data"]["ticks"]["connectionInit"])["Authorization"] for event in events}


@pytest.mark.parametrize("key", ["Authorization", "authorization"])
async def test_ws_subscription_carries_the_token_to_the_subgraph_connection_init(stack, key):
    async with ws_connect(stack) as socket:
        await ws_init(socket, {key: f"Bearer ws-{key}"})
        events = await ws_run(socket, TICKS)
    assert [event["data"]["ticks"]["n"] for event in events] == [0, 1, 2]
    for event in events:
        tick = event["data"]["ticks"]
        assert json.loads(tick["connectionInit"]) == {"Authorization": f"Bearer ws-{key}"}
        assert tick["forwardedFor"] == "127.0.0.1"


async def test_concurrent_ws_users_never_share_an_upstream_connection(stack):
    async def subscribe(token: str) -> list[dict[str, Any]]:
        async with ws_connect(stack) as socket:
            await ws_init(socket, {"Authorization": token})
            return await ws_run(socket, TICKS)

    alice, bob = await asyncio.gather(subscribe("Bearer alice"), subscribe("Bearer bob"))
    assert tokens(alice) == {"Bearer alice"}
    assert tokens(bob) == {"Bearer bob"}


async def test_query_over_ws_forwards_the_connection_init_token_over_http(stack):
    async with ws_connect(stack) as socket:
        await ws_init(socket, {"authorization": "Bearer ws-query"})
        events = await ws_run(socket, "{ authorization }")
    assert events == [{"data": {"authorization": "Bearer ws-query"}}]


async def test_sse_subscription_carries_the_header_token_to_the_subgraph(stack):
    events: list[dict[str, Any]] = []
    headers = {"accept": "text/event-stream", "authorization": "Bearer sse-token"}
    async with (
        httpx.AsyncClient(base_url=stack.router_url, timeout=20) as client,
        client.stream("POST", "/graphql", json={"query": TICKS}, headers=headers) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "complete":
                    break
            elif line.startswith("data:") and event == "next":
                events.append(json.loads(line.removeprefix("data:")))
    assert [e["data"]["ticks"]["n"] for e in events] == [0, 1, 2]
    assert tokens(events) == {"Bearer sse-token"}


async def test_rewritten_supergraph_is_served_without_restart_every_time(stack):
    async def hello() -> dict[str, Any]:
        return await post(stack, "{ hello }")

    # Deadlines below the 10 s polling interval: the reload must come from watching the file.
    write_supergraph(stack.definitions(*INITIAL, "hello"), stack.supergraph)
    try:
        served = await eventually(lambda: _data(hello()), timeout=5)
        assert served == {"hello": "hello from a subgraph added later"}
    finally:
        # A second atomic replace must reload too (the CLI's own file watcher would have stopped).
        write_supergraph(stack.definitions(*INITIAL), stack.supergraph)
        await eventually(lambda: _gone(hello()), timeout=5)
    assert (await post(stack, "{ tracks { id } }"))["data"]["tracks"][0] == {"id": "1"}


async def _data(pending: Any) -> Any:
    return (await pending).get("data")


async def _gone(pending: Any) -> bool:
    errors = (await pending).get("errors") or []
    return any("hello" in error["message"] for error in errors)
