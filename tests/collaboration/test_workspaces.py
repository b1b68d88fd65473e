"""Workspaces, roles and invitations: Casbin with the workspace as the domain."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from shared.db import utcnow
from subgraphs.collaboration.models import Invitation
from tests.collaboration.conftest import ACCEPT, INVITE, TENANT_INVITE, make_team
from tests.support.graphql import codes, gql, sign_up
from tests.support.secrets import remember_secret

MEMBERS = """query($id: ID!) { workspace(id: $id) { id name myRole
  members(first: 20) { edges { node { role email user { id } } } } } }"""
CHANGE_ROLE = """mutation($i: ChangeWorkspaceMemberRoleInput!) { changeWorkspaceMemberRole(input: $i) {
  member { role user { id } } } }"""
REMOVE = """mutation($i: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $i) { userId } }"""
MY_WORKSPACES = """query($r: [_Any!]!) { _entities(representations: $r) { ... on User {
  workspaces(first: 10) { edges { node { id myRole } } } } } }"""


async def test_roles_invitations_and_member_emails(collab):
    team = await make_team(collab)
    owner, editor, viewer = team.tokens["OWNER"], team.tokens["EDITOR"], team.tokens["VIEWER"]
    seen = await collab.ok(MEMBERS, {"id": team.workspace_id}, owner)
    assert seen["workspace"]["myRole"] == "OWNER"
    assert {e["node"]["role"] for e in seen["workspace"]["members"]["edges"]} == {
        "OWNER",
        "EDITOR",
        "COMMENTER",
        "VIEWER",
    }

    by_email = await collab.ok(
        INVITE,
        {"i": {"workspaceId": team.workspace_id, "role": "VIEWER", "email": "Fan@Example.com"}},
        editor,
    )
    assert by_email["createWorkspaceInvitation"]["invitation"]["email"] == "fan@example.com"
    remember_secret(by_email["createWorkspaceInvitation"]["code"])
    too_high = await collab.gql(INVITE, {"i": {"workspaceId": team.workspace_id, "role": "OWNER"}}, editor)
    assert codes(too_high) == ["FORBIDDEN"]
    assert codes(
        await collab.gql(INVITE, {"i": {"workspaceId": team.workspace_id, "role": "VIEWER"}}, viewer)
    ) == ["FORBIDDEN"]

    # Emails of members are for owners: null with FORBIDDEN for anyone else, the rest intact.
    as_viewer = await collab.gql(MEMBERS, {"id": team.workspace_id}, viewer)
    assert set(codes(as_viewer)) == {"FORBIDDEN"}
    assert all(e["node"]["email"] is None for e in as_viewer["data"]["workspace"]["members"]["edges"])
    assert len(as_viewer["data"]["workspace"]["members"]["edges"]) == 4

    mine = await collab.ok(MY_WORKSPACES, {"r": [{"__typename": "User", "id": team.users["VIEWER"]}]}, viewer)
    assert mine["_entities"][0]["workspaces"]["edges"] == [
        {"node": {"id": team.workspace_id, "myRole": "VIEWER"}}
    ]
    theirs = await collab.gql(
        MY_WORKSPACES, {"r": [{"__typename": "User", "id": team.users["VIEWER"]}]}, editor
    )
    assert codes(theirs) == ["FORBIDDEN"]


async def test_invitations_are_single_use_and_expire(collab, database):
    team = await make_team(collab, roles=())
    owner = team.tokens["OWNER"]
    first, second = await _colleague(collab, owner), await _colleague(collab, owner)
    outsider = await sign_up(collab.client, path="/accounts/graphql", tenant_name="Other Label")
    code = (await collab.ok(INVITE, {"i": {"workspaceId": team.workspace_id, "role": "EDITOR"}}, owner))[
        "createWorkspaceInvitation"
    ]["code"]
    remember_secret(code)
    # Another tenant cannot use it; in the tenant it works once.
    assert codes(await collab.gql(ACCEPT, {"i": {"code": code}}, outsider["token"])) == ["BAD_USER_INPUT"]
    joined = await collab.ok(ACCEPT, {"i": {"code": code}}, first["token"])
    assert joined["acceptWorkspaceInvitation"]["workspace"]["myRole"] == "EDITOR"
    reused = await collab.gql(ACCEPT, {"i": {"code": code}}, second["token"])
    assert codes(reused) == ["BAD_USER_INPUT"] and "already used" in reused["errors"][0]["message"]
    assert (await collab.gql(MEMBERS, {"id": team.workspace_id}, second["token"]))["data"][
        "workspace"
    ] is None
    expiring = (await collab.ok(INVITE, {"i": {"workspaceId": team.workspace_id, "role": "VIEWER"}}, owner))[
        "createWorkspaceInvitation"
    ]
    remember_secret(expiring["code"])
    async with collab.db.write() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == expiring["invitation"]["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = await collab.gql(ACCEPT, {"i": {"code": expiring["code"]}}, owner)
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert codes(await collab.gql(ACCEPT, {"i": {"code": "wsi_made-up"}}, owner)) == ["BAD_USER_INPUT"]


async def _colleague(collab, owner_token: str) -> dict:
    """Someone who joined the owner's tenant (not yet the workspace)."""
    code = (
        await gql(
            collab.client,
            TENANT_INVITE,
            {"input": {"role": "MEMBER"}},
            token=owner_token,
            path="/accounts/graphql",
        )
    )["data"]["createInvitation"]["code"]
    remember_secret(code)
    return await sign_up(collab.client, invitation_code=code, path="/accounts/graphql")


async def test_owners_change_roles_and_a_workspace_keeps_an_owner(collab):
    team = await make_team(collab, roles=("EDITOR",))
    owner, editor = team.tokens["OWNER"], team.tokens["EDITOR"]
    change = {"workspaceId": team.workspace_id, "userId": team.users["EDITOR"], "role": "VIEWER"}
    assert codes(await collab.gql(CHANGE_ROLE, {"i": change}, editor)) == ["FORBIDDEN"]
    changed = await collab.ok(CHANGE_ROLE, {"i": change}, owner)
    assert changed["changeWorkspaceMemberRole"]["member"]["role"] == "VIEWER"
    last_owner = {"workspaceId": team.workspace_id, "userId": team.users["OWNER"], "role": "EDITOR"}
    assert codes(await collab.gql(CHANGE_ROLE, {"i": last_owner}, owner)) == ["CONFLICT"]
    leave = {"workspaceId": team.workspace_id, "userId": team.users["OWNER"]}
    assert codes(await collab.gql(REMOVE, {"i": leave}, owner)) == ["CONFLICT"]

    # A member may leave; afterwards the workspace does not exist for them.
    assert await collab.ok(
        REMOVE, {"i": {"workspaceId": team.workspace_id, "userId": team.users["EDITOR"]}}, editor
    )
    gone = await collab.gql(MEMBERS, {"id": team.workspace_id}, editor)
    assert gone["data"]["workspace"] is None
    stranger = await sign_up(collab.client, path="/accounts/graphql")
    assert (await collab.gql(MEMBERS, {"id": team.workspace_id}, stranger["token"]))["data"][
        "workspace"
    ] is None
