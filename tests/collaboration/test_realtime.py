"""workspaceEvents and projectChanges on the subgraph: live edits, resume after a
reconnect, RESYNC_REQUIRED past retention, FORBIDDEN for a removed member, and a failed
append repaired from the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from jose import jwt

from shared.auth import authenticate
from shared.auth.authenticate import revoked_session_key
from shared.redis import create_redis
from subgraphs.collaboration.tasks import repair_event_stream
from tests.collaboration.conftest import UPDATE, make_project, make_team, serve
from tests.support.graphql import gql
from tests.support.ws import GraphQLWebSocket

pytestmark = pytest.mark.realtime

EVENTS = """subscription($ws: ID!, $after: String) { workspaceEvents(workspaceId: $ws, after: $after) {
  id kind projectId version operations actor { id } } }"""
CHANGES = """subscription($p: ID!, $after: String) { projectChanges(projectId: $p, after: $after) { id kind version } }"""
LOG_OUT = "mutation { logOut { sessionId } }"
REMOVE = "mutation($i: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $i) { userId } }"


def track(n: int) -> list[dict[str, Any]]:
    return [{"op": "add", "path": "/trackIds/-", "value": f"t{n}"}]


async def _edit(collab, team, project_id: str, version: int) -> None:
    await collab.ok(
        UPDATE,
        {"i": {"id": project_id, "version": version, "operations": track(version)}},
        team.tokens["EDITOR"],
    )


async def _event(ws: GraphQLWebSocket, field: str = "workspaceEvents") -> dict[str, Any]:
    """The next event, skipping late presence probes."""
    while True:
        message = await ws.next()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event = dict(message["payload"]["data"][field])
        if event["kind"] != "PRESENCE_CHANGED":
            return event


async def _error_code(ws: GraphQLWebSocket) -> str:
    message = await ws.next()
    while message["type"] == "next" and not message["payload"].get("errors"):
        message = await ws.next()  # a late presence probe
    if message["type"] == "error":
        return str(message["payload"][0]["extensions"]["code"])
    assert message["type"] == "next" and message["payload"].get("errors"), message
    return str(message["payload"]["errors"][0]["extensions"]["code"])


async def _subscribe(collab, token: str, query: str, variables: dict[str, Any]) -> GraphQLWebSocket:
    ws = GraphQLWebSocket(collab.ws_url, {"Authorization": f"Bearer {token}"})
    await ws.__aenter__()
    assert (await ws.ack())["type"] == "connection_ack"
    await ws.subscribe(query, variables)
    return ws


async def _subscribed(
    collab, team, query: str, variables: dict[str, Any], role: str = "VIEWER"
) -> GraphQLWebSocket:
    """Subscribes and waits until the subscription is live: presence changes are the probe,
    repeated until one comes through (the subscription attaches in its own time)."""
    ws = await _subscribe(collab, team.tokens[role], query, variables)
    for attempt in range(60):
        await collab.ok(
            "mutation($i: UpdatePresenceInput!) { updatePresence(input: $i) { present { viewing } } }",
            {"i": {"workspaceId": team.workspace_id, "viewing": f"probe-{attempt}"}},
            team.tokens[role],
        )
        try:
            message = await ws.next(timeout=1)
        except TimeoutError:
            continue
        assert (
            message["type"] == "next"
            and message["payload"]["data"]["workspaceEvents"]["kind"] == "PRESENCE_CHANGED"
        )
        return ws
    raise AssertionError("the subscription never became live")


async def test_live_edits_then_resume_after_reconnect_exactly_once(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    ws = await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id})
    await _edit(collab, team, project["id"], 1)
    live = await _event(ws)
    assert (live["kind"], live["version"], live["operations"]) == ("PROJECT_CHANGED", 2, track(1))
    assert live["actor"]["id"] == team.users["EDITOR"]
    await ws.__aexit__()

    await _edit(collab, team, project["id"], 2)
    await _edit(collab, team, project["id"], 3)
    ws = await _subscribe(
        collab, team.tokens["VIEWER"], EVENTS, {"ws": team.workspace_id, "after": live["id"]}
    )
    missed = [await _event(ws), await _event(ws)]
    assert [(e["kind"], e["version"]) for e in missed] == [("PROJECT_CHANGED", 3), ("PROJECT_CHANGED", 4)]
    await _edit(collab, team, project["id"], 4)
    assert (await _event(ws))["version"] == 5  # next comes the new edit: nothing twice
    await ws.__aexit__()


async def test_project_changes_only_carry_that_project(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    watched, other = await make_project(collab, team), await make_project(collab, team)
    ws = await _subscribe(collab, team.tokens["VIEWER"], CHANGES, {"p": watched["id"], "after": "0-0"})
    created = await _event(ws, "projectChanges")
    assert (created["kind"], created["version"]) == ("PROJECT_CREATED", 1)
    await _edit(collab, team, other["id"], 1)
    await _edit(collab, team, watched["id"], 1)
    assert (await _event(ws, "projectChanges"))["version"] == 2
    await ws.__aexit__()


async def test_resync_required_when_the_position_is_no_longer_retained(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    ws = await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id})
    await _edit(collab, team, project["id"], 1)
    seen = await _event(ws)
    await ws.__aexit__()
    for version in range(2, 5):
        await _edit(collab, team, project["id"], version)
    redis = create_redis(collab.runtime.redis_url)
    await redis.xtrim(f"collab:workspace:{team.workspace_id}", maxlen=1, approximate=False)
    await redis.aclose()
    ws = await _subscribe(
        collab, team.tokens["VIEWER"], EVENTS, {"ws": team.workspace_id, "after": seen["id"]}
    )
    assert await _error_code(ws) == "RESYNC_REQUIRED"
    await ws.__aexit__()
    bad = await _subscribe(
        collab, team.tokens["VIEWER"], EVENTS, {"ws": team.workspace_id, "after": "yesterday"}
    )
    assert await _error_code(bad) == "BAD_USER_INPUT"
    await bad.__aexit__()


async def test_a_removed_member_is_cut_off_and_outsiders_never_get_in(collab):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    ws = await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id})
    await collab.ok(
        REMOVE,
        {"i": {"workspaceId": team.workspace_id, "userId": team.users["VIEWER"]}},
        team.tokens["OWNER"],
    )
    assert await _error_code(ws) == "FORBIDDEN"
    assert (await ws.next())["type"] == "complete"
    await ws.__aexit__()
    outsider = await _subscribe(collab, team.tokens["VIEWER"], EVENTS, {"ws": team.workspace_id})
    assert await _error_code(outsider) == "NOT_FOUND"
    await outsider.__aexit__()


async def test_a_logged_out_session_loses_its_subscriptions(collab, monkeypatch):
    monkeypatch.setattr(authenticate, "REVOCATION_RECHECK_SECONDS", 0.0)  # no grace: check every event
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project_id = (await make_project(collab, team))["id"]
    ws = await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id})
    logged_out = await gql(collab.client, LOG_OUT, token=team.tokens["VIEWER"], path="/accounts/graphql")
    assert "errors" not in logged_out, logged_out
    await _edit(collab, team, project_id, 1)
    assert await _error_code(ws) == "UNAUTHENTICATED"
    assert (await ws.next())["type"] == "complete"
    await ws.__aexit__()


async def test_revocation_is_checked_once_per_session_not_per_subscription(collab, monkeypatch):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project_id = (await make_project(collab, team))["id"]
    sockets = [await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id}) for _ in range(3)]
    authenticator = collab.runtimes["collaboration"].authenticator
    authenticator._session_checked.clear()  # forget the checks made while subscribing
    session = jwt.get_unverified_claims(team.tokens["VIEWER"])["sid"]
    redis = authenticator.redis
    exists = redis.exists
    asked: list[tuple[Any, ...]] = []

    async def counted(*keys: Any) -> int:
        asked.append(keys)
        return int(await exists(*keys))

    monkeypatch.setattr(redis, "exists", counted)
    monkeypatch.setattr(authenticate, "REVOCATION_RECHECK_SECONDS", 60.0)
    for version in (1, 2):
        await _edit(collab, team, project_id, version)
        for ws in sockets:
            assert (await _event(ws))["version"] == version + 1
    assert asked.count((revoked_session_key(session),)) == 1  # 3 subscriptions x 2 events, one session
    for ws in sockets:
        await ws.__aexit__()


async def test_an_append_that_failed_after_commit_is_repaired(collab, monkeypatch):
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    ws = await _subscribed(collab, team, EVENTS, {"ws": team.workspace_id})
    streams = collab.runtime.services.event_streams
    real_append = streams.append

    async def redis_gone(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(streams, "append", redis_gone)
    await _edit(collab, team, project["id"], 1)  # committed; its event is not in the stream
    monkeypatch.setattr(streams, "append", real_append)
    redis = create_redis(collab.runtime.redis_url)
    try:
        ctx = {"db": collab.db, "platform_redis": redis}
        assert await repair_event_stream(ctx, older_than=timedelta(0)) == {"repaired": 1}
        assert await repair_event_stream(ctx, older_than=timedelta(0)) == {"repaired": 0}
    finally:
        await redis.aclose()
    repaired = await _event(ws)
    assert (repaired["kind"], repaired["version"]) == ("PROJECT_CHANGED", 2)
    await ws.__aexit__()


async def test_any_replica_serves_any_subscriber(collab, settings, redis_server, database):
    """A second, independent subgraph process (its own runtime and stream readers) shares
    only Redis and the database with the first: edits made on one reach subscribers of the other."""
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    async with serve(settings, redis_server.url, database) as replica:
        ws = await _subscribed(replica, team, EVENTS, {"ws": team.workspace_id})
        await _edit(collab, team, project["id"], 1)
        assert (await _event(ws))["version"] == 2
        await ws.__aexit__()


async def test_live_subscriptions_do_not_hold_database_connections(collab):
    """More subscriptions than the database pool has connections, then ordinary requests:
    they must not wait for a connection a subscription is sitting on."""
    team = await make_team(collab, roles=("EDITOR", "VIEWER"))
    project = await make_project(collab, team)
    sockets = [
        await _subscribe(collab, team.tokens["VIEWER"], EVENTS, {"ws": team.workspace_id}) for _ in range(20)
    ]
    try:
        for version in (1, 2):
            await asyncio.wait_for(_edit(collab, team, project["id"], version), timeout=10)
        for ws in sockets:
            await _event(ws)  # each is live (the first edit may precede a late attach)
    finally:
        for ws in sockets:
            await ws.__aexit__()
