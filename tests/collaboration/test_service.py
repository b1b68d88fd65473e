"""The collaboration rules called directly (no GraphQL): JSON Patch limits and validation of
project content (pure), and on a real session the owner rules of a workspace, invitation
grants and acceptance, and versioned edits. The black-box tests beside this file cover the
ordinary paths; these aim at the edges of each rule."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from shared.auth.principal import Principal
from shared.db import Database, new_id, utcnow
from shared.domain_events.models import OutboxEvent
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.mutations import UnitOfWork
from subgraphs.collaboration import domain_events as de
from subgraphs.collaboration import service
from subgraphs.collaboration.access import ProjectAccess, WorkspaceRole
from subgraphs.collaboration.models import Invitation, Project, WorkspaceMember
from subgraphs.collaboration.service import content
from subgraphs.collaboration.service.content import (
    MAX_CONTENT_BYTES,
    MAX_OPERATIONS,
    MAX_OPERATIONS_BYTES,
    ProjectType,
)
from tests.support.secrets import remember_secret

TENANT = "tnt_collaboration_rules"
DRAFT = {"description": "", "trackIds": ["t1", "t2"]}


def _user(user_id: str, tenant_id: str = TENANT) -> Principal:
    return Principal(kind="user", user_id=user_id, tenant_id=tenant_id, roles=("member",))


OWNER = _user("usr_owner")


@asynccontextmanager
async def _work(database: Database) -> AsyncIterator[UnitOfWork]:
    """A unit of work outside a request: its activity rows are left for the repair job."""
    async with database.write() as session:
        yield UnitOfWork(session)


def _add(track: str) -> dict[str, Any]:
    return {"op": "add", "path": "/trackIds/-", "value": track}


# JSON Patch and content (pure) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "operations",
    [[], [_add("t")] * (MAX_OPERATIONS + 1), {"op": "add"}, "[]", None],
    ids=["none", "too-many", "an-object", "a-string", "null"],
)
def test_one_to_a_hundred_operations_in_a_list(operations: Any) -> None:
    with pytest.raises(BadUserInput) as refused:
        content.check_operations(operations)
    assert refused.value.extensions == {"field": "operations"}


def test_the_operation_limits_accept_their_boundaries() -> None:
    assert len(content.check_operations([_add("t")] * MAX_OPERATIONS)) == MAX_OPERATIONS
    one_big = [{"op": "replace", "path": "/description", "value": ""}]
    room = MAX_OPERATIONS_BYTES - len(json.dumps(one_big))
    one_big[0]["value"] = "x" * room
    assert content.check_operations(one_big) == one_big
    one_big[0]["value"] += "x"
    with pytest.raises(BadUserInput, match="larger than"):
        content.check_operations(one_big)


@pytest.mark.parametrize(
    "operations",
    [
        [_add("t3"), {"op": "test", "path": "/description", "value": "not this"}],
        [_add("t3"), {"op": "remove", "path": "/trackIds/9"}],
        [_add("t3"), {"op": "move", "from": "/nowhere", "path": "/description"}],
        [{"op": "frobnicate", "path": "/description"}],
        [{"op": "add", "value": "no path"}],
    ],
    ids=["failed-test", "missing-index", "missing-from", "unknown-op", "no-path"],
)
def test_one_bad_operation_refuses_the_whole_patch_and_leaves_the_input(operations: Any) -> None:
    before = json.loads(json.dumps(DRAFT))
    with pytest.raises(BadUserInput) as refused:
        content.apply(ProjectType.PLAYLIST_DRAFT, before, operations)
    assert refused.value.extensions == {"field": "operations"}
    assert before == DRAFT


def test_a_patch_whose_result_breaks_the_schema_names_the_path() -> None:
    with pytest.raises(BadUserInput) as refused:
        content.apply(ProjectType.PLAYLIST_DRAFT, DRAFT, [{"op": "add", "path": "/trackIds/-", "value": 7}])
    assert refused.value.extensions == {"field": "operations", "path": "/trackIds/2"}
    with pytest.raises(BadUserInput) as refused:
        content.apply(ProjectType.PLAYLIST_DRAFT, DRAFT, [{"op": "remove", "path": "/description"}])
    assert refused.value.extensions == {"field": "operations", "path": "/"}
    # A whole-document replace is one operation like any other.
    replaced = content.apply(
        ProjectType.PLAYLIST_DRAFT, DRAFT, [{"op": "replace", "path": "", "value": {**DRAFT, "trackIds": []}}]
    )
    assert replaced == {"description": "", "trackIds": []}


def test_content_size_and_shape_per_type() -> None:
    too_big = {"kind": "lyrics", "body": "x" * MAX_CONTENT_BYTES, "assetIds": []}
    with pytest.raises(BadUserInput, match="larger than"):
        content.validate(ProjectType.DOCUMENT, too_big)
    with pytest.raises(BadUserInput) as refused:
        content.validate(
            ProjectType.RELEASE_PLAN, {**content.EMPTY[ProjectType.RELEASE_PLAN], "releaseDate": "soon"}
        )
    assert refused.value.extensions == {"field": "content", "path": "/releaseDate"}
    with pytest.raises(BadUserInput):
        content.validate(ProjectType.PLAYLIST_DRAFT, ["not", "an", "object"])
    for project_type in ProjectType:
        assert content.validate(project_type, content.EMPTY[project_type]) == content.EMPTY[project_type]


# Workspace owners and roles (on a session) ---------------------------------------------------


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def _events(database: Database, type_: str) -> list[dict[str, Any]]:
    async with database.read() as session:
        rows = (await session.execute(select(OutboxEvent).where(col(OutboxEvent.type) == type_))).scalars()
        return [row.payload for row in rows]


async def _workspace(database: Database, **members: str) -> str:
    """A workspace owned by usr_owner, with `user_id=role` members beside."""
    async with _work(database) as uow:
        workspace = await service.create_workspace(uow, OWNER, "  Album launch  ")
        for user_id, role in members.items():
            uow.session.add(
                WorkspaceMember(
                    id=new_id("wsm"), tenant_id=TENANT, workspace_id=workspace.id, user_id=user_id, role=role
                )
            )
    assert workspace.name == "Album launch"
    return workspace.id


async def _change(
    database: Database, workspace_id: str, user_id: str, role: WorkspaceRole
) -> WorkspaceMember:
    async with _work(database) as uow:
        return await service.change_role(uow, OWNER, workspace_id, user_id, role)


async def test_the_last_owner_can_be_neither_demoted_nor_removed(database) -> None:
    workspace_id = await _workspace(database, usr_editor="editor")
    with pytest.raises(Conflict):
        await _change(database, workspace_id, "usr_owner", WorkspaceRole.EDITOR)
    with pytest.raises(Conflict):
        async with _work(database) as uow:
            await service.remove_member(uow, OWNER, workspace_id, "usr_owner")
    assert await _count(database, WorkspaceMember, col(WorkspaceMember.role) == "owner") == 1
    assert await _events(database, de.MemberRoleChanged.TYPE) == []
    assert await _events(database, de.MemberRemoved.TYPE) == []


async def test_with_a_second_owner_the_first_may_step_down(database) -> None:
    workspace_id = await _workspace(database, usr_editor="editor")
    promoted = await _change(database, workspace_id, "usr_editor", WorkspaceRole.OWNER)
    assert (promoted.role, promoted.version) == ("owner", 2)
    demoted = await _change(database, workspace_id, "usr_owner", WorkspaceRole.VIEWER)
    assert demoted.role == "viewer"
    changes = await _events(database, de.MemberRoleChanged.TYPE)
    assert [(c["user_id"], c["previous_role"], c["role"]) for c in changes] == [
        ("usr_editor", "editor", "owner"),
        ("usr_owner", "owner", "viewer"),
    ]


async def test_setting_the_same_role_emits_no_domain_event_and_keeps_the_version(database) -> None:
    workspace_id = await _workspace(database, usr_editor="editor")
    same = await _change(database, workspace_id, "usr_editor", WorkspaceRole.EDITOR)
    assert same.version == 1
    # The sole owner "re-granted" owner: no demotion, so no conflict.
    assert (await _change(database, workspace_id, "usr_owner", WorkspaceRole.OWNER)).role == "owner"
    assert await _events(database, de.MemberRoleChanged.TYPE) == []


async def test_roles_of_non_members_and_other_tenants_are_not_found(database) -> None:
    workspace_id = await _workspace(database)
    with pytest.raises(NotFound):
        await _change(database, workspace_id, "usr_stranger", WorkspaceRole.VIEWER)
    with pytest.raises(NotFound):
        async with _work(database) as uow:
            await service.change_role(
                uow, _user("usr_owner", "tnt_other"), workspace_id, "usr_owner", WorkspaceRole.VIEWER
            )


async def test_a_principal_without_a_user_changes_nothing(database) -> None:
    workspace_id = await _workspace(database, usr_editor="editor")
    for principal in (Principal(kind="service", service="ai", tenant_id=TENANT), Principal(kind="anonymous")):
        with pytest.raises(Forbidden):
            async with _work(database) as uow:
                await service.remove_member(uow, principal, workspace_id, "usr_editor")
    assert await _count(database, WorkspaceMember) == 2


# Invitations --------------------------------------------------------------------------------


async def _member(database: Database, workspace_id: str, user_id: str) -> WorkspaceMember:
    async with database.read() as session:
        stmt = select(WorkspaceMember).where(
            col(WorkspaceMember.workspace_id) == workspace_id, col(WorkspaceMember.user_id) == user_id
        )
        return (await session.execute(stmt)).scalar_one()


async def _invite(
    database: Database, workspace_id: str, by: str, role: WorkspaceRole, email: str | None = None
) -> str:
    inviter = await _member(database, workspace_id, by)
    async with _work(database) as uow:
        _, code = await service.create_invitation(uow, _user(by), inviter, role, email)
    remember_secret(code)
    return code


@pytest.mark.parametrize(
    ("inviter_role", "role", "allowed"),
    [
        ("editor", WorkspaceRole.OWNER, False),
        ("editor", WorkspaceRole.EDITOR, True),
        ("commenter", WorkspaceRole.EDITOR, False),
        ("viewer", WorkspaceRole.VIEWER, True),
    ],
)
async def test_an_inviter_grants_at_most_their_own_role(database, inviter_role, role, allowed) -> None:
    workspace_id = await _workspace(database, usr_inviter=inviter_role)
    if allowed:
        await _invite(database, workspace_id, "usr_inviter", role)
    else:
        with pytest.raises(Forbidden) as refused:
            await _invite(database, workspace_id, "usr_inviter", role)
        assert refused.value.extensions == {"role": role.value}
    assert await _count(database, Invitation) == int(allowed)


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "two@@example.com", f"{'x' * 65}@example.com"])
async def test_an_invitation_email_must_look_like_one(database, email) -> None:
    workspace_id = await _workspace(database)
    with pytest.raises(BadUserInput) as refused:
        await _invite(database, workspace_id, "usr_owner", WorkspaceRole.VIEWER, email)
    assert refused.value.extensions == {"field": "email"}
    assert await _count(database, Invitation) == 0


async def test_an_invitation_is_accepted_once_by_a_non_member_before_it_expires(database) -> None:
    workspace_id = await _workspace(database, usr_editor="editor")
    code = await _invite(database, workspace_id, "usr_owner", WorkspaceRole.COMMENTER, " Fan@Example.com ")
    with pytest.raises(BadUserInput, match="already a member"):
        async with _work(database) as uow:
            await service.accept_invitation(uow, _user("usr_editor"), code)
    async with _work(database) as uow:
        _, joined = await service.accept_invitation(uow, _user("usr_fan"), f"  {code} ")
    assert (joined.role, joined.email) == ("commenter", "fan@example.com")
    with pytest.raises(BadUserInput, match="already used"):
        async with _work(database) as uow:
            await service.accept_invitation(uow, _user("usr_late"), code)
    with pytest.raises(BadUserInput, match="Unknown invitation code"):
        async with _work(database) as uow:
            await service.accept_invitation(uow, _user("usr_fan", "tnt_other"), code)

    expired = await _invite(database, workspace_id, "usr_owner", WorkspaceRole.VIEWER)
    async with database.write() as session:
        row = (
            await session.execute(select(Invitation).where(col(Invitation.accepted_at).is_(None)))
        ).scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    with pytest.raises(BadUserInput, match="expired"):
        async with _work(database) as uow:
            await service.accept_invitation(uow, _user("usr_late"), expired)
    assert await _count(database, WorkspaceMember) == 3


# Versioned edits ----------------------------------------------------------------------------


async def test_a_stale_or_invalid_edit_leaves_the_project_at_its_version(database) -> None:
    workspace_id = await _workspace(database)
    async with _work(database) as uow:
        project = await service.create_project(
            uow, OWNER, workspace_id, ProjectType.PLAYLIST_DRAFT, "Draft", None
        )
    owner = await _member(database, workspace_id, "usr_owner")
    assert (project.version, project.content) == (1, content.EMPTY[ProjectType.PLAYLIST_DRAFT])
    async with _work(database) as uow:
        row = await uow.session.get(Project, project.id)
        assert row is not None
        edited = await service.update_project(uow, OWNER, ProjectAccess(row, owner), 1, [_add("t1")], "first")
    assert (edited.version, edited.content["trackIds"]) == (2, ["t1"])
    for version, operations, message, error in [
        (1, [_add("t2")], None, Conflict),
        (2, [_add("t2")], "x" * 501, BadUserInput),
        (2, [{"op": "remove", "path": "/trackIds/5"}], None, BadUserInput),
    ]:
        with pytest.raises(error):
            async with _work(database) as uow:
                row = await uow.session.get(Project, project.id)
                assert row is not None
                await service.update_project(
                    uow, OWNER, ProjectAccess(row, owner), version, operations, message
                )
    async with database.read() as session:
        stored = await session.get(Project, project.id)
    assert stored is not None and (stored.version, stored.content["trackIds"]) == (2, ["t1"])
    assert len(await _events(database, de.ProjectChanged.TYPE)) == 1
