"""Two users in one workspace through the router, over WebSocket and over SSE: A edits, B
receives the operations and the new version; B drops, A edits twice, B comes back with
`after` its last id and gets both, in order, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.support.graphql import gql, sign_up
from tests.support.secrets import remember_secret
from tests.support.ws import GraphQLWebSocket

pytestmark = [pytest.mark.e2e, pytest.mark.realtime]

EVENTS = """subscription($ws: ID!, $after: String) { workspaceEvents(workspaceId: $ws, after: $after) {
  id kind version operations actor { id displayName } } }"""
UPDATE = "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { version } } }"
PRESENCE = "mutation($i: UpdatePresenceInput!) { updatePresence(input: $i) { present { viewing } } }"


async def _ok(router: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    body = await gql(router, query, variables, token=token)
    assert "errors" not in body, body
    return dict(body["data"])


async def _two_users(router: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """A owns a workspace with a playlist draft; B (same tenant) joined it as an editor."""
    a = await sign_up(router)
    tenant_code = (
        await _ok(router, "mutation { createInvitation(input: {role: MEMBER}) { code } }", {}, a["token"])
    )["createInvitation"]["code"]
    remember_secret(tenant_code)
    b = await sign_up(router, invitation_code=tenant_code, display_name="Bo")
    workspace = (
        await _ok(
            router, 'mutation { createWorkspace(input: {name: "Tour"}) { workspace { id } } }', {}, a["token"]
        )
    )["createWorkspace"]["workspace"]["id"]
    code = (
        await _ok(
            router,
            "mutation($i: CreateWorkspaceInvitationInput!) { createWorkspaceInvitation(input: $i) { code } }",
            {"i": {"workspaceId": workspace, "role": "EDITOR"}},
            a["token"],
        )
    )["createWorkspaceInvitation"]["code"]
    remember_secret(code)
    await _ok(
        router,
        "mutation($i: AcceptWorkspaceInvitationInput!) { acceptWorkspaceInvitation(input: $i) { workspace { id } } }",
        {"i": {"code": code}},
        b["token"],
    )
    project = (
        await _ok(
            router,
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
            {"i": {"workspaceId": workspace, "type": "PLAYLIST_DRAFT", "title": "Setlist"}},
            a["token"],
        )
    )["createProject"]["project"]["id"]
    return a, b, workspace, project


class Edits:
    def __init__(self, router: httpx.AsyncClient, token: str, project: str) -> None:
        self.router, self.token, self.project, self.version = router, token, project, 1

    async def add(self, track: str) -> None:
        operations = [{"op": "add", "path": "/trackIds/-", "value": track}]
        await _ok(
            self.router,
            UPDATE,
            {"i": {"id": self.project, "version": self.version, "operations": operations}},
            self.token,
        )
        self.version += 1


@asynccontextmanager
async def _ws(platform, token: str, variables: dict[str, Any]) -> AsyncIterator[Any]:
    url = platform.router_url.replace("http", "ws") + "/graphql"
    async with GraphQLWebSocket(url, {"Authorization": f"Bearer {token}"}) as ws:
        assert (await ws.ack())["type"] == "connection_ack"
        await ws.subscribe(EVENTS, variables)

        async def read() -> AsyncIterator[dict[str, Any]]:
            while True:
                message = await ws.next(timeout=120)
                assert message["type"] == "next" and "errors" not in message["payload"], message
                yield dict(message["payload"]["data"]["workspaceEvents"])

        async with _queued(read()) as next_event:
            yield next_event


@asynccontextmanager
async def _sse(platform, token: str, variables: dict[str, Any]) -> AsyncIterator[Any]:
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=60) as client:
        async with client.stream(
            "POST", "/graphql", json={"query": EVENTS, "variables": variables}, headers=headers
        ) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith(
                "text/event-stream"
            )

            async def read() -> AsyncIterator[dict[str, Any]]:
                async for line in response.aiter_lines():
                    if line.startswith("data:") and line[5:].strip():
                        payload = json.loads(line[5:])
                        assert "errors" not in payload, payload
                        yield dict(payload["data"]["workspaceEvents"])

            async with _queued(read()) as next_event:
                yield next_event


@asynccontextmanager
async def _queued(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[Any]:
    """Reads events in the background, so waiting for one can time out without cutting a
    read in half."""
    queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        except BaseException as error:  # surfaced to the waiting test
            await queue.put(error)

    task = asyncio.create_task(pump())

    async def next_event(timeout: float = 30) -> dict[str, Any]:
        item = await asyncio.wait_for(queue.get(), timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    try:
        yield next_event
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _live(router, token: str, workspace: str, next_event) -> None:
    """Waits until the subscription delivers (the router opens its upstream subscription
    in its own time): presence changes are the probe, repeated until one comes through."""
    for attempt in range(60):
        await _ok(router, PRESENCE, {"i": {"workspaceId": workspace, "viewing": f"probe-{attempt}"}}, token)
        try:
            while (await next_event(timeout=1))["kind"] != "PRESENCE_CHANGED":
                pass
            return
        except TimeoutError:
            continue
    raise AssertionError("the subscription never became live")


async def _change(next_event) -> dict[str, Any]:
    """The next event that is not a (late) presence probe."""
    while (event := await next_event())["kind"] == "PRESENCE_CHANGED":
        pass
    return event


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_edits_reach_the_other_user_and_resume_after_a_drop(platform, transport):
    connect = _ws if transport == "ws" else _sse
    async with httpx.AsyncClient(base_url=platform.router_url, timeout=60) as router:
        a, b, workspace, project = await _two_users(router)
        edits = Edits(router, a["token"], project)
        async with connect(platform, b["token"], {"ws": workspace}) as next_event:
            await _live(router, b["token"], workspace, next_event)
            await edits.add("t1")
            seen = await _change(next_event)
            assert (seen["kind"], seen["version"], seen["operations"]) == (
                "PROJECT_CHANGED",
                2,
                [{"op": "add", "path": "/trackIds/-", "value": "t1"}],
            )
            assert seen["actor"]["displayName"] == "Ada Lovelace"  # joined from accounts by the router
        await edits.add("t2")
        await edits.add("t3")
        async with connect(platform, b["token"], {"ws": workspace, "after": seen["id"]}) as next_event:
            missed = [await _change(next_event), await _change(next_event)]
            assert [(e["version"], e["operations"][0]["value"]) for e in missed] == [(3, "t2"), (4, "t3")]
            await edits.add("t4")
            assert (await _change(next_event))["version"] == 5  # nothing delivered twice
