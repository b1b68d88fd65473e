"""Workspaces, their members, invitations and presence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from shared.mutations import unit_of_work
from shared.permissions.resources import granted
from subgraphs.collaboration import service
from subgraphs.collaboration.access import WorkspaceRole, on_workspace
from subgraphs.collaboration.models import Invitation as InvitationRow
from subgraphs.collaboration.types import (
    CollabInfo,
    PresenceEntry,
    Workspace,
    WorkspaceMember,
    readable_workspace,
)


@strawberry.input(description="A new workspace.")
class CreateWorkspaceInput:
    name: str = strawberry.field(description="The workspace's name, 1 to 100 characters.")


@strawberry.input(description="An invitation into a workspace.")
class CreateWorkspaceInvitationInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    role: WorkspaceRole = strawberry.field(
        description="Role the invitee gets; at most your own (else FORBIDDEN)."
    )
    email: str | None = strawberry.field(default=None, description="Who it is for; omit for a link.")


@strawberry.input(description="An invitation code to redeem.")
class AcceptWorkspaceInvitationInput:
    code: str = strawberry.field(
        description="The code from `createWorkspaceInvitation`; unknown, used or expired: BAD_USER_INPUT."
    )


@strawberry.input(description="A workspace member and their new role.")
class ChangeWorkspaceMemberRoleInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    user_id: strawberry.ID = strawberry.field(description="Accounts user id of the member.")
    role: WorkspaceRole = strawberry.field(
        description="The new role; a workspace keeps at least one owner (CONFLICT)."
    )


@strawberry.input(description="A member to remove from a workspace (yourself to leave).")
class RemoveWorkspaceMemberInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    user_id: strawberry.ID = strawberry.field(
        description="Accounts user id of the member; the last owner cannot go (CONFLICT)."
    )


@strawberry.input(description="Where you are and what you look at.")
class UpdatePresenceInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    viewing: str | None = strawberry.field(default=None, description="A project id, or what you look at.")


@strawberry.type(description="The workspace created.")
class WorkspacePayload:
    workspace: Workspace = strawberry.field(description="The new workspace; you are its owner.")


@strawberry.type(description="An invitation into a workspace, single use.")
class WorkspaceInvitation:
    id: strawberry.ID = strawberry.field(description="Invitation id (opaque).")
    role: WorkspaceRole = strawberry.field(description="The role the invitee gets.")
    email: str | None = strawberry.field(
        description="Who it is for; null for an invitation link anyone may use."
    )
    expires_at: datetime = strawberry.field(
        description="When the code stops working (UTC), 7 days after creation."
    )

    @classmethod
    def from_row(cls, row: InvitationRow) -> WorkspaceInvitation:
        return cls(
            id=strawberry.ID(row.id), role=WorkspaceRole(row.role), email=row.email, expires_at=row.expires_at
        )


@strawberry.type(description="The new invitation and its one-time code.")
class WorkspaceInvitationPayload:
    invitation: WorkspaceInvitation = strawberry.field(description="The invitation created.")
    code: str = strawberry.field(description="Shown once; send it to the invitee.")


@strawberry.type(description="The membership after the change.")
class WorkspaceMemberPayload:
    member: WorkspaceMember = strawberry.field(description="The member, with their current role.")


@strawberry.type(description="Who left which workspace.")
class RemoveWorkspaceMemberPayload:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    user_id: strawberry.ID = strawberry.field(description="Accounts user id of the removed member.")


@strawberry.type(description="Who is in the workspace now.")
class PresencePayload:
    present: list[PresenceEntry] = strawberry.field(description="Everyone present, you included.")


@strawberry.type
class WorkspaceQuery:
    @strawberry.field(description="A workspace you are a member of; null for any other.")
    async def workspace(
        self,
        info: CollabInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration workspace id.")],
    ) -> Workspace | None:
        return await readable_workspace(info, str(id))


@strawberry.type
class WorkspaceMutation:
    @strawberry.mutation(description="Make a workspace; you are its owner.")
    async def create_workspace(
        self,
        info: CollabInfo,
        input: Annotated[CreateWorkspaceInput, strawberry.argument(description="The workspace's name.")],
    ) -> WorkspacePayload:
        async with unit_of_work(info, {"name": input.name}) as uow:
            row = await service.create_workspace(uow, info.context.principal, input.name)
        return WorkspacePayload(workspace=Workspace.from_row(row, WorkspaceRole.OWNER))

    @strawberry.mutation(
        description="Invite by email or link: single use, expires in 7 days, your role at most.",
        extensions=[on_workspace("input.workspaceId")],
    )
    async def create_workspace_invitation(
        self,
        info: CollabInfo,
        input: Annotated[
            CreateWorkspaceInvitationInput, strawberry.argument(description="Workspace, role and invitee.")
        ],
    ) -> WorkspaceInvitationPayload:
        audit = {"workspaceId": input.workspace_id, "role": input.role.value}
        async with unit_of_work(info, audit) as uow:
            row, code = await service.create_invitation(
                uow, info.context.principal, granted(info).resource, input.role, input.email
            )
        return WorkspaceInvitationPayload(invitation=WorkspaceInvitation.from_row(row), code=code)

    @strawberry.mutation(description="Join a workspace with an invitation code.")
    async def accept_workspace_invitation(
        self,
        info: CollabInfo,
        input: Annotated[
            AcceptWorkspaceInvitationInput, strawberry.argument(description="The invitation code.")
        ],
    ) -> WorkspacePayload:
        async with unit_of_work(info) as uow:
            row, member = await service.accept_invitation(uow, info.context.principal, input.code)
        return WorkspacePayload(workspace=Workspace.from_row(row, member.role))

    @strawberry.mutation(
        description="Change a member's role (owners).", extensions=[on_workspace("input.workspaceId")]
    )
    async def change_workspace_member_role(
        self,
        info: CollabInfo,
        input: Annotated[
            ChangeWorkspaceMemberRoleInput, strawberry.argument(description="Workspace, member and role.")
        ],
    ) -> WorkspaceMemberPayload:
        audit = {"workspaceId": input.workspace_id, "userId": input.user_id, "role": input.role.value}
        async with unit_of_work(info, audit) as uow:
            row = await service.change_role(
                uow, info.context.principal, str(input.workspace_id), str(input.user_id), input.role
            )
        return WorkspaceMemberPayload(member=WorkspaceMember.from_row(row))

    @strawberry.mutation(
        description="Remove a member (owners), or leave (yourself).",
        extensions=[on_workspace("input.workspaceId", self_argument="input.userId")],
    )
    async def remove_workspace_member(
        self,
        info: CollabInfo,
        input: Annotated[
            RemoveWorkspaceMemberInput, strawberry.argument(description="Workspace and member.")
        ],
    ) -> RemoveWorkspaceMemberPayload:
        async with unit_of_work(info, {"workspaceId": input.workspace_id}) as uow:
            await service.remove_member(
                uow, info.context.principal, str(input.workspace_id), str(input.user_id)
            )
        return RemoveWorkspaceMemberPayload(workspace_id=input.workspace_id, user_id=input.user_id)

    @strawberry.mutation(
        description="Say you are here, and what you look at; repeat as a heartbeat.",
        extensions=[on_workspace("input.workspaceId")],
    )
    async def update_presence(
        self,
        info: CollabInfo,
        input: Annotated[
            UpdatePresenceInput, strawberry.argument(description="Workspace and what you look at.")
        ],
    ) -> PresencePayload:
        entries = await service.update_presence(info.context.runtime, granted(info).resource, input.viewing)
        return PresencePayload(present=[PresenceEntry.from_entry(entry) for entry in entries])
