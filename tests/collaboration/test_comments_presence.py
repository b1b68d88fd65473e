"""Comment threads with mentions and resolve; the activity feed; presence that expires."""

from __future__ import annotations

import time

from shared.redis import create_redis
from subgraphs.collaboration.service import presence
from subgraphs.collaboration.tasks import sweep_presence
from tests.collaboration.conftest import make_project, make_team
from tests.support.graphql import codes

COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  comment { id threadId body mentions { id } resolvedAt author { id } } } }"""
RESOLVE = "mutation($i: CommentIdInput!) { resolveComment(input: $i) { comment { id resolvedAt } } }"
UNRESOLVE = "mutation($i: CommentIdInput!) { unresolveComment(input: $i) { comment { id resolvedAt } } }"
THREADS = (
    "query($id: ID!) { project(id: $id) { comments(first: 50) { edges { node { id threadId body } } } } }"
)
FEED = """query($id: ID!, $after: String) { workspace(id: $id) {
  activity(first: 2, after: $after) { edges { node { kind projectId actor { id } } } pageInfo { hasNextPage endCursor } } } }"""
PRESENCE = (
    "mutation($i: UpdatePresenceInput!) { updatePresence(input: $i) { present { viewing user { id } } } }"
)
WHO = "query($id: ID!) { workspace(id: $id) { presence { viewing user { id } } } }"


async def test_threads_mentions_and_resolving(collab):
    team = await make_team(collab, roles=("COMMENTER", "VIEWER"))
    project = await make_project(collab, team)
    commenter = team.tokens["COMMENTER"]
    opened = await collab.ok(
        COMMENT,
        {"i": {"projectId": project["id"], "body": "Swap 2 and 3?", "mentions": [team.users["OWNER"]]}},
        commenter,
    )
    root = opened["addComment"]["comment"]
    assert root["threadId"] == root["id"] and root["mentions"] == [{"id": team.users["OWNER"]}]
    reply = (
        await collab.ok(
            COMMENT,
            {"i": {"projectId": project["id"], "body": "Done", "replyTo": root["id"]}},
            team.tokens["OWNER"],
        )
    )["addComment"]["comment"]
    assert reply["threadId"] == root["id"]

    assert codes(await collab.gql(RESOLVE, {"i": {"id": reply["id"]}}, commenter)) == ["BAD_USER_INPUT"]
    resolved = await collab.ok(RESOLVE, {"i": {"id": root["id"]}}, commenter)
    assert resolved["resolveComment"]["comment"]["resolvedAt"]
    reopened = await collab.ok(UNRESOLVE, {"i": {"id": root["id"]}}, commenter)
    assert reopened["unresolveComment"]["comment"]["resolvedAt"] is None

    bad = [
        ({"projectId": project["id"], "body": "   "}, "BAD_USER_INPUT"),
        ({"projectId": project["id"], "body": "hi", "mentions": ["usr_not_a_member"]}, "BAD_USER_INPUT"),
        ({"projectId": project["id"], "body": "hi", "replyTo": "cmt_missing"}, "NOT_FOUND"),
    ]
    for variables, code in bad:
        assert codes(await collab.gql(COMMENT, {"i": variables}, commenter)) == [code]
    viewer = await collab.gql(
        COMMENT, {"i": {"projectId": project["id"], "body": "hi"}}, team.tokens["VIEWER"]
    )
    assert codes(viewer) == ["FORBIDDEN"]
    threads = await collab.ok(THREADS, {"id": project["id"]}, team.tokens["VIEWER"])
    assert [e["node"]["body"] for e in threads["project"]["comments"]["edges"]] == ["Swap 2 and 3?", "Done"]


async def test_activity_feed_is_paginated_newest_first(collab):
    team = await make_team(collab, roles=())
    project = await make_project(collab, team)
    kinds, after = [], None
    while True:
        page = (await collab.ok(FEED, {"id": team.workspace_id, "after": after}, team.tokens["OWNER"]))[
            "workspace"
        ]["activity"]
        kinds += [edge["node"]["kind"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert kinds == ["PROJECT_CREATED", "MEMBER_JOINED"]
    assert project["id"]


async def test_presence_expires_when_a_client_vanishes(collab):
    team = await make_team(collab, roles=("VIEWER",))
    joined = await collab.ok(
        PRESENCE, {"i": {"workspaceId": team.workspace_id, "viewing": "prj_x"}}, team.tokens["VIEWER"]
    )
    assert joined["updatePresence"]["present"] == [{"viewing": "prj_x", "user": {"id": team.users["VIEWER"]}}]
    await collab.ok(PRESENCE, {"i": {"workspaceId": team.workspace_id}}, team.tokens["OWNER"])
    who = (await collab.ok(WHO, {"id": team.workspace_id}, team.tokens["OWNER"]))["workspace"]["presence"]
    assert {entry["user"]["id"] for entry in who} == {team.users["VIEWER"], team.users["OWNER"]}

    # The viewer's client vanishes: no more heartbeats; their entry runs out.
    redis = create_redis(collab.runtime.redis_url)  # the runtime's client lives on the server's loop
    await redis.zadd(f"collab:presence:{team.workspace_id}", {team.users["VIEWER"]: time.time() - 1})
    who = (await collab.ok(WHO, {"id": team.workspace_id}, team.tokens["OWNER"]))["workspace"]["presence"]
    assert [entry["user"]["id"] for entry in who] == [team.users["OWNER"]]
    swept = await sweep_presence({"platform_redis": redis})
    assert swept == {"gone": 1}
    assert [e.user_id for e in await presence.present(redis, team.workspace_id)] == [team.users["OWNER"]]
    stranger = await collab.gql(PRESENCE, {"i": {"workspaceId": "wks_unknown"}}, team.tokens["OWNER"])
    assert codes(stranger) == ["NOT_FOUND"]
    await redis.aclose()
