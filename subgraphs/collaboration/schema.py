"""Query, mutations and subscriptions of collaboration: thin, the rules are in service.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from shared.config import Settings
from shared.errors import BadUserInput, Forbidden, NotFound, ResyncRequired
from shared.events import PositionLost, StreamHub, is_event_id
from shared.mutations import unit_of_work
from shared.schema import PlatformSchema, build_schema
from subgraphs.collaboration import access, events, presence, service
from subgraphs.collaboration.access import WorkspaceRole
from subgraphs.collaboration.content import ProjectType
from subgraphs.collaboration.events import MEMBERSHIP_KINDS, EventKind
from subgraphs.collaboration.models import Comment as CommentRow
from subgraphs.collaboration.models import Project as ProjectRow
from subgraphs.collaboration.repository import CommentRepository, ProjectRepository
from subgraphs.collaboration.types import (
    Asset,
    CollabInfo,
    Comment,
    Playlist,
    PresenceEntry,
    Project,
    Track,
    User,
    Workspace,
    WorkspaceEvent,
    WorkspaceMember,
    readable_project,
    readable_workspace,
)


async def _published(info: CollabInfo, outcome: service.Outcome) -> None:
    """After commit: append the change's events, and let the answer read the new state."""
    runtime = info.context.runtime
    await events.publish(runtime.services.event_streams, runtime.db, outcome.events)
    await info.context.after_write()


def _tenant(info: CollabInfo) -> str:
    tenant_id = info.context.principal.tenant_id
    if not tenant_id or not info.context.principal.user_id:
        raise Forbidden("A signed-in user is required")
    return tenant_id


async def _project_for(
    info: CollabInfo, project_id: str, coordinate: str, *, deleted: bool = False
) -> ProjectRow:
    """The project, if the caller's workspace role allows `coordinate` on it."""
    async with info.context.runtime.db.read() as session:
        row = await ProjectRepository(session, _tenant(info)).get(project_id, include_deleted=deleted)
    if row is None or (deleted and row.deleted_at is None):
        raise NotFound("Project not found", id=project_id)
    await access.require(info.context, row.workspace_id, coordinate)
    return row


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


@strawberry.input(description="A new project in a workspace.")
class CreateProjectInput:
    workspace_id: strawberry.ID = strawberry.field(description="Collaboration workspace id.")
    type: ProjectType = strawberry.field(
        description="What the project holds; fixes its content's shape for good."
    )
    title: str = strawberry.field(description="The project's title, 1 to 200 characters.")
    content: JSON | None = strawberry.field(default=None, description="Initial content; default: empty.")


@strawberry.input(description="Operations on a project's content, made on a known version.")
class UpdateProjectInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    version: int = strawberry.field(description="The version the operations were made on.")
    operations: JSON = strawberry.field(description="JSON Patch (RFC 6902) operations, 1 to 100.")
    message: str | None = strawberry.field(
        default=None, description="A note on the change, up to 500 characters."
    )


@strawberry.input(description="An old version of a project to bring back as a new version.")
class RestoreProjectVersionInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    version: int = strawberry.field(description="The current version (as for updateProject).")
    restore: int = strawberry.field(description="The version whose content comes back.")
    message: str | None = strawberry.field(
        default=None, description="A note on the restore, up to 500 characters."
    )


@strawberry.input(description="A project, by id.")
class ProjectIdInput:
    id: strawberry.ID = strawberry.field(description="Collaboration project id.")


@strawberry.input(description="A comment on a project, or a reply in a thread.")
class AddCommentInput:
    project_id: strawberry.ID = strawberry.field(description="Collaboration project id.")
    body: str = strawberry.field(description="The text, 1 to 5000 characters.")
    reply_to: strawberry.ID | None = strawberry.field(
        default=None, description="Comment id to reply to (its thread); null starts a new thread."
    )
    mentions: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Accounts user ids of workspace members, up to 20."
    )


