"""collaboration emits its domain events (from service.py, in the mutation's transaction)
through real mutations; the workspace live stream is untouched and no invitation code leaks."""

from __future__ import annotations

from redis.asyncio import Redis

from tests.collaboration.conftest import INVITE, UPDATE, collab, make_project, make_team  # noqa: F401
from tests.collaboration.test_comments_presence import COMMENT, RESOLVE
from tests.collaboration.test_projects import DELETE, RESTORE, UNDELETE
from tests.support.domain_events import assert_no_secrets, domain_stream
from tests.support.secrets import remember_secret

ROLE = "mutation($i: ChangeWorkspaceMemberRoleInput!) { changeWorkspaceMemberRole(input: $i) { member { role } } }"
REMOVE = "mutation($i: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $i) { userId } }"


def _edit(project_id: str, version: int, track: str) -> dict:
    return {
        "i": {
            "id": project_id,
            "version": version,
            "operations": [{"op": "add", "path": "/trackIds/-", "value": track}],
        }
    }


async def test_collaboration_mutations_emit_typed_events(collab, redis_server):  # noqa: F811
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        team = await make_team(collab, roles=("EDITOR",))
        owner, editor = team.tokens["OWNER"], team.tokens["EDITOR"]
        owner_id, editor_id, ws = team.users["OWNER"], team.users["EDITOR"], team.workspace_id
        invited = await collab.ok(
            INVITE, {"i": {"workspaceId": ws, "role": "VIEWER", "email": "Mo@Example.com"}}, owner
        )
        code = invited["createWorkspaceInvitation"]["code"]
        remember_secret(code)
        project = await make_project(collab, team)
        pid = project["id"]
        await collab.ok(UPDATE, _edit(pid, 1, "t1"), editor)
        await collab.ok(RESTORE, {"i": {"id": pid, "version": 2, "restore": 1}}, editor)
        await collab.ok(DELETE, {"i": {"id": pid}}, editor)
        await collab.ok(UNDELETE, {"i": {"id": pid}}, editor)
        comment = (
            await collab.ok(
                COMMENT, {"i": {"projectId": pid, "body": "Swap 2 and 3?", "mentions": [owner_id]}}, editor
            )
        )["addComment"]["comment"]
        await collab.ok(RESOLVE, {"i": {"id": comment["id"]}}, owner)
        await collab.ok(ROLE, {"i": {"workspaceId": ws, "userId": editor_id, "role": "COMMENTER"}}, owner)
        await collab.ok(REMOVE, {"i": {"workspaceId": ws, "userId": editor_id}}, owner)

        events = await domain_stream(redis, "collaboration")
        seen = [(event.type, event.actor_id) for event in events]
        assert seen == [
            ("collaboration.workspace.created", owner_id),
            ("collaboration.member.added", owner_id),
            ("collaboration.invitation.created", owner_id),  # the editor's
            ("collaboration.member.added", editor_id),
            ("collaboration.invitation.created", owner_id),  # the viewer's, by email
            ("collaboration.project.created", owner_id),
            ("collaboration.project.changed", editor_id),
            ("collaboration.project.changed", editor_id),
            ("collaboration.project.deleted", editor_id),
            ("collaboration.project.restored", editor_id),
            ("collaboration.comment.added", editor_id),
            ("collaboration.comment.resolved", owner_id),
            ("collaboration.member.role_changed", owner_id),
            ("collaboration.member.removed", owner_id),
        ]
        tenant = events[0].tenant_id
        assert tenant and all(event.tenant_id == tenant for event in events)
        by_type = {event.type: event.payload for event in events}
        assert events[0].payload == {"workspace_id": ws, "name": "Album launch", "owner_id": owner_id}
        invitation = events[4].payload
        assert invitation["email"] == "mo@example.com" and invitation["role"] == "viewer"
        assert (
            invitation["workspace_id"] == ws
            and invitation["invited_by"] == owner_id
            and invitation["expires_at"]
        )
        assert events[3].payload == {
            "workspace_id": ws, "user_id": editor_id, "role": "editor", "invitation_id": events[2].payload["invitation_id"],
        }  # fmt: skip
        created = by_type["collaboration.project.created"]
        assert (created["project_id"], created["version"], created["type"]) == (pid, 1, "playlist_draft")
        assert created["title"] == "Summer draft" and created["content"] == project["content"]
        edited, restored = events[6].payload, events[7].payload
        assert (edited["version"], edited["restored_from"], edited["content"]["trackIds"]) == (
            2,
            None,
            ["t1"],
        )
        assert (restored["version"], restored["restored_from"]) == (3, 1)
        assert restored["content"] == created["content"]
        assert by_type["collaboration.project.deleted"] == {
            "workspace_id": ws,
            "project_id": pid,
            "version": 3,
        }
        assert by_type["collaboration.comment.added"] == {
            "workspace_id": ws, "project_id": pid, "comment_id": comment["id"], "thread_id": comment["id"],
            "author_id": editor_id, "body": "Swap 2 and 3?", "mentions": [owner_id],
        }  # fmt: skip
        assert by_type["collaboration.comment.resolved"] == {
            "workspace_id": ws, "project_id": pid, "comment_id": comment["id"],
        }  # fmt: skip
        assert by_type["collaboration.member.role_changed"] == {
            "workspace_id": ws, "user_id": editor_id, "role": "commenter", "previous_role": "editor",
        }  # fmt: skip
        assert by_type["collaboration.member.removed"] == {
            "workspace_id": ws,
            "user_id": editor_id,
            "role": "commenter",
        }
        await assert_no_secrets(redis, "collaboration", [code, owner, editor])
        assert await redis.xlen(f"collab:workspace:{ws}") > 0  # the live stream still gets its events
    finally:
        await redis.aclose()