@strawberry.input(description="A comment, by id.")
class CommentIdInput:
    id: strawberry.ID = strawberry.field(
        description="Comment id; for (un)resolving, any comment of the thread."
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


@strawberry.type(description="The project after the change.")
class ProjectPayload:
    project: Project = strawberry.field(description="The project, with its new version.")


@strawberry.type(description="The comment after the change.")
class CommentPayload:
    comment: Comment = strawberry.field(
        description="The comment (for (un)resolving, its thread's first comment)."
    )


@strawberry.type(description="Who is in the workspace now.")
class PresencePayload:
    present: list[PresenceEntry] = strawberry.field(description="Everyone present, you included.")


@strawberry.type
class Query:
    @strawberry.field(description="A workspace you are a member of; null for any other.")
    async def workspace(
        self,
        info: CollabInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration workspace id.")],
    ) -> Workspace | None:
        return await readable_workspace(info, str(id))

    @strawberry.field(description="A project of one of your workspaces; null for any other.")
    async def project(
        self,
        info: CollabInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration project id.")],
    ) -> Project | None:
        return await readable_project(info, str(id))


async def _workspace_answer(info: CollabInfo, workspace_id: str) -> Workspace:
    workspace = await readable_workspace(info, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found", id=workspace_id)
    return workspace


async def _project_answer(info: CollabInfo, project_id: str) -> Project:
    async with info.context.runtime.db.read() as session:
        row = await ProjectRepository(session, _tenant(info)).get(project_id, include_deleted=True)
    assert row is not None
    return Project.from_row(row)


@strawberry.type
class WorkspaceMutation:
    @strawberry.mutation(description="Make a workspace; you are its owner.")
    async def create_workspace(
        self,
        info: CollabInfo,
        input: Annotated[CreateWorkspaceInput, strawberry.argument(description="The workspace's name.")],
    ) -> WorkspacePayload:
        _tenant(info)
        async with unit_of_work(info, {"name": input.name}) as uow:
            row, outcome = await service.create_workspace(uow.session, info.context.principal, input.name)
            uow.target_id = row.id
        await _published(info, outcome)
        return WorkspacePayload(workspace=await _workspace_answer(info, row.id))

    @strawberry.mutation(
        description="Invite by email or link: single use, expires in 7 days, your role at most."
    )
    async def create_workspace_invitation(
        self,
        info: CollabInfo,
        input: Annotated[
            CreateWorkspaceInvitationInput, strawberry.argument(description="Workspace, role and invitee.")
        ],
    ) -> WorkspaceInvitationPayload:
        inviter = await access.require(
            info.context, str(input.workspace_id), "Mutation.createWorkspaceInvitation"
        )
        audit = {"workspaceId": input.workspace_id, "role": input.role.value}
        async with unit_of_work(info, audit) as uow:
            invitation, code = await service.create_invitation(
                uow.session, info.context.principal, inviter, input.role, input.email
            )
            uow.target_id = invitation.id
        shown = WorkspaceInvitation(
            id=strawberry.ID(invitation.id),
            role=WorkspaceRole(invitation.role),
            email=invitation.email,
            expires_at=invitation.expires_at,
        )
        return WorkspaceInvitationPayload(invitation=shown, code=code)

    @strawberry.mutation(description="Join a workspace with an invitation code.")
    async def accept_workspace_invitation(
        self,
        info: CollabInfo,
        input: Annotated[
            AcceptWorkspaceInvitationInput, strawberry.argument(description="The invitation code.")
        ],
    ) -> WorkspacePayload:
        _tenant(info)
        async with unit_of_work(info, {}) as uow:
            member, outcome = await service.accept_invitation(uow.session, info.context.principal, input.code)
            uow.target_id = member.workspace_id
        await _published(info, outcome)
        return WorkspacePayload(workspace=await _workspace_answer(info, member.workspace_id))

    @strawberry.mutation(description="Change a member's role (owners).")
    async def change_workspace_member_role(
        self,
        info: CollabInfo,
        input: Annotated[
            ChangeWorkspaceMemberRoleInput, strawberry.argument(description="Workspace, member and role.")
        ],
    ) -> WorkspaceMemberPayload:
        workspace_id = str(input.workspace_id)
        await access.require(info.context, workspace_id, "Mutation.changeWorkspaceMemberRole")
        audit = {"workspaceId": workspace_id, "userId": input.user_id, "role": input.role.value}
        async with unit_of_work(info, audit) as uow:
            uow.target_id = workspace_id
            member, outcome = await service.change_role(
                uow.session, info.context.principal, workspace_id, str(input.user_id), input.role
            )
        await _published(info, outcome)
        return WorkspaceMemberPayload(member=WorkspaceMember.from_row(member))

    @strawberry.mutation(description="Remove a member (owners), or leave (yourself).")
    async def remove_workspace_member(
        self,
        info: CollabInfo,
        input: Annotated[
            RemoveWorkspaceMemberInput, strawberry.argument(description="Workspace and member.")
        ],
    ) -> RemoveWorkspaceMemberPayload:
        workspace_id, user_id = str(input.workspace_id), str(input.user_id)
        if user_id == info.context.principal.user_id:
            await access.require(info.context, workspace_id, "Workspace.read", "read")
        else:
            await access.require(info.context, workspace_id, "Mutation.removeWorkspaceMember")
        async with unit_of_work(info, {"workspaceId": workspace_id}) as uow:
            uow.target_id = workspace_id
            outcome = await service.remove_member(uow.session, info.context.principal, workspace_id, user_id)
        await _published(info, outcome)
        return RemoveWorkspaceMemberPayload(workspace_id=input.workspace_id, user_id=input.user_id)

    @strawberry.mutation(description="Say you are here, and what you look at; repeat as a heartbeat.")
    async def update_presence(
        self,
        info: CollabInfo,
        input: Annotated[
            UpdatePresenceInput, strawberry.argument(description="Workspace and what you look at.")
        ],
    ) -> PresencePayload:
        workspace_id = str(input.workspace_id)
        member = await access.require(info.context, workspace_id, "Workspace.read", "read")
        if input.viewing is not None and len(input.viewing) > 200:
            raise BadUserInput("viewing has at most 200 characters", field="viewing")
        redis = info.context.runtime.redis
        if await presence.touch(redis, workspace_id, member.user_id, input.viewing):
            payload = {"userId": member.user_id, "state": "present", "viewing": input.viewing}
            streams = info.context.runtime.services.event_streams
            await events.publish_ephemeral(
                streams, workspace_id, EventKind.PRESENCE_CHANGED, member.user_id, payload
            )
        workspace = await _workspace_answer(info, workspace_id)
        return PresencePayload(present=await workspace.presence(info))


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(description="Start a project in a workspace (editors).")
    async def create_project(
        self,
        info: CollabInfo,
        input: Annotated[
            CreateProjectInput, strawberry.argument(description="Workspace, type, title and content.")
        ],
    ) -> ProjectPayload:
        workspace_id = str(input.workspace_id)
        await access.require(info.context, workspace_id, "Mutation.createProject")
        audit = {"workspaceId": workspace_id, "type": input.type.value}
        async with unit_of_work(info, audit) as uow:
            row, outcome = await service.create_project(
                uow.session, info.context.principal, workspace_id, input.type, input.title, input.content
            )
            uow.target_id = row.id
        await _published(info, outcome)
        return ProjectPayload(project=Project.from_row(row))

    @strawberry.mutation(description="Apply operations made on `version`; a stale version gets CONFLICT.")
    async def update_project(
        self,
        info: CollabInfo,
        input: Annotated[
            UpdateProjectInput, strawberry.argument(description="Project, base version and operations.")
        ],
    ) -> ProjectPayload:
        project_id = str(input.id)
        await _project_for(info, project_id, "Mutation.updateProject")
        audit = {"projectId": project_id, "version": input.version}
        async with unit_of_work(info, audit) as uow:
            uow.target_id = project_id
            row = await ProjectRepository(uow.session, _tenant(info)).require(project_id)
            row, outcome = await service.update_project(
                uow.session, info.context.principal, row, input.version, input.operations, input.message
            )
        await _published(info, outcome)
        return ProjectPayload(project=await _project_answer(info, project_id))

    @strawberry.mutation(description="Make a new version equal to an old one.")
    async def restore_project_version(
        self,
        info: CollabInfo,
        input: Annotated[
            RestoreProjectVersionInput,
            strawberry.argument(description="Project, current version and the one to restore."),
        ],
    ) -> ProjectPayload:
        project_id = str(input.id)
        await _project_for(info, project_id, "Mutation.restoreProjectVersion")
        audit = {"projectId": project_id, "restore": input.restore}
        async with unit_of_work(info, audit) as uow:
            uow.target_id = project_id
            row = await ProjectRepository(uow.session, _tenant(info)).require(project_id)
            row, outcome = await service.restore_version(
                uow.session, info.context.principal, row, input.version, input.restore, input.message
            )
        await _published(info, outcome)
        return ProjectPayload(project=await _project_answer(info, project_id))

    @strawberry.mutation(description="Soft-delete a project (editors); restorable.")
    async def delete_project(
        self,
        info: CollabInfo,
        input: Annotated[ProjectIdInput, strawberry.argument(description="The project to delete.")],
    ) -> ProjectPayload:
        return await _set_deleted(info, str(input.id), True)

    @strawberry.mutation(description="Bring back a deleted project.")
    async def restore_project(
        self,
        info: CollabInfo,
        input: Annotated[ProjectIdInput, strawberry.argument(description="The deleted project.")],
    ) -> ProjectPayload:
        return await _set_deleted(info, str(input.id), False)


async def _set_deleted(info: CollabInfo, project_id: str, deleted: bool) -> ProjectPayload:
    operation = "deleteProject" if deleted else "restoreProject"
    await _project_for(info, project_id, f"Mutation.{operation}", deleted=not deleted)
    async with unit_of_work(info, {"projectId": project_id}) as uow:
        uow.target_id = project_id
        row = await ProjectRepository(uow.session, _tenant(info)).get(project_id, include_deleted=True)
        assert row is not None
        row, outcome = await service.set_project_deleted(uow.session, info.context.principal, row, deleted)
    await _published(info, outcome)
    return ProjectPayload(project=await _project_answer(info, project_id))


async def _comment_for(info: CollabInfo, comment_id: str) -> CommentRow:
    async with info.context.runtime.db.read() as session:
        row = await CommentRepository(session, _tenant(info)).get(comment_id)
    if row is None:
        raise NotFound("Comment not found", id=comment_id)
    await access.require(info.context, row.workspace_id, "Mutation.resolveComment")
    return row


@strawberry.type
class CommentMutation:
    @strawberry.mutation(description="Comment on a project, or reply in a thread (commenters).")
    async def add_comment(
        self,
        info: CollabInfo,
        input: Annotated[
            AddCommentInput, strawberry.argument(description="Project, text, thread and mentions.")
        ],
    ) -> CommentPayload:
        project_id = str(input.project_id)
        await _project_for(info, project_id, "Mutation.addComment")
        async with unit_of_work(info, {"projectId": project_id}) as uow:
            row = await ProjectRepository(uow.session, _tenant(info)).require(project_id)
            comment, outcome = await service.add_comment(
                uow.session,
                info.context.principal,
                row,
                input.body,
                str(input.reply_to) if input.reply_to else None,
                [str(id) for id in input.mentions],
            )
            uow.target_id = comment.id
        await _published(info, outcome)
        return CommentPayload(comment=Comment.from_row(comment))

    @strawberry.mutation(description="Mark a thread resolved (through its first comment).")
    async def resolve_comment(
        self,
        info: CollabInfo,
        input: Annotated[CommentIdInput, strawberry.argument(description="A comment of the thread.")],
    ) -> CommentPayload:
        return await _resolve(info, str(input.id), True)

    @strawberry.mutation(description="Reopen a resolved thread.")
    async def unresolve_comment(
        self,
        info: CollabInfo,
        input: Annotated[CommentIdInput, strawberry.argument(description="A comment of the thread.")],
    ) -> CommentPayload:
        return await _resolve(info, str(input.id), False)


async def _resolve(info: CollabInfo, comment_id: str, resolved: bool) -> CommentPayload:
    await _comment_for(info, comment_id)
    async with unit_of_work(info, {"id": comment_id}) as uow:
        uow.target_id = comment_id
        row = await CommentRepository(uow.session, _tenant(info)).require(comment_id)
        comment, outcome = await service.set_resolved(uow.session, info.context.principal, row, resolved)
    await _published(info, outcome)
    return CommentPayload(comment=Comment.from_row(comment))


@strawberry.type
class Mutation(WorkspaceMutation, ProjectMutation, CommentMutation):
    pass


def _check_after(after: str | None) -> None:
    if after is not None and not is_event_id(after):
        raise BadUserInput("after must be an event id (as delivered: 1700000000000-0)", field="after")


async def _events(
    info: CollabInfo, workspace_id: str, after: str | None
) -> AsyncGenerator[WorkspaceEvent, None]:
    hub: StreamHub = info.context.runtime.services.stream_hub
    me = info.context.principal.user_id
    try:
        async for event_id, fields in hub.follow(events.stream_key(workspace_id), after):
            event = events.decode(event_id, fields)
            if event.kind in MEMBERSHIP_KINDS and event.payload.get("userId") == me:
                if await access.fresh_membership(info.context, workspace_id) is None:
                    raise Forbidden("You are no longer a member of this workspace", workspaceId=workspace_id)
            yield WorkspaceEvent.from_event(event)
    except PositionLost as error:
        raise ResyncRequired(str(error), workspaceId=workspace_id) from error


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Everything that happens in a workspace, from `after` on (or from now)."
    )
    async def workspace_events(
        self,
        info: CollabInfo,
        workspace_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Collaboration workspace id of a workspace you are a member of."),
        ],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this event id (`WorkspaceEvent.id`); null for new events only."
            ),
        ] = None,
    ) -> AsyncGenerator[WorkspaceEvent, None]:
        _check_after(after)
        await access.require_now(info.context, str(workspace_id), "Subscription.workspaceEvents")
        async for event in _events(info, str(workspace_id), after):
            yield event

    @strawberry.subscription(
        description="Changes of one project (its operations and versions), from `after` on."
    )
    async def project_changes(
        self,
        info: CollabInfo,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="Collaboration project id.")],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this event id (`WorkspaceEvent.id`); null for new events only."
            ),
        ] = None,
    ) -> AsyncGenerator[WorkspaceEvent, None]:
        _check_after(after)
        async with info.context.runtime.db.read() as session:
            project = await ProjectRepository(session, _tenant(info)).get(str(project_id))
        if project is None:
            raise NotFound("Project not found", id=str(project_id))
        await access.require_now(info.context, project.workspace_id, "Subscription.workspaceEvents")
        async for event in _events(info, project.workspace_id, after):
            if event.project_id == project.id:
                yield event


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(
        settings,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Workspace, User, Track, Playlist, Asset],
    )
